// The home screen under the search box (when nothing is typed): the sections of GET /music/home
// (trending, recently played, your conversions, ready to sing) as rows of cards that play, the songs
// saved on this device, and a first-run language picker (PATCH /users/me preferences).
// Until the server has /music/home (404), search.js shows what is trending instead.

import { api, describeError } from '../api.js';
import { h, clear, cover, formatTime, languageName, toast } from '../ui.js';
import { player } from '../player.js';
import { loadOffline, savedTracks } from '../offline.js';

// The codes PATCH /users/me accepts (openapi.json: PreferencesUpdate.preferred_languages), in the
// order the picker offers them when the catalog does not list its own.
const ACCEPTED = ['hi', 'ta', 'te', 'pa', 'bn', 'mr', 'ml', 'kn', 'gu', 'en', 'ur', 'bho', 'or', 'as', 'ne',
  'raj', 'si', 'ko', 'ja', 'es', 'ar', 'fr', 'pt', 'de'];
const SKIPPED_KEY = 'melody.languages_skipped';

let profile = null; // a promise of GET /users/me, once per session
let forcePicker = false;

export function resetHome() {
  profile = null;
  forcePicker = false;
}

function getProfile() {
  if (!profile) profile = api('/users/me', { offlineFallback: true }).catch((err) => { profile = null; throw err; });
  return profile;
}

/** The menu's "Languages": show the picker on the home screen. */
export function openLanguagePicker() {
  forcePicker = true;
  if (location.hash === '#/search' || location.hash === '' || location.hash === '#/') {
    window.dispatchEvent(new Event('hashchange'));
  } else {
    location.hash = '#/search';
  }
}

function skipped() {
  try { return localStorage.getItem(SKIPPED_KEY) === '1'; } catch { return false; }
}

function setSkipped() {
  try { localStorage.setItem(SKIPPED_KEY, '1'); } catch { /* storage disabled */ }
}

/**
 * The language picker, into `box`, when the user has no preferred languages yet (or asked for it).
 * `catalogLanguages` (from /music/home) orders and limits the chips; `onSaved` runs after a save.
 */
export async function showLanguagePicker(box, catalogLanguages, onSaved) {
  clear(box);
  box.hidden = true;
  let me;
  try {
    me = await getProfile();
  } catch {
    return; // offline or the profile is unavailable: no picker now
  }
  const current = (me && me.preferences && me.preferences.preferred_languages) || [];
  const forced = forcePicker;
  forcePicker = false;
  if (!forced && (current.length || skipped())) return;

  // /music/home's `languages` are the ones its sections are in (the user's choice, or the `language`
  // asked for), not the catalog's: the chips offer the main catalog languages plus whatever is chosen.
  const offered = ACCEPTED.slice(0, 12);
  for (const code of [...current, ...(catalogLanguages || [])]) {
    if (typeof code === 'string' && ACCEPTED.includes(code) && !offered.includes(code)) offered.push(code);
  }
  const chosen = new Set(current);
  const chips = offered.map((code) => {
    const chip = h('button', { type: 'button', class: 'lang-chip', 'aria-pressed': String(chosen.has(code)), dataset: { lang: code } },
      languageName(code));
    chip.addEventListener('click', () => {
      if (chosen.has(code)) chosen.delete(code); else chosen.add(code);
      chip.setAttribute('aria-pressed', String(chosen.has(code)));
      save.disabled = chosen.size === 0;
    });
    return chip;
  });
  const msg = h('p', { class: 'form-msg', role: 'status' });
  const save = h('button', { type: 'button', class: 'btn btn-primary', disabled: chosen.size === 0 }, 'Save');
  const later = h('button', { type: 'button', class: 'btn btn-ghost' }, forced ? 'Cancel' : 'Not now');
  save.addEventListener('click', async () => {
    save.disabled = true;
    msg.textContent = 'Saving…';
    msg.classList.remove('is-error');
    const picked = offered.filter((code) => chosen.has(code));
    try {
      const updated = await api('/users/me', { method: 'PATCH', body: { preferences: { preferred_languages: picked } } });
      profile = Promise.resolve(updated);
      clear(box);
      box.hidden = true;
      toast(`Saved: ${picked.map(languageName).join(', ')}`);
      if (onSaved) onSaved(picked);
    } catch (err) {
      msg.textContent = describeError(err, 'Saving your choice');
      msg.classList.add('is-error');
      save.disabled = false;
    }
  });
  later.addEventListener('click', () => {
    if (!forced) setSkipped();
    clear(box);
    box.hidden = true;
  });
  box.append(
    h('h2', { id: 'lang-title' }, 'What do you listen to?'),
    h('p', { class: 'hint', id: 'lang-hint' }, 'Pick one or more. Your home screen shows these first; change them any time from the menu.'),
    h('div', { class: 'lang-chips', role: 'group', 'aria-labelledby': 'lang-title', 'aria-describedby': 'lang-hint' }, chips),
    h('div', { class: 'row' }, save, later),
    msg,
  );
  box.hidden = false;
}

function card(track) {
  const title = track.title || track.title_latin || 'Untitled';
  const latin = track.title_latin && track.title_latin !== track.title ? track.title_latin : null;
  const sub = [(track.artists || []).join(', '), track.duration_s ? formatTime(track.duration_s) : null].filter(Boolean).join(' · ');
  const button = h('button', { type: 'button', class: 'song-card', 'aria-label': `Play ${title}${latin ? ` (${latin})` : ''}`, dataset: { trackId: track.id || '' } },
    cover(title, 'cover-lg'),
    h('span', { class: 'song-card-title', dir: 'auto', lang: track.language || undefined }, title),
    latin ? h('span', { class: 'song-card-sub', dir: 'auto' }, latin) : null,
    sub ? h('span', { class: 'song-card-sub' }, sub) : null);
  button.addEventListener('click', () => player().load(track));
  return h('li', {}, button);
}

function section(id, title, tracks) {
  const headingId = `home-${id}-title`;
  return h('section', { class: 'home-section', id: `home-${id}`, 'aria-labelledby': headingId },
    h('h2', { class: 'list-title', id: headingId }, title),
    h('ul', { class: 'cards', 'aria-labelledby': headingId }, tracks.map(card)));
}

/** The songs saved for offline, as a section (also offline, from Cache Storage). */
export async function renderOfflineSection(box) {
  await loadOffline();
  clear(box);
  const tracks = savedTracks().map((meta) => ({ ...meta, id: meta.id || undefined, job_id: meta.id ? undefined : meta.key }));
  box.hidden = !tracks.length;
  if (tracks.length) box.append(section('offline', 'Saved on this device', tracks));
}

/** Render /music/home's sections into `box`; resolves with the answer (throws its error). */
export async function renderHome(box, { signal } = {}) {
  const body = await api('/music/home', { signal });
  clear(box);
  const sections = (body && body.sections) || [];
  for (const s of sections) {
    const items = (s.items || []).filter(Boolean);
    if (!items.length) continue;
    box.append(section(String(s.id || 'section').replace(/[^a-z0-9_-]/gi, ''), s.title || 'Songs', items));
  }
  box.hidden = !box.children.length;
  return body || {};
}
