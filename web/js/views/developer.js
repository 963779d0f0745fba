// The developer page (#/developer): API keys (create: shown once, with copy; list; revoke), the last
// 30 days of usage as an inline SVG bar chart, and a "try it" box that calls POST /b2b/query with a key.
// Loaded on demand (app.js imports it when the view opens): nothing of it is in the first load.
// A new key is kept in memory for this page only (never in storage): the server cannot show it again.

import { api, describeError, API_BASE } from '../api.js';
import { h, clear, toast } from '../ui.js';

const SVG = 'http://www.w3.org/2000/svg';
const CHART = { width: 600, height: 160, pad: 22 };

let freshKey = ''; // the key created on this page, for the "try it" box (memory only)

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

function formatDate(epoch) {
  if (!epoch) return 'never';
  return new Date(epoch * 1000).toLocaleString();
}

/** Bars of calls per day (attributes only: no inline styles, so the CSP holds). */
export function usageChart(days) {
  const max = Math.max(1, ...days.map((d) => d.calls));
  const { width, height, pad } = CHART;
  const step = (width - pad) / Math.max(1, days.length);
  const bar = Math.max(2, step - 3);
  const total = days.reduce((sum, d) => sum + d.calls, 0);
  const chart = svg('svg', {
    class: 'usage-chart', viewBox: `0 0 ${width} ${height + pad}`, role: 'img',
    'aria-label': `Calls per day, last ${days.length} days: ${total} in all`,
  });
  chart.append(svg('line', { x1: pad, y1: height, x2: width, y2: height, class: 'usage-axis' }));
  chart.append(svg('text', { x: 0, y: 12, class: 'usage-label' }, String(max)));
  days.forEach((day, i) => {
    const barHeight = Math.round((day.calls / max) * (height - 16));
    const rect = svg('rect', {
      x: Math.round(pad + i * step), y: height - barHeight, width: Math.round(bar), height: barHeight,
      class: 'usage-bar', 'data-date': day.date, 'data-calls': day.calls,
    }, svg('title', {}, `${day.date}: ${day.calls} calls, ${day.analyses} analyses`));
    chart.append(rect);
  });
  if (days.length) {
    chart.append(svg('text', { x: pad, y: height + 16, class: 'usage-label' }, days[0].date));
    chart.append(svg('text', { x: width, y: height + 16, class: 'usage-label', 'text-anchor': 'end' }, days[days.length - 1].date));
  }
  return chart;
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Key copied.');
  } catch {
    toast('Select the key and copy it yourself.', 'error');
  }
}

