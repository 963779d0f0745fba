// The user's library, shared by the views and the player: which tracks are saved, and events on change.

import { api, ApiError } from './api.js';

const PAGE = 100;
const MAX_PAGES = 10;

/** The catalog song the next upload is a copy of ({id, title, ...}); set by the player's "Upload your copy". */
export const pendingUpload = { track: null };

export const library = {
  items: [],
  ids: new Set(),
  loaded: false,
  error: null,
  fromCache: false,
};

const target = new EventTarget();

export function onLibraryChange(fn) {
  const handler = () => fn(library);
  target.addEventListener('change', handler);
  return () => target.removeEventListener('change', handler);
}

function changed() {
  library.ids = new Set(library.items.map((item) => item.track_id));
  target.dispatchEvent(new Event('change'));
}

export function resetLibrary() {
  library.items = [];
  library.loaded = false;
  library.error = null;
  changed();
}

let inFlight = null;

/** Fetch the whole library (a few pages). Offline, the service worker answers from its cache. */
export function loadLibrary() {
  if (!inFlight) inFlight = fetchLibrary().finally(() => { inFlight = null; });
  return inFlight;
}

// Saves and removals made while a fetch is in flight: its (older) answer must not undo them.
let edits = [];

function applyEdits(items, since) {
  let result = items;
  for (const edit of edits.slice(since)) {
    if (edit.add) {
      if (!result.some((item) => item.track_id === edit.add.track_id)) result = [edit.add, ...result];
    } else {
      result = result.filter((item) => item.track_id !== edit.remove);
    }
  }
  return result;
}

async function fetchLibrary() {
  const since = edits.length;
  try {
    const items = [];
    let cursor = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (cursor) query.set('cursor', cursor);
      const body = await api(`/library?${query}`, { offlineFallback: true });
      items.push(...(body.items || []).filter((item) => !item.deleted));
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    library.items = applyEdits(items, since);
    library.loaded = true;
    library.error = null;
    library.fromCache = navigator.onLine === false;
  } catch (err) {
    library.error = err;
    library.loaded = library.items.length > 0;
  }
  edits = []; // one fetch at a time (loadLibrary): the edits made during it are applied
  changed();
  return library;
}

export function isSaved(trackId) {
  return library.ids.has(trackId);
}

export async function addToLibrary(track) {
  const id = track.id || track.track_id;
  await api(`/library/${encodeURIComponent(id)}`, { method: 'PUT' });
  const entry = {
    track_id: id,
    kind: 'track',
    track,
    added_at: Math.floor(Date.now() / 1000),
    play_count: 0,
    last_played_at: null,
    instrumental_status: track.instrumental_status || 'none',
    instrumental_job_id: track.instrumental_job_id || null,
  };
  if (inFlight) edits.push({ add: entry });
  if (!library.ids.has(id)) library.items.unshift(entry);
  changed();
}

export async function removeFromLibrary(trackId) {
  try {
    await api(`/library/${encodeURIComponent(trackId)}`, { method: 'DELETE' });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404 && !err.routeMissing)) throw err;
  }
  if (inFlight) edits.push({ remove: trackId });
  library.items = library.items.filter((item) => item.track_id !== trackId);
  changed();
}

/** Toggle saved state; resolves with the new state. */
export async function toggleSaved(track) {
  const id = track.id || track.track_id;
  if (isSaved(id)) {
    await removeFromLibrary(id);
    return false;
  }
  await addToLibrary(track);
  return true;
}

/** Retitle one of the user's uploads (PATCH /library/uploads/{job_id}); the library shows the answer. */
export async function renameUpload(jobId, title) {
  const updated = await api(`/library/uploads/${encodeURIComponent(jobId)}`, { method: 'PATCH', body: { title } });
  const index = library.items.findIndex((entry) => entry.track_id === jobId);
  if (index >= 0) {
    const item = library.items[index];
    library.items[index] = updated && updated.track_id
      ? updated
      : { ...item, upload: { ...(item.upload || {}), title } };
  }
  changed();
  return updated;
}

/** Drop a deleted upload from the library shown. */
export function forgetUpload(jobId) {
  if (inFlight) edits.push({ remove: jobId });
  library.items = library.items.filter((item) => item.track_id !== jobId);
  changed();
}

export async function recordPlay(trackId) {
  try {
    await api(`/library/${encodeURIComponent(trackId)}/plays`, { method: 'POST' });
    const item = library.items.find((entry) => entry.track_id === trackId);
    if (item) {
      item.play_count = (item.play_count || 0) + 1;
      item.last_played_at = Math.floor(Date.now() / 1000);
      changed();
    }
  } catch { /* counting a play is best effort */ }
}
