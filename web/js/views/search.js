// Search as you type (debounced, stale answers cancelled), in any script, with a language filter.
// An empty query shows what is trending.

import { api, describeError, ApiError } from '../api.js';
import { h, clear, cover, debounce, formatTime, languageName, LANGUAGES, toast } from '../ui.js';
import { isSaved, toggleSaved, onLibraryChange } from '../store.js';
import { player } from '../player.js';
import { isOffline, onOfflineChange } from '../offline.js';
import { renderHome, renderOfflineSection, showLanguagePicker } from './home.js';

const PAGE = 20;
let lastQuery = '';
let lastLanguage = '';

/**
 * One song row: cover, title (native script + Latin), artists, language, duration, Play, Save.
 * Play hands `extra` and `play` (the player's options, e.g. {stem}) to the player; a catalog song
 * with audio plays its original unless `play` asks for another version.
 */
export function trackRow(track, { extra = null, meta = [], play = {} } = {}) {
  const id = track.id || track.track_id;
  const title = track.title || track.title_latin || 'Untitled';
  const latin = track.title_latin && track.title_latin !== track.title ? track.title_latin : null;
  const saveBtn = h('button', {
    type: 'button', class: 'btn btn-small btn-save', 'aria-pressed': String(isSaved(id)),
    'aria-label': `${isSaved(id) ? 'Remove' : 'Save'} ${title} ${isSaved(id) ? 'from' : 'to'} library`,
    dataset: { trackId: id },
  }, isSaved(id) ? 'Saved' : 'Save');
  saveBtn.addEventListener('click', async () => {
    saveBtn.disabled = true;
    try {
      const saved = await toggleSaved(track);
      toast(saved ? `Saved “${title}”` : `Removed “${title}”`);
    } catch (err) {
      toast(describeError(err, 'The library'), 'error');
    } finally {
      saveBtn.disabled = false;
    }
  });
  const playBtn = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'aria-label': `Play ${title}` }, 'Play');
  playBtn.addEventListener('click', () => player().load(track, extra, play));

  const details = [
    (track.artists || []).join(', '),
    languageName(track.language),
    track.duration_s ? formatTime(track.duration_s) : null,
    ...meta,
  ].filter(Boolean);
  return h('li', { class: 'track', dataset: { trackId: id } },
    cover(title),
    h('div', { class: 'track-text' },
      h('p', { class: 'track-title', dir: 'auto', lang: track.language || undefined }, title),
      latin ? h('p', { class: 'track-latin', dir: 'auto' }, latin) : null,
      h('p', { class: 'track-meta' }, details.join(' · ')),
      h('span', { class: 'badge badge-offline', hidden: !isOffline(id) }, 'Saved offline')),
    h('div', { class: 'track-actions' }, playBtn, id ? saveBtn : null));
}

/** Keep the "Saved offline" badges in step with what is on this device. */
export function syncOfflineBadges(root) {
  for (const row of root.querySelectorAll('.track[data-track-id]')) {
    const badge = row.querySelector('.badge-offline');
    if (badge) badge.hidden = !isOffline(row.dataset.trackId);
  }
}

/** Keep Save buttons in step with the library. */
export function syncSaveButtons(root) {
  for (const button of root.querySelectorAll('.track .btn-save')) {
    const saved = isSaved(button.dataset.trackId);
    button.setAttribute('aria-pressed', String(saved));
    button.textContent = saved ? 'Saved' : 'Save';
    const title = button.closest('.track').querySelector('.track-title').textContent;
    button.setAttribute('aria-label', `${saved ? 'Remove' : 'Save'} ${title} ${saved ? 'from' : 'to'} library`);
  }
}

