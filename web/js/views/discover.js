// The Discover tab (#/discover): posts from the blogs and artists the user follows, newest first,
// each with the songs it names (catalog songs as ordinary track rows: play, save, and "Make
// instrumental" in the player), follow/unfollow of sources and artists, a starter feed while the
// user follows nothing, "New" marks for posts published since the last visit, and a form to suggest
// a source. Loaded on demand (app.js imports it when the tab opens).
// Every string from the server is plain text and goes through h() (textContent), never HTML; links
// out are http(s) only and open with rel="noopener noreferrer".

import { api, describeError, ApiError } from '../api.js';
import { h, clear, toast } from '../ui.js';
import { trackRow, syncSaveButtons } from './search.js';
import { onLibraryChange } from '../store.js';

const PAGE = 20;
// When the user last opened the tab (epoch seconds), per device: posts published after it are new.
export const LAST_VISIT_KEY = 'melody.discover.lastVisit';

function readLastVisit() {
  try {
    const value = Number(localStorage.getItem(LAST_VISIT_KEY));
    return Number.isFinite(value) && value > 0 ? value : 0;
  } catch {
    return 0;
  }
}

function writeLastVisit(epoch) {
  try { localStorage.setItem(LAST_VISIT_KEY, String(Math.floor(epoch))); } catch { /* private mode: no marks */ }
}

