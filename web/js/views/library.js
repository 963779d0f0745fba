// The library: saved songs and recently played, with each song's instrumental status.
// Offline, the last library answer comes from the service worker's cache.

import { describeError } from '../api.js';
import { h, clear, toast } from '../ui.js';
import { library, loadLibrary, onLibraryChange, removeFromLibrary } from '../store.js';
import { trackRow } from './search.js';

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

  root.append(h('section', { class: 'view', 'aria-labelledby': 'library-title' },
    h('h1', { id: 'library-title' }, 'Your library'),
    statusLine, recentSection, savedSection));

  const draw = () => {
    clear(savedList);
    clear(recentList);
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
    byAdded.forEach((item) => savedList.append(itemRow(item)));
    const recent = items.filter((item) => item.last_played_at)
      .sort((a, b) => b.last_played_at - a.last_played_at)
      .slice(0, 10);
    recentSection.hidden = recent.length === 0;
    recent.forEach((item) => recentList.append(itemRow(item, { played: true })));
  };

  const off = onLibraryChange(draw);
  draw();
  loadLibrary();
  return off;
}
