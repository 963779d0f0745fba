// Songs saved for offline: their audio (the whole file) and a little metadata live in Cache Storage
// ("melody-audio"), under stable same-origin keys. The service worker answers /offline/audio/<key>
// from that cache, Range requests included (206 built from the cached body), so <audio> can play and
// seek with no network. The cache belongs to the user: it is deleted at logout (api.js).

export const AUDIO_CACHE = 'melody-audio';
const AUDIO_PREFIX = '/offline/audio/';
const META_PREFIX = '/offline/meta/';

const saved = new Map(); // key → track metadata
const target = new EventTarget();
let ready = null;

export const offlineSupported = () => typeof caches !== 'undefined' && 'serviceWorker' in navigator;

/** The key a song is saved under: its catalog id, or its conversion job for an upload. */
export function offlineKey(track, extra = null) {
  const id = (track && (track.id || track.track_id)) || (extra && extra.job_id) || (track && track.job_id);
  return id ? String(id).replace(/[^A-Za-z0-9_.-]/g, '_') : null;
}

export const offlineUrl = (key) => `${AUDIO_PREFIX}${encodeURIComponent(key)}`;

export function onOfflineChange(fn) {
  const handler = () => fn(saved);
  target.addEventListener('change', handler);
  return () => target.removeEventListener('change', handler);
}

const changed = () => target.dispatchEvent(new Event('change'));

/** Read what is saved on this device (once; later calls share the answer). */
export function loadOffline() {
  if (!ready) {
    ready = (async () => {
      if (!offlineSupported()) return saved;
      try {
        const cache = await caches.open(AUDIO_CACHE);
        for (const request of await cache.keys()) {
          const path = new URL(request.url).pathname;
          if (!path.startsWith(META_PREFIX)) continue;
          const response = await cache.match(request);
          const meta = response ? await response.json().catch(() => null) : null;
          if (meta && meta.key) saved.set(meta.key, meta);
        }
      } catch { /* storage unavailable: nothing saved */ }
      changed();
      return saved;
    })();
  }
  return ready;
}

export function isOffline(key) {
  return Boolean(key) && saved.has(key);
}

export function savedTracks() {
  return [...saved.values()].sort((a, b) => (b.saved_at || 0) - (a.saved_at || 0));
}

/** Download `url` whole and keep it with `track`'s metadata. Resolves when it is stored. */
export async function saveOffline(key, url, track) {
  if (!offlineSupported()) throw new Error('This browser cannot keep songs offline.');
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok && response.status !== 0) throw new Error(`The song could not be downloaded (HTTP ${response.status}).`);
  const blob = await response.blob();
  if (!blob.size) throw new Error('The song could not be downloaded.');
  const type = blob.type || response.headers.get('Content-Type') || 'audio/mpeg';
  const cache = await caches.open(AUDIO_CACHE);
  await cache.put(offlineUrl(key), new Response(blob, {
    headers: { 'Content-Type': type, 'Content-Length': String(blob.size), 'Accept-Ranges': 'bytes' },
  }));
  const meta = {
    key,
    id: track.id || null,
    title: track.title || 'Untitled',
    title_latin: track.title_latin || null,
    artists: track.artists || [],
    album: track.album || null,
    language: track.language || null,
    duration_s: track.duration_s || null,
    bytes: blob.size,
    saved_at: Math.floor(Date.now() / 1000),
  };
  await cache.put(`${META_PREFIX}${encodeURIComponent(key)}`, new Response(JSON.stringify(meta), {
    headers: { 'Content-Type': 'application/json' },
  }));
  saved.set(key, meta);
  changed();
  // Ask the browser not to evict it under storage pressure (best effort).
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  return meta;
}

export async function removeOffline(key) {
  if (offlineSupported()) {
    const cache = await caches.open(AUDIO_CACHE);
    await cache.delete(offlineUrl(key));
    await cache.delete(`${META_PREFIX}${encodeURIComponent(key)}`);
  }
  saved.delete(key);
  changed();
}

export function resetOffline() {
  saved.clear();
  ready = null;
  changed();
}