export function renderSearch(root) {
  clear(root);
  const input = h('input', {
    id: 'q', type: 'search', name: 'q', autocomplete: 'off', spellcheck: 'false', enterkeyhint: 'search',
    placeholder: 'Song, artist or album', 'aria-describedby': 'search-status',
    'aria-controls': 'results', value: lastQuery,
  });
  const language = h('select', { id: 'language', name: 'language' },
    LANGUAGES.map(([code, name]) => h('option', { value: code, selected: code === lastLanguage }, name)));
  const statusLine = h('p', { class: 'status', id: 'search-status', role: 'status', 'aria-live': 'polite' });
  const heading = h('h2', { class: 'list-title', id: 'results-title' });
  const list = h('ul', { class: 'tracks', id: 'results', 'aria-labelledby': 'results-title' });
  const more = h('button', { type: 'button', class: 'btn btn-ghost btn-more', hidden: true }, 'More results');

  const form = h('form', { class: 'search-form', role: 'search' },
    h('div', { class: 'field field-grow' }, h('label', { for: 'q' }, 'Search songs'), input),
    h('div', { class: 'field' }, h('label', { for: 'language' }, 'Language'), language));

  // The home screen (nothing typed): language picker, /music/home sections, songs on this device.
  const picker = h('section', { class: 'card lang-picker', id: 'lang-picker', 'aria-labelledby': 'lang-title', hidden: true });
  const home = h('div', { class: 'home', id: 'home', hidden: true });
  const offlineBox = h('div', { class: 'home', id: 'offline-songs', hidden: true });

  root.append(h('section', { class: 'view', 'aria-labelledby': 'search-title' },
    h('h1', { id: 'search-title', class: 'visually-hidden' }, 'Home and search'),
    form, picker, statusLine, heading, list, more, home, offlineBox));

  let controller = null;
  let nextOffset = null;

  async function run({ append = false } = {}) {
    const q = input.value.trim();
    lastQuery = input.value;
    lastLanguage = language.value;
    if (controller) controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    if (!append) nextOffset = null;
    const params = new URLSearchParams();
    if (language.value) params.set('language', language.value);
    let path;
    if (q) {
      params.set('q', q);
      params.set('limit', String(PAGE));
      if (append && nextOffset) params.set('offset', String(nextOffset));
      path = `/music/search?${params}`;
      statusLine.textContent = 'Searching…';
    } else if (!language.value && !append) {
      if (await showHome(signal)) return;
      if (signal.aborted) return;
      params.set('timeframe', 'weekly');
      path = `/music/trending?${params}`;
    } else {
      params.set('timeframe', 'weekly');
      path = `/music/trending?${params}`;
    }
    home.hidden = true;
    offlineBox.hidden = true;
    if (q) { clear(picker); picker.hidden = true; }
    try {
      const body = await api(path, { signal });
      if (signal.aborted) return;
      const items = body.items || [];
      if (!append) clear(list);
      items.forEach((track) => list.append(trackRow(track)));
      nextOffset = q ? body.next_offset ?? null : null;
      more.hidden = nextOffset === null || nextOffset === undefined;
      heading.textContent = list.children.length ? (q ? 'Results' : 'Trending this week') : '';
      const count = list.children.length;
      statusLine.textContent = q
        ? (count ? `${count} song${count === 1 ? '' : 's'} found for “${q}”.` : `No songs found for “${q}”. Try another spelling or language.`)
        : (count ? '' : 'Type to search songs in any language or script.');
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      if (!append) clear(list);
      more.hidden = true;
      heading.textContent = '';
      if (!q && err instanceof ApiError && err.routeMissing) {
        statusLine.textContent = 'Type to search songs in any language or script.';
      } else {
        statusLine.textContent = describeError(err, 'Search');
      }
    }
  }

  let pickerShown = false;
  /** The home screen; false when the server has no /music/home yet (trending shows instead). */
  async function showHome(signal) {
    renderOfflineSection(offlineBox).catch(() => {});
    let body = null;
    let failure = null;
    try {
      body = await renderHome(home, { signal });
    } catch (err) {
      if (err && err.name === 'AbortError') return true;
      failure = err;
    }
    if (signal.aborted) return true;
    if (!pickerShown) {
      pickerShown = true;
      showLanguagePicker(picker, body && body.languages, () => { pickerShown = true; run(); }).catch(() => {});
    }
    if (!body) {
      home.hidden = true;
      if (failure instanceof ApiError && failure.routeMissing) return false;
      if (failure instanceof ApiError && failure.offline) {
        clear(list); heading.textContent = ''; more.hidden = true;
        statusLine.textContent = 'You are offline. Songs saved on this device still play.';
        return true;
      }
      statusLine.textContent = describeError(failure, 'The home screen');
      return false;
    }
    clear(list);
    heading.textContent = '';
    more.hidden = true;
    statusLine.textContent = home.hidden ? 'Type to search songs in any language or script.' : '';
    return true;
  }

  const later = debounce(() => run(), 250);
  input.addEventListener('input', later);
  language.addEventListener('change', () => { later.cancel(); run(); });
  form.addEventListener('submit', (event) => { event.preventDefault(); later.cancel(); run(); });
  more.addEventListener('click', () => run({ append: true }));
  const off = onLibraryChange(() => syncSaveButtons(list));
  const offOffline = onOfflineChange(() => {
    syncOfflineBadges(list);
    if (!input.value.trim()) renderOfflineSection(offlineBox).catch(() => {});
  });
  run();
  return () => { later.cancel(); if (controller) controller.abort(); off(); offOffline(); };
}
