// The library: saved songs, the user's uploads and recently played, with each song's instrumental
// status. Uploads can be renamed, deleted, downloaded stem by stem and linked to the catalog song
// their tags match; conversions that failed can be retried or removed.
// Offline, the last library answer comes from the service worker's cache.

import { api, describeError, ApiError } from '../api.js';
import { h, clear, cover, toast, stageLabel } from '../ui.js';
import {
  library, loadLibrary, onLibraryChange, removeFromLibrary, renameUpload, forgetUpload,
} from '../store.js';
import { player } from '../player.js';
import { trackRow } from './search.js';

const DISMISSED_KEY = 'melody.dismissed_suggestions';
const STEMS = [['instrumental', 'Instrumental'], ['vocals', 'Vocals'], ['original', 'Original']];
// Lossless copies, made on request (the first ask starts the export).
const WAV_STEMS = [['instrumental', 'Instrumental WAV'], ['vocals', 'Vocals WAV']];

function dismissed() {
  try { return new Set(JSON.parse(localStorage.getItem(DISMISSED_KEY) || '[]')); } catch { return new Set(); }
}

function dismiss(jobId) {
  const set = dismissed();
  set.add(jobId);
  try { localStorage.setItem(DISMISSED_KEY, JSON.stringify([...set].slice(-200))); } catch { /* storage disabled */ }
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * Download one stem: the API signs a URL that downloads with a readable name (Content-Disposition).
 * WAV is made on request: the API answers "preparing" until the export exists, so ask again.
 */
export async function downloadStem(jobId, stem, format = 'm4a', onWait = () => {}) {
  const path = `/audio/jobs/${encodeURIComponent(jobId)}/download/${encodeURIComponent(stem)}?format=${format}`;
  let body = await api(path);
  for (let tries = 0; body && body.status === 'preparing' && tries < 100; tries += 1) {
    onWait();
    await sleep(Math.min(10, Math.max(1, Number(body.retry_after_s) || 3)) * 1000);
    body = await api(path);
  }
  if (!body || typeof body.url !== 'string' || !/^(https?:\/\/|\/(?!\/))/i.test(body.url)) {
    throw new Error('bad download url');
  }
  const link = h('a', { href: body.url, download: body.filename || `${stem}.${format}`, rel: 'noopener', hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  return body;
}

/** Play an upload: its job's status carries the stems (and the original it was made from). */
async function playUpload(item, stem = 'instrumental') {
  const info = item.upload || {};
  const job = await api(`/audio/conversion-status/${encodeURIComponent(info.job_id || item.track_id)}`);
  const linked = item.track || {};
  const track = {
    ...linked,
    id: info.linked_track_id || null, // a linked catalog song: its Save and details
    play_id: item.track_id, // plays count on the upload's library entry
    title: info.title || linked.title || 'Your upload',
    artists: linked.artists || [],
  };
  player().load(track, job, { stem });
}

function uploadRow(item, redraw = () => {}) {
  const info = item.upload || { job_id: item.track_id, title: 'Your upload' };
  const jobId = info.job_id || item.track_id;
  const title = info.title || 'Your upload';
  const linked = item.track;
  const meta = ['Your upload'];
  if (linked && (linked.artists || []).length) meta.unshift(linked.artists.join(', '));
  if (item.play_count) meta.push(`${item.play_count} play${item.play_count === 1 ? '' : 's'}`);

  const titleEl = h('p', { class: 'track-title', dir: 'auto' }, title);
  const text = h('div', { class: 'track-text' }, titleEl, h('p', { class: 'track-meta' }, meta.join(' · ')),
    h('span', { class: 'badge badge-completed' }, 'Instrumental ready'));
  const play = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'aria-label': `Play ${title}` }, 'Play');
  play.addEventListener('click', async () => {
    play.disabled = true;
    try { await playUpload(item); } catch (err) { toast(describeError(err, 'Playing'), 'error'); }
    play.disabled = false;
  });
  const rename = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Rename ${title}` }, 'Rename');
  const del = h('button', { type: 'button', class: 'btn btn-small btn-ghost btn-danger', 'aria-label': `Delete ${title}` }, 'Delete');
  const downloads = h('div', { class: 'row downloads', role: 'group', 'aria-label': `Download ${title}` },
    h('span', { class: 'downloads-label' }, 'Download:'),
    [...STEMS.map(([stem, label]) => [stem, label, 'm4a']), ...WAV_STEMS.map(([stem, label]) => [stem, label, 'wav'])].map(([stem, label, format]) => {
      const btn = h('button', {
        type: 'button', class: 'btn btn-small btn-ghost', dataset: { stem, format }, 'aria-label': `Download ${label.toLowerCase()} of ${title}`,
      }, label);
      btn.addEventListener('click', async () => {
        btn.disabled = true;
        try {
          let told = false;
          const got = await downloadStem(jobId, stem, format, () => {
            if (!told) toast(`Preparing the ${label.toLowerCase()}…`);
            told = true;
          });
          toast(`Downloading “${got.filename || title}”`);
        } catch (err) {
          toast(err instanceof ApiError ? describeError(err, 'The download') : 'The download could not start.', 'error');
        } finally {
          btn.disabled = false;
        }
      });
      return btn;
    }));
  const panel = h('div', { class: 'upload-panel' });
  // A row kept through a redraw while it was being edited shows older data: redraw when done.
  const settle = () => { if (row.dataset.stale) redraw(); };
  const row = h('li', { class: 'track track-upload', dataset: { trackId: item.track_id, jobId } },
    cover(title), text, h('div', { class: 'track-actions' }, play, rename, del), downloads, panel);

  // "Is this <title> by <artists>?" for the catalog song the upload's tags match.
  const suggested = info.suggested_track;
  if (suggested && !info.linked_track_id && !dismissed().has(jobId)) {
    const who = (suggested.artists || []).join(', ');
    const yes = h('button', { type: 'button', class: 'btn btn-small btn-primary' }, 'Yes');
    const no = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'No');
    const box = h('div', { class: 'suggest', role: 'group', 'aria-label': 'Match this upload to a song' },
      h('p', {}, 'Is this ', h('strong', { dir: 'auto' }, suggested.title), who ? ' by ' : '', who ? h('strong', { dir: 'auto' }, who) : null, '?'),
      yes, no);
    yes.addEventListener('click', async () => {
      yes.disabled = true; no.disabled = true;
      try {
        await api(`/audio/jobs/${encodeURIComponent(jobId)}/link`, { method: 'POST', body: { track_id: suggested.track_id } });
        toast(`Linked to “${suggested.title}”`);
        box.remove();
        loadLibrary();
      } catch (err) {
        yes.disabled = false; no.disabled = false;
        toast(describeError(err, 'Linking'), 'error');
      }
    });
    no.addEventListener('click', () => { dismiss(jobId); box.remove(); });
    row.insertBefore(box, panel);
  }

  rename.addEventListener('click', () => {
    const input = h('input', {
      type: 'text', class: 'rename-input', value: titleEl.textContent, maxlength: '200', 'aria-label': 'New title', required: true,
    });
    const save = h('button', { type: 'submit', class: 'btn btn-small btn-primary' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'Cancel');
    const msg = h('p', { class: 'form-msg is-error', role: 'alert' });
    const form = h('form', { class: 'rename-form' }, input, save, cancel, msg);
    const close = () => {
      form.remove(); titleEl.hidden = false; rename.disabled = false; rename.focus();
      settle();
    };
    cancel.addEventListener('click', close);
    input.addEventListener('keydown', (event) => { if (event.key === 'Escape') close(); });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const next = input.value.trim();
      if (!next) { msg.textContent = describeError(new ApiError(422, 'invalid_title', '')); return; }
      if (next === titleEl.textContent) { close(); return; }
      save.disabled = true;
      form.dataset.saving = '1'; // the redraw that follows a successful rename replaces this row
      try {
        await renameUpload(jobId, next);
        toast(`Renamed to “${next}”`);
      } catch (err) {
        delete form.dataset.saving;
        save.disabled = false;
        msg.textContent = describeError(err, 'Renaming');
        if (!form.isConnected) toast(describeError(err, 'Renaming'), 'error');
      }
    });
    titleEl.hidden = true;
    rename.disabled = true;
    titleEl.after(form);
    input.focus();
    input.select();
  });

  del.addEventListener('click', () => {
    clear(panel);
    const yes = h('button', { type: 'button', class: 'btn btn-small btn-danger' }, 'Delete');
    const no = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'Keep');
    panel.append(h('div', { class: 'confirm', role: 'alertdialog', 'aria-label': `Delete ${title}?` },
      h('p', {}, `Delete “${title}” and its stems? This cannot be undone.`), yes, no));
    no.addEventListener('click', () => { clear(panel); del.focus(); settle(); });
    yes.addEventListener('click', async () => {
      yes.disabled = true; no.disabled = true;
      try {
        await api(`/audio/jobs/${encodeURIComponent(jobId)}`, { method: 'DELETE' });
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404 && !err.routeMissing)) {
          yes.disabled = false; no.disabled = false;
          toast(describeError(err, 'Deleting'), 'error');
          return;
        }
      }
      forgetUpload(item.track_id);
      toast(`Deleted “${title}”`);
    });
    yes.focus();
  });
  return row;
}

/** Conversions that failed (they have no library entry): retry them, or remove them. */
function failedRow(job, reload) {
  const name = job.title || job.filename || 'Your upload';
  const reason = (job.error && job.error.message) || 'The conversion failed.';
  const meta = h('p', { class: 'track-meta' }, `Failed: ${reason}`);
  const retry = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'aria-label': `Retry ${name}` }, 'Retry');
  const remove = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Remove ${name}` }, 'Remove');
  const row = h('li', { class: 'job job-failed', dataset: { jobId: job.job_id } },
    h('div', { class: 'track-text' }, h('p', { class: 'track-title', dir: 'auto' }, name), meta),
    h('div', { class: 'track-actions' }, retry, remove));
  let timer = 0;
  const follow = async () => {
    try {
      const now = await api(`/audio/conversion-status/${encodeURIComponent(job.job_id)}`);
      if (!row.isConnected) return;
      if (now.status === 'succeeded') { toast(`“${name}” is ready`); loadLibrary(); reload(); return; }
      if (now.status === 'failed') {
        meta.textContent = `Failed: ${(now.error && now.error.message) || 'The conversion failed.'}`;
        row.className = 'job job-failed';
        retry.disabled = false; remove.disabled = false;
        return;
      }
      meta.textContent = `${stageLabel(now) || 'Queued'} ${Math.round(now.progress || 0)}%`;
    } catch { /* try again */ }
    timer = setTimeout(follow, 1500);
  };
  retry.addEventListener('click', async () => {
    retry.disabled = true; remove.disabled = true;
    try {
      await api(`/audio/jobs/${encodeURIComponent(job.job_id)}/retry`, { method: 'POST' });
      row.className = 'job job-processing';
      meta.textContent = 'Queued';
      clearTimeout(timer);
      timer = setTimeout(follow, 800);
    } catch (err) {
      retry.disabled = false; remove.disabled = false;
      toast(describeError(err, 'Retrying'), 'error');
    }
  });
  remove.addEventListener('click', async () => {
    retry.disabled = true; remove.disabled = true;
    try {
      await api(`/audio/jobs/${encodeURIComponent(job.job_id)}`, { method: 'DELETE' });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404 && !err.routeMissing)) {
        retry.disabled = false; remove.disabled = false;
        toast(describeError(err, 'Removing'), 'error');
        return;
      }
    }
    row.remove();
    toast(`Removed “${name}”`);
    reload();
  });
  return row;
}

