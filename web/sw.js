// Melody Studio service worker.
// - App shell: precached at install, served cache-first (and refreshed in the background, so the
//   next visit gets a new deploy; bump VERSION to force a full re-precache).
// - Library API GETs: network-first; the last good answer is kept so the library shows offline.
//   The page deletes the "melody-api" cache at logout (it holds the user's data).
// - Songs saved for offline (js/offline.js): /offline/audio/<key> is answered from the "melody-audio"
//   cache only, Range requests included (a 206 sliced from the cached body), so they play with no
//   network. The page deletes that cache at logout.
// - Everything else (other API calls, streamed audio and waveform media) goes to the network.

const VERSION = 'v7';
const SHELL_CACHE = `melody-shell-${VERSION}`;
const API_CACHE = 'melody-api';
const AUDIO_CACHE = 'melody-audio';
const SHELL = [
  '/',
  '/css/app.css',
  '/js/app.js',
  '/js/api.js',
  '/js/ui.js',
  '/js/store.js',
  '/js/player.js',
  '/js/waveform.js',
  '/js/offline.js',
  '/js/views/login.js',
  '/js/views/search.js',
  '/js/views/library.js',
  '/js/views/upload.js',
  '/js/views/home.js',
  // The other products' views: small, and the tabs must open offline (their data needs the network).
  '/js/views/discover.js',
  '/js/views/developer.js',
  '/js/views/score.js',
  '/js/views/melody.js',
  // The sing-along panel: loaded when a song opens, kept for offline practice.
  '/js/singalong/panel.js',
  '/js/singalong/guide.js',
  '/js/singalong/countin.js',
  '/js/singalong/lyrics.js',
  '/js/singalong/renditions.js',
  '/js/singalong/timeline.js',
  '/manifest.webmanifest',
  '/favicon.ico',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-512.png',
  '/icons/apple-touch-icon.png',
];
const SHELL_PATHS = new Set(SHELL);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names
      .filter((name) => name.startsWith('melody-shell-') && name !== SHELL_CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

async function shellFirst(event, key) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(key);
  const refresh = fetch(event.request).then((response) => {
    if (response.ok && response.type === 'basic') cache.put(key, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(refresh.catch(() => {}));
    return cached;
  }
  return refresh;
}

async function libraryNetworkFirst(request) {
  const cache = await caches.open(API_CACHE);
  const fromCache = async () => {
    const cached = await cache.match(request, { ignoreVary: true })
      || await cache.match(request, { ignoreSearch: true, ignoreVary: true });
    if (!cached) return null;
    const headers = new Headers(cached.headers);
    headers.set('X-Melody-Offline', '1');
    return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
  };
  try {
    const response = await fetch(request);
    if (response.ok) {
      await cache.put(request, response.clone());
      return response;
    }
    // The page sends no token when it could not refresh (offline): answer from the cache.
    if (response.status === 401 && !request.headers.has('Authorization')) {
      return (await fromCache()) || response;
    }
    return response;
  } catch (err) {
    const cached = await fromCache();
    if (cached) return cached;
    throw err;
  }
}

/** A saved song from the cache: the whole body (200), or the bytes a Range header asks for (206). */
async function offlineAudio(request) {
  const cache = await caches.open(AUDIO_CACHE);
  const cached = await cache.match(new URL(request.url).pathname);
  if (!cached) return new Response('Not saved on this device', { status: 404, headers: { 'Content-Type': 'text/plain' } });
  const type = cached.headers.get('Content-Type') || 'application/octet-stream';
  const range = request.headers.get('Range');
  if (!range) {
    const headers = new Headers(cached.headers);
    headers.set('Accept-Ranges', 'bytes');
    return new Response(cached.body, { status: 200, headers });
  }
  const body = await cached.arrayBuffer();
  const size = body.byteLength;
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.split(',')[0].trim());
  let start;
  let end;
  if (match && match[1] !== '') {
    start = Number(match[1]);
    end = match[2] !== '' ? Math.min(Number(match[2]), size - 1) : size - 1;
  } else if (match && match[2] !== '') { // suffix: the last N bytes
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  }
  if (start === undefined || start >= size || start > end) {
    return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${size}` } });
  }
  return new Response(body.slice(start, end + 1), {
    status: 206,
    headers: {
      'Content-Type': type,
      'Content-Length': String(end - start + 1),
      'Content-Range': `bytes ${start}-${end}/${size}`,
      'Accept-Ranges': 'bytes',
    },
  });
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (url.pathname.startsWith('/offline/')) {
    event.respondWith(offlineAudio(request));
    return;
  }
  if (url.pathname === '/api/v1/library') {
    event.respondWith(libraryNetworkFirst(request));
    return;
  }
  if (url.pathname.startsWith('/api/')) return;

  if (request.mode === 'navigate' && (url.pathname === '/' || url.pathname === '/index.html')) {
    event.respondWith(shellFirst(event, '/'));
    return;
  }
  if (SHELL_PATHS.has(url.pathname) && !url.search) {
    event.respondWith(shellFirst(event, url.pathname));
  }
});