/** Only absolute http(s) URLs leave the app (never javascript:, data: ...). */
export function safeHref(url) {
  try {
    const parsed = new URL(String(url || ''));
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

function formatDate(epoch) {
  if (!epoch) return '';
  return new Date(epoch * 1000).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

const PROVIDERS = { youtube: 'YouTube', spotify: 'Spotify', soundcloud: 'SoundCloud', bandcamp: 'Bandcamp' };

export function renderDiscover(root) {
  clear(root);
  const lastVisit = readLastVisit();
  const follows = new Map(); // `${kind}:${id}` -> name
  const key = (kind, id) => `${kind}:${id}`;

  const statusLine = h('p', { class: 'status', id: 'discover-status', role: 'status', 'aria-live': 'polite' });
  const starterNote = h('p', { class: 'notice', id: 'discover-starter', hidden: true },
    'You follow nothing yet: here are popular sources in your languages. Follow the ones you like.');
  const feedList = h('ol', { class: 'posts', id: 'discover-feed', 'aria-label': 'Posts' });
  const more = h('button', { type: 'button', class: 'btn btn-ghost btn-more', hidden: true }, 'More posts');
  const followsList = h('ul', { class: 'follows', id: 'discover-follows', 'aria-label': 'You follow' });
  const sourcesList = h('ul', { class: 'follows', id: 'discover-sources', 'aria-label': 'Sources' });

  const urlInput = h('input', { id: 'suggest-url', name: 'url', type: 'url', required: true, maxlength: 2000,
    placeholder: 'https://blog.example/feed', autocomplete: 'off', inputmode: 'url' });
  const nameInput = h('input', { id: 'suggest-name', name: 'name', type: 'text', maxlength: 120, autocomplete: 'off' });
  const suggestStatus = h('p', { class: 'status', id: 'suggest-status', role: 'status' });
  const suggestForm = h('form', { class: 'suggest-form', id: 'suggest-form' },
    h('div', { class: 'row' },
      h('div', { class: 'field field-grow' }, h('label', { for: 'suggest-url' }, 'Blog or feed address'), urlInput),
      h('div', { class: 'field' }, h('label', { for: 'suggest-name' }, 'Name (optional)'), nameInput)),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Suggest'),
    suggestStatus);

  root.append(h('section', { class: 'view view-discover', 'aria-labelledby': 'discover-title' },
    h('h1', { id: 'discover-title' }, 'Discover'),
    h('p', { class: 'lead' }, 'New music from the blogs and artists you follow.'),
    statusLine, starterNote, feedList, more,
    h('details', { class: 'card discover-follows' },
      h('summary', {}, 'Following'), followsList),
    h('details', { class: 'card discover-sources' },
      h('summary', {}, 'Sources to follow'), sourcesList),
    h('section', { class: 'card', 'aria-labelledby': 'suggest-title' },
      h('h2', { id: 'suggest-title' }, 'Suggest a source'),
      h('p', { class: 'notice' }, 'A music blog or feed you trust. We review every suggestion before it appears.'),
      suggestForm)));

  let controller = new AbortController();
  let cursor = null;

  // -- follow buttons ------------------------------------------------------------------------------

  // `named`: the visible text names the target too (an artist under a song row, away from its name).
  function followButton(kind, id, name, { named = false } = {}) {
    const btn = h('button', { type: 'button', class: 'btn btn-small btn-follow', dataset: { kind, targetId: id } });
    const paint = () => {
      const on = follows.has(key(kind, id));
      btn.textContent = `${on ? 'Following' : 'Follow'}${named ? ` ${name}` : ''}`;
      btn.setAttribute('aria-pressed', String(on));
      btn.setAttribute('aria-label', `${on ? 'Unfollow' : 'Follow'} ${name}`);
    };
    paint();
    btn.addEventListener('click', async () => {
      const on = follows.has(key(kind, id));
      btn.disabled = true;
      try {
        await api(`/discover/follows/${kind}/${encodeURIComponent(id)}`, { method: on ? 'DELETE' : 'PUT' });
        if (on) follows.delete(key(kind, id)); else follows.set(key(kind, id), name);
        toast(on ? `You no longer follow ${name}.` : `You follow ${name}.`);
        repaintFollows();
        await loadFeed();
      } catch (err) {
        toast(describeError(err, 'Following'), 'error');
      } finally {
        btn.disabled = false;
      }
    });
    btn.repaint = paint;
    return btn;
  }

  function repaintFollows() {
    for (const btn of root.querySelectorAll('.btn-follow')) if (btn.repaint) btn.repaint();
    clear(followsList);
    if (!follows.size) followsList.append(h('li', { class: 'notice' }, 'Nothing yet.'));
    for (const [k, name] of follows) {
      const [kind, id] = k.split(/:(.*)/s);
      followsList.append(h('li', { class: 'follow-item' },
        h('span', { dir: 'auto' }, `${name || id}`), h('span', { class: 'badge' }, kind === 'artist' ? 'Artist' : 'Source'),
        followButton(kind, id, name || id)));
    }
  }

  // -- posts ---------------------------------------------------------------------------------------

  function songItem(song) {
    const artists = (song.artists || []).map((a) => followButton('artist', a.id, a.name, { named: true }));
    const listen = safeHref(song.listen_url);
    const listenLink = listen
      ? h('a', { href: listen, target: '_blank', rel: 'noopener noreferrer', class: 'ext-link' },
        `Listen on ${PROVIDERS[song.provider] || 'the web'}`)
      : null;
    if (song.track) {
      const row = trackRow(song.track, { meta: [song.has_audio ? null : 'No audio yet'] });
      row.classList.add('post-song');
      if (listenLink || artists.length) row.append(h('div', { class: 'post-song-extra' }, listenLink, ...artists));
      return row;
    }
    const label = [song.artist, song.title].filter(Boolean).join(' – ') || 'A song';
    return h('li', { class: 'track post-song post-song-unmatched' },
      h('div', { class: 'track-text' }, h('p', { class: 'track-title', dir: 'auto' }, label)),
      h('div', { class: 'track-actions' }, listenLink));
  }

  function postItem(post) {
    const isNew = post.published_at > lastVisit;
    const href = safeHref(post.url);
    const songs = post.songs || [];
    return h('li', { class: `card post${isNew ? ' post-new' : ''}`, dataset: { postId: post.id } },
      h('p', { class: 'post-meta' },
        isNew ? h('span', { class: 'badge badge-new' }, 'New') : null,
        h('span', { class: 'post-source', dir: 'auto' }, post.source.name),
        ' · ',
        h('time', { datetime: new Date(post.published_at * 1000).toISOString() }, formatDate(post.published_at)),
        ' ',
        followButton('source', post.source.id, post.source.name)),
      h('h2', { class: 'post-title', dir: 'auto' }, post.title),
      post.summary ? h('p', { class: 'post-summary', dir: 'auto' }, post.summary) : null,
      href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer', class: 'post-link' }, `Read on ${post.source.name}`) : null,
      songs.length ? h('ul', { class: 'tracks post-songs', 'aria-label': `Songs in “${post.title}”` }, songs.map(songItem)) : null);
  }

  async function loadFeed({ append = false } = {}) {
    controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    if (!append) cursor = null;
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (append && cursor) params.set('cursor', cursor);
    statusLine.textContent = append ? 'Loading more…' : 'Loading your feed…';
    try {
      const body = await api(`/discover/feed?${params}`, { signal });
      if (signal.aborted) return;
      if (!append) clear(feedList);
      (body.items || []).forEach((post) => feedList.append(postItem(post)));
      cursor = body.next_cursor || null;
      more.hidden = !cursor;
      starterNote.hidden = !body.starter;
      if (!append) writeLastVisit(Date.now() / 1000); // seen: the next visit marks what is newer
      const fresh = feedList.querySelectorAll('.post-new').length;
      statusLine.textContent = feedList.children.length
        ? (fresh ? `${fresh} new post${fresh === 1 ? '' : 's'} since your last visit.` : '')
        : 'No posts yet. Follow a source or an artist to fill your feed.';
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      if (!append) clear(feedList);
      more.hidden = true;
      statusLine.textContent = err instanceof ApiError && err.offline
        ? 'You are offline. Discover needs a connection.'
        : describeError(err, 'Discover');
    }
  }

  async function loadFollowsAndSources() {
    try {
      const [mine, sources] = await Promise.all([
        api('/discover/follows', { signal: controller.signal }),
        api('/discover/sources?limit=100', { signal: controller.signal }),
      ]);
      follows.clear();
      for (const f of mine.items || []) follows.set(key(f.kind, f.id), f.name || f.id);
      clear(sourcesList);
      for (const s of sources.items || []) {
        sourcesList.append(h('li', { class: 'follow-item' },
          h('span', { dir: 'auto' }, s.name),
          h('span', { class: 'track-meta' }, `${s.post_count} post${s.post_count === 1 ? '' : 's'}`),
          followButton('source', s.id, s.name)));
      }
      if (!sourcesList.children.length) sourcesList.append(h('li', { class: 'notice' }, 'No sources yet.'));
      repaintFollows();
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      clear(sourcesList);
      sourcesList.append(h('li', { class: 'notice' }, describeError(err, 'Sources')));
    }
  }

  suggestForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const url = urlInput.value.trim();
    if (!safeHref(url)) { suggestStatus.textContent = 'Enter the full address, starting with https://'; return; }
    const body = { url };
    if (nameInput.value.trim()) body.name = nameInput.value.trim();
    suggestStatus.textContent = 'Sending…';
    try {
      await api('/discover/sources', { method: 'POST', body });
      suggestStatus.textContent = 'Thank you: we will review it.';
      suggestForm.reset();
    } catch (err) {
      suggestStatus.textContent = err instanceof ApiError && err.code === 'source_exists'
        ? 'That source is already listed or suggested.'
        : describeError(err, 'Suggestions');
    }
  });

  more.addEventListener('click', () => loadFeed({ append: true }));
  const off = onLibraryChange(() => syncSaveButtons(feedList));

  // Follows first (the Follow buttons in posts show their state), then the feed. The marks of this
  // visit compare with the previous one (read once above), whatever later loads store.
  loadFollowsAndSources().finally(() => { if (!controller.signal.aborted) loadFeed(); });
  return () => { controller.abort(); off(); };
}