/** POST /b2b/query with an API key (not the session's token): the developer's own view of the API. */
async function tryQuery(key, text) {
  const response = await fetch(`${API_BASE}/b2b/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-API-Key': key },
    body: JSON.stringify({ text, limit: 5 }),
  });
  const body = await response.json().catch(() => null);
  const limits = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']
    .map((name) => `${name}: ${response.headers.get(name) ?? '—'}`).join(' · ');
  return { status: response.status, body, limits };
}

export function renderDeveloper(main) {
  clear(main);
  let alive = true;
  const keysList = h('ul', { class: 'dev-keys', id: 'dev-keys', 'aria-live': 'polite' });
  const created = h('div', { class: 'dev-created', id: 'dev-created', hidden: true });
  const usageBox = h('div', { class: 'dev-usage', id: 'dev-usage' }, h('p', { class: 'muted' }, 'Loading usage…'));
  const nameInput = h('input', { id: 'dev-key-name', type: 'text', maxlength: 80, required: true, value: 'My app', autocomplete: 'off' });
  const createForm = h('form', { class: 'dev-create', id: 'dev-create' },
    h('label', { for: 'dev-key-name' }, 'Key name'), nameInput,
    h('button', { type: 'submit', class: 'btn' }, 'Create key'));

  const tryKey = h('input', { id: 'dev-try-key', type: 'password', autocomplete: 'off', spellcheck: false, placeholder: 'mk_live_…' });
  const tryText = h('input', { id: 'dev-try-text', type: 'text', maxlength: 300, value: 'upbeat punjabi songs around 120 bpm', autocomplete: 'off' });
  const tryOut = h('div', { class: 'dev-try-out', id: 'dev-try-out', 'aria-live': 'polite' });
  const tryForm = h('form', { class: 'dev-try', id: 'dev-try' },
    h('label', { for: 'dev-try-key' }, 'API key'), tryKey,
    h('label', { for: 'dev-try-text' }, 'Query'), tryText,
    h('button', { type: 'submit', class: 'btn' }, 'Run query'));
  if (freshKey) tryKey.value = freshKey;

  main.append(
    h('h1', { tabindex: -1 }, 'Developer'),
    h('p', { class: 'muted' }, 'Keys for the Melody music API: natural-language queries, attribute and harmonic search, analysis.'),
    h('section', { 'aria-labelledby': 'dev-keys-h' }, h('h2', { id: 'dev-keys-h' }, 'API keys'), createForm, created, keysList),
    h('section', { 'aria-labelledby': 'dev-usage-h' }, h('h2', { id: 'dev-usage-h' }, 'Usage, last 30 days'), usageBox),
    h('section', { 'aria-labelledby': 'dev-try-h' }, h('h2', { id: 'dev-try-h' }, 'Try it'), tryForm, tryOut),
  );

  function keyRow(key) {
    const revoke = h('button', { type: 'button', class: 'btn btn-ghost', dataset: { keyId: key.key_id } }, 'Revoke');
    let armed = false;
    revoke.addEventListener('click', async () => {
      if (!armed) { armed = true; revoke.textContent = 'Confirm revoke'; return; }
      revoke.disabled = true;
      try {
        await api(`/developer/keys/${encodeURIComponent(key.key_id)}`, { method: 'DELETE' });
        toast(`Key “${key.name}” revoked.`);
        await loadKeys();
      } catch (err) {
        revoke.disabled = false;
        toast(describeError(err, 'Revoking keys'), 'error');
      }
    });
    return h('li', { class: `dev-key${key.active ? '' : ' dev-key-revoked'}`, dataset: { keyId: key.key_id } },
      h('span', { class: 'dev-key-name' }, key.name),
      h('code', { class: 'dev-key-prefix' }, key.prefix),
      h('span', { class: 'muted' }, `${key.plan.name} · ${key.plan.rate_per_s}/s · created ${formatDate(key.created_at)} · last used ${formatDate(key.last_used_at)}`),
      key.active ? revoke : h('span', { class: 'badge' }, 'revoked'));
  }

  async function loadKeys() {
    try {
      const body = await api('/developer/keys');
      if (!alive) return;
      clear(keysList);
      if (!body.items.length) keysList.append(h('li', { class: 'muted' }, 'No keys yet.'));
      body.items.forEach((key) => keysList.append(keyRow(key)));
    } catch (err) {
      if (alive) clear(keysList).append(h('li', { class: 'error' }, describeError(err, 'Developer keys')));
    }
  }

  async function loadUsage() {
    try {
      const body = await api('/developer/usage');
      if (!alive) return;
      clear(usageBox).append(
        usageChart(body.days),
        h('p', { class: 'muted', id: 'dev-usage-total' }, `${body.calls} calls, ${body.analyses} analyses billed`),
      );
    } catch (err) {
      if (alive) clear(usageBox).append(h('p', { class: 'error' }, describeError(err, 'Usage')));
    }
  }

  createForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = createForm.querySelector('button');
    button.disabled = true;
    try {
      const key = await api('/developer/keys', { method: 'POST', body: { name: nameInput.value.trim() || 'My app' } });
      freshKey = key.key;
      tryKey.value = key.key;
      const shown = h('input', { id: 'dev-new-key', type: 'text', readonly: true, value: key.key, 'aria-label': 'Your new API key' });
      clear(created).append(
        h('p', {}, 'Your new key. Copy it now: it will not be shown again.'),
        shown,
        h('button', { type: 'button', class: 'btn', id: 'dev-copy', onclick: () => copy(key.key) }, 'Copy'),
      );
      created.hidden = false;
      shown.select();
      await loadKeys();
    } catch (err) {
      toast(describeError(err, 'Developer keys'), 'error');
    } finally {
      button.disabled = false;
    }
  });

  tryForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = tryKey.value.trim();
    if (!key) { toast('Paste an API key first.', 'error'); return; }
    clear(tryOut).append(h('p', { class: 'muted' }, 'Asking…'));
    try {
      const { status, body, limits } = await tryQuery(key, tryText.value);
      if (!alive) return;
      clear(tryOut);
      tryOut.append(h('p', { class: 'muted', id: 'dev-try-limits' }, `HTTP ${status} · ${limits}`));
      if (status !== 200 || !body) {
        tryOut.append(h('p', { class: 'error' }, (body && body.error && body.error.message) || 'The query failed.'));
        return;
      }
      tryOut.append(
        h('pre', { class: 'dev-json', id: 'dev-try-interpretation' }, JSON.stringify(body.interpretation, null, 2)),
        h('p', {}, `Confidence ${Math.round(body.confidence * 100)} %`),
        h('ol', { class: 'dev-try-items' }, body.items.map((item) => h('li', {},
          `${item.title}${item.artists && item.artists.length ? ` — ${item.artists.join(', ')}` : ''}`,
          item.bpm ? ` · ${Math.round(item.bpm)} bpm` : '', item.camelot ? ` · ${item.camelot}` : ''))),
      );
      loadUsage();
    } catch {
      if (alive) clear(tryOut).append(h('p', { class: 'error' }, 'The query failed: check your connection.'));
    }
  });

  loadKeys();
  loadUsage();
  return () => { alive = false; };
}
