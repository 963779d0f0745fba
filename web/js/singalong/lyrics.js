// The lyrics panel: the current line highlighted in time, a Latin transliteration under Indic lines
// (served by the API with each line), an offset the user can adjust (remembered per song in
// localStorage), and attaching one's own .lrc file (PUT /lyrics/{id}, validated by the server).

import { api, describeError } from '../api.js';
import { h, clear, toast } from '../ui.js';

const OFFSET_STEP_MS = 250;
const OFFSET_LIMIT_MS = 30_000;
const offsetKey = (songId) => `melody.lyrics.offset.${songId}`;

export function loadOffset(songId) {
  try {
    const value = Number(localStorage.getItem(offsetKey(songId)));
    return Number.isFinite(value) ? Math.max(-OFFSET_LIMIT_MS, Math.min(OFFSET_LIMIT_MS, value)) : 0;
  } catch { return 0; }
}

function saveOffset(songId, ms) {
  try {
    if (ms) localStorage.setItem(offsetKey(songId), String(ms));
    else localStorage.removeItem(offsetKey(songId));
  } catch { /* private mode: the offset lasts for this page only */ }
}

/** Index of the line sung at `seconds` (lines sorted by t; -1 before the first). */
export function currentLine(lines, seconds) {
  let lo = 0;
  let hi = lines.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].t <= seconds) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

export class LyricsPanel {
  constructor() {
    this.songId = null;
    this.lines = [];
    this.synced = false;
    this.index = -2;
    this.offsetMs = 0;
    this.token = 0;
    this.list = h('ol', { class: 'lyrics-lines', id: 'lyrics-lines', 'aria-label': 'Lyrics', tabindex: '0' });
    this.note = h('p', { class: 'lyrics-note', id: 'lyrics-note', role: 'status' });
    this.offsetOut = h('output', { id: 'lyrics-offset', class: 'lyrics-offset', 'aria-live': 'polite' }, '0.00 s');
    const earlier = h('button', { type: 'button', class: 'btn btn-small', id: 'lyrics-earlier', 'aria-label': 'Show lyrics earlier' }, '−');
    const later = h('button', { type: 'button', class: 'btn btn-small', id: 'lyrics-later', 'aria-label': 'Show lyrics later' }, '+');
    earlier.addEventListener('click', () => this.nudge(-OFFSET_STEP_MS));
    later.addEventListener('click', () => this.nudge(OFFSET_STEP_MS));
    // A real button opens the (hidden) file picker: keyboard and screen readers get one control.
    this.file = h('input', { type: 'file', id: 'lyrics-file', accept: '.lrc,text/plain', hidden: true, 'aria-label': 'Lyrics file (.lrc)' });
    const attach = h('button', { type: 'button', class: 'btn btn-small lyrics-attach', id: 'lyrics-attach' }, 'Attach .lrc');
    attach.addEventListener('click', () => this.file.click());
    this.file.addEventListener('change', () => this.attachFile());
    this.root = h('section', { class: 'lyrics', id: 'lyrics', 'aria-labelledby': 'lyrics-heading' },
      h('div', { class: 'lyrics-head' },
        h('h2', { class: 'lyrics-title', id: 'lyrics-heading' }, 'Lyrics'),
        h('div', { class: 'lyrics-tools', role: 'group', 'aria-label': 'Lyrics timing' },
          earlier, this.offsetOut, later, this.file, attach)),
      this.note, this.list);
  }

  /** Load the lyrics of `songId` (a catalog track id, or an upload's job id). */
  async load(songId) {
    const token = ++this.token;
    this.songId = songId;
    this.lines = [];
    this.index = -2;
    this.offsetMs = songId ? loadOffset(songId) : 0;
    this.showOffset();
    clear(this.list);
    this.root.hidden = !songId;
    if (!songId) return;
    this.note.textContent = 'Looking for lyrics…';
    try {
      const body = await api(`/lyrics/${encodeURIComponent(songId)}`);
      if (token === this.token) this.show(body);
    } catch (err) {
      if (token !== this.token) return;
      this.note.textContent = err && err.routeMissing ? '' : describeError(err, 'The lyrics');
    }
  }

  show(body) {
    this.lines = (body.lines || []).filter((line) => line && typeof line.text === 'string');
    this.synced = Boolean(body.synced);
    this.index = -2;
    this.root.dataset.source = body.source || 'none';
    clear(this.list);
    this.lines.forEach((line, i) => {
      const item = h('li', { class: 'lyric', dataset: { i: String(i) } },
        h('span', { class: 'lyric-text', dir: 'auto' }, line.text || '♪'));
      if (line.latin) item.append(h('span', { class: 'lyric-latin', lang: 'en-Latn' }, line.latin));
      this.list.append(item);
    });
    if (!this.lines.length) {
      const offline = body.provider_status && !['ok', 'not_found'].includes(body.provider_status);
      this.note.textContent = offline ? 'Lyrics could not be looked up just now. Attach an .lrc file, or try later.'
        : 'No lyrics found for this song. Attach an .lrc file to sing along.';
    } else {
      this.note.textContent = body.source === 'user' ? 'Your lyrics' : (this.synced ? 'Lyrics from LRCLIB' : 'Lyrics from LRCLIB (not timed)');
    }
  }

  nudge(deltaMs) {
    if (!this.songId) return;
    this.offsetMs = Math.max(-OFFSET_LIMIT_MS, Math.min(OFFSET_LIMIT_MS, this.offsetMs + deltaMs));
    saveOffset(this.songId, this.offsetMs);
    this.showOffset();
    this.index = -2; // re-highlight at the next update
  }

  showOffset() {
    const s = this.offsetMs / 1000;
    this.offsetOut.textContent = `${s > 0 ? '+' : ''}${s.toFixed(2)} s`;
    this.offsetOut.dataset.ms = String(this.offsetMs);
  }

  /** Highlight the line at `songSeconds` (the original song's time; a rendition maps to it first). */
  update(songSeconds) {
    if (!this.synced || !this.lines.length) return;
    // A positive offset shows each line later (the lyrics ran ahead of the singer).
    const index = currentLine(this.lines, songSeconds - this.offsetMs / 1000);
    if (index === this.index) return;
    const previous = this.list.children[this.index];
    if (previous) { previous.classList.remove('is-current'); previous.removeAttribute('aria-current'); }
    this.index = index;
    const item = this.list.children[index];
    this.list.dataset.current = String(index);
    if (!item) return;
    item.classList.add('is-current');
    item.setAttribute('aria-current', 'true');
    // Scroll the list itself (not the page) so the line sits a third from the top.
    const top = item.offsetTop - this.list.offsetTop - this.list.clientHeight / 3;
    this.list.scrollTo({ top: Math.max(0, top), behavior: 'smooth' });
  }

  async attachFile() {
    const file = this.file.files && this.file.files[0];
    this.file.value = '';
    if (!file || !this.songId) return;
    const token = ++this.token; // a lookup still in flight must not replace what is attached now
    if (file.size > 64 * 1024) { toast('That lyrics file is larger than 64 KB.', 'error'); return; }
    try {
      const body = await api(`/lyrics/${encodeURIComponent(this.songId)}`, { method: 'PUT', body: { lrc: await file.text() } });
      if (token === this.token) this.show(body);
      toast('Your lyrics are attached to this song');
    } catch (err) {
      toast(describeError(err, 'The lyrics file'), 'error');
    }
  }
}