const STATUS_TEXT = {
  none: 'No instrumental yet',
  not_requested: 'No instrumental yet',
  queued: 'Instrumental queued',
  pending: 'Instrumental queued',
  processing: 'Making instrumental…',
  ready: 'Instrumental ready',
  completed: 'Instrumental ready',
  succeeded: 'Instrumental ready',
  available: 'Instrumental ready',
  failed: 'Instrumental failed',
};

function relative(ts) {
  if (!ts) return '';
  const seconds = Date.now() / 1000 - ts;
  if (seconds < 60) return 'just now';
  const units = [[86400 * 365, 'year'], [86400 * 30, 'month'], [86400 * 7, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute']];
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [size, unit] of units) {
    if (seconds >= size) return rtf.format(-Math.floor(seconds / size), unit);
  }
  return '';
}

function itemRow(item, { played = false } = {}) {
  if (item.kind === 'upload') return uploadRow(item);
  const track = { ...(item.track || {}), id: item.track_id };
  const status = item.instrumental_status || 'none';
  const meta = [];
  if (played && item.last_played_at) meta.push(`played ${relative(item.last_played_at)}`);
  if (item.play_count) meta.push(`${item.play_count} play${item.play_count === 1 ? '' : 's'}`);
  // The item carries the caller's instrumental job id: the player fetches that job's stems and, the
  // library being where instrumentals are kept, starts with the instrumental when there is one.
  const row = trackRow(track, { extra: item, meta, play: { stem: 'instrumental' } });
  const badge = h('span', { class: `badge badge-${status}` }, STATUS_TEXT[status] || status.replace(/_/g, ' '));
  row.querySelector('.track-text').append(badge);
  // In the library, the toggle is a plain Remove.
  const save = row.querySelector('.btn-save');
  if (save) {
    const remove = h('button', {
      type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Remove ${track.title || 'song'} from library`,
    }, 'Remove');
    remove.addEventListener('click', async () => {
      remove.disabled = true;
      try {
        await removeFromLibrary(item.track_id);
        toast('Removed from your library');
      } catch (err) {
        remove.disabled = false;
        toast(describeError(err, 'The library'), 'error');
      }
    });
    save.replaceWith(remove);
  }
  return row;
}

export function renderLibrary(root) {
  clear(root);
  const statusLine = h('p', { class: 'status', id: 'library-status', role: 'status' });
  const savedList = h('ul', { class: 'tracks', id: 'library-saved', 'aria-labelledby': 'saved-title' });
  const recentList = h('ul', { class: 'tracks', id: 'library-recent', 'aria-labelledby': 'recent-title' });
  const recentSection = h('section', { class: 'sub', 'aria-labelledby': 'recent-title', hidden: true },
    h('h2', { id: 'recent-title', class: 'list-title' }, 'Recently played'), recentList);
  const savedSection = h('section', { class: 'sub', 'aria-labelledby': 'saved-title' },
    h('h2', { id: 'saved-title', class: 'list-title' }, 'Saved songs'), savedList);
  const uploadsList = h('ul', { class: 'tracks', id: 'library-uploads', 'aria-labelledby': 'uploads-title' });
  const uploadsSection = h('section', { class: 'sub', 'aria-labelledby': 'uploads-title', hidden: true },
    h('h2', { id: 'uploads-title', class: 'list-title' }, 'Your uploads'), uploadsList);
  const failedList = h('ul', { class: 'jobs', id: 'library-failed', 'aria-labelledby': 'failed-title' });
  const failedSection = h('section', { class: 'sub', 'aria-labelledby': 'failed-title', hidden: true },
    h('h2', { id: 'failed-title', class: 'list-title' }, 'Conversions that failed'), failedList);

  root.append(h('section', { class: 'view', 'aria-labelledby': 'library-title' },
    h('h1', { id: 'library-title' }, 'Your library'),
    statusLine, recentSection, uploadsSection, savedSection, failedSection));

  const draw = () => {
    // A row the user is editing (rename field open, delete being confirmed) survives a redraw: a
    // library refresh landing mid-edit must not throw away what they typed. It is redrawn once the
    // edit ends (see uploadRow's settle).
    const editing = new Map();
    uploadsList.querySelectorAll('.track-upload').forEach((row) => {
      if (row.querySelector('.rename-form:not([data-saving]), .confirm')) editing.set(row.dataset.jobId, row);
    });
    clear(savedList);
    clear(recentList);
    clear(uploadsList);
    const items = library.items;
    if (library.error && !items.length) {
      statusLine.textContent = describeError(library.error, 'The library');
      return;
    }
    if (!library.loaded) {
      statusLine.textContent = 'Loading your library…';
      return;
    }
    statusLine.textContent = items.length
      ? (navigator.onLine === false ? 'Offline: showing your library as last saved on this device.' : '')
      : 'Nothing saved yet. Search for a song and press Save.';
    const byAdded = [...items].sort((a, b) => (b.added_at || 0) - (a.added_at || 0));
    const uploads = byAdded.filter((item) => item.kind === 'upload');
    uploads.forEach((item) => {
      const jobId = (item.upload && item.upload.job_id) || item.track_id;
      const kept = editing.get(jobId);
      if (kept) kept.dataset.stale = '1';
      uploadsList.append(kept || uploadRow(item, draw));
    });
    uploadsSection.hidden = uploads.length === 0;
    const saved = byAdded.filter((item) => item.kind !== 'upload');
    saved.forEach((item) => savedList.append(itemRow(item)));
    savedSection.hidden = saved.length === 0 && uploads.length > 0;
    const recent = items.filter((item) => item.last_played_at)
      .sort((a, b) => b.last_played_at - a.last_played_at)
      .slice(0, 10);
    recentSection.hidden = recent.length === 0;
    recent.forEach((item) => recentList.append(itemRow(item, { played: true })));
  };

  let failedController = null;
  async function loadFailed() {
    if (failedController) failedController.abort();
    failedController = new AbortController();
    try {
      const body = await api('/audio/jobs?limit=50', { signal: failedController.signal });
      // Developer API analyses are the developer's app's, not songs of theirs: not listed here.
      const failed = ((body && body.items) || []).filter((job) => job.status === 'failed' && job.client !== 'api');
      clear(failedList);
      failed.forEach((job) => failedList.append(failedRow(job, loadFailed)));
      failedSection.hidden = failed.length === 0;
    } catch { /* offline or unavailable: the section stays as it was */ }
  }

  const off = onLibraryChange(draw);
  draw();
  loadLibrary();
  loadFailed();
  return () => { off(); if (failedController) failedController.abort(); };
}
