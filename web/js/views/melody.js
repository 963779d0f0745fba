// The melody of a song as notes (issue 12): `#/melody?job=<job id>` shows the lead sheet the
// pipeline wrote for that conversion: key, meter, tempo and chords, the sung notes as a piano roll
// that follows the song while it plays (the playhead and the scroll track the player's audio
// time), and the MIDI and MusicXML files. Loaded on demand: not part of the first load.

import { api, describeError, ApiError } from '../api.js';
import { h, clear, toast } from '../ui.js';

const SVG = 'http://www.w3.org/2000/svg';
const PX_PER_S = 80;
const ROW = 8;
const NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

export function noteName(midi) {
  return `${NAMES[midi % 12]}${Math.floor(midi / 12) - 1}`;
}

/** The piano roll: one rect per note (x: seconds, y: pitch), bar lines with their chord symbols. */
export function pianoRoll(notes, bars, chords) {
  const pitches = notes.map((n) => n.pitch);
  const low = Math.min(...pitches) - 2;
  const high = Math.max(...pitches) + 2;
  const end = Math.max(...notes.map((n) => n.offset_s), ...(bars.length ? [bars[bars.length - 1]] : [0])) + 1;
  const width = Math.ceil(end * PX_PER_S);
  const height = (high - low + 1) * ROW + 20;
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'melody-roll', role: 'img',
    'aria-label': `Piano roll of ${notes.length} notes` });
  bars.forEach((t, i) => {
    const x = (t * PX_PER_S).toFixed(1);
    root.append(svg('line', { x1: x, x2: x, y1: 0, y2: height, class: 'melody-bar' }));
    if (chords[i]) root.append(svg('text', { x: Number(x) + 3, y: 12, class: 'melody-chord' }, chords[i]));
  });
  for (const n of notes) {
    const rect = svg('rect', {
      x: (n.onset_s * PX_PER_S).toFixed(1), y: 20 + (high - n.pitch) * ROW,
      width: Math.max(2, (n.offset_s - n.onset_s) * PX_PER_S).toFixed(1), height: ROW - 1, rx: 2, class: 'melody-note',
    });
    rect.append(svg('title', {}, `${noteName(n.pitch)} at ${n.onset_s.toFixed(2)} s`));
    root.append(rect);
  }
  const head = svg('line', { x1: 0, x2: 0, y1: 0, y2: height, class: 'melody-playhead', id: 'melody-playhead' });
  root.append(head);
  return { root, head };
}

/** The lead sheet engraved with the score view's OpenSheetMusicDisplay (loaded only on this click). */
async function engrave(url, target, button) {
  button.disabled = true;
  try {
    const [{ loadOsmd }, xml] = await Promise.all([
      import('./score.js'),
      fetch(url).then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.text(); }),
    ]);
    const OSMD = await loadOsmd();
    target.hidden = false;
    const osmd = new OSMD.OpenSheetMusicDisplay(target, { autoResize: false, backend: 'svg', drawTitle: false });
    await osmd.load(xml);
    osmd.render();
    target.dataset.engraved = 'true';
  } catch {
    button.disabled = false;
    target.hidden = true;
    toast('The sheet music could not be shown.', 'error');
  }
}

function jobFromHash() {
  const query = location.hash.split('?')[1] || '';
  return new URLSearchParams(query).get('job');
}

export function renderMelody(root) {
  clear(root);
  const heading = h('h1', { tabindex: '-1' }, 'Melody');
  const status = h('p', { class: 'hint', id: 'melody-status', role: 'status' }, 'Loading the lead sheet…');
  const body = h('div', { id: 'melody-body' });
  root.append(heading, status, body);
  const jobId = jobFromHash();
  let left = false;
  let frame = 0;
  if (!jobId) {
    status.textContent = 'Open the melody from the player while a converted song plays.';
    return () => {};
  }
  (async () => {
    let sheet;
    try {
      sheet = await api(`/audio/jobs/${encodeURIComponent(jobId)}/melody`);
    } catch (err) {
      if (left) return;
      status.textContent = err instanceof ApiError && err.status === 409
        ? 'The song is still being processed; its melody comes with it.'
        : describeError(err, 'The melody');
      return;
    }
    if (left) return;
    if (sheet.status !== 'succeeded') {
      status.textContent = sheet.status === 'failed'
        ? 'The melody of this song could not be written out.'
        : 'This song was converted before melodies were written; convert it again to get one.';
      return;
    }
    const key = sheet.key ? `${sheet.key.tonic} ${sheet.key.mode}` : '';
    status.textContent = `${sheet.notes_count} notes · ${key} · ${sheet.time_signature} · ${Math.round(sheet.bpm || 0)} BPM`;
    const engraveBtn = h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'melody-engrave' }, 'Sheet music');
    const engraved = h('div', { id: 'melody-sheet', class: 'score-sheet', 'aria-label': 'Lead sheet', hidden: true });
    engraveBtn.addEventListener('click', () => engrave(sheet.downloads.musicxml, engraved, engraveBtn));
    body.append(h('p', { class: 'row' }, engraveBtn,
      h('a', { class: 'btn btn-small', href: sheet.downloads.musicxml, download: 'melody.musicxml', id: 'melody-musicxml' }, 'MusicXML'),
      h('a', { class: 'btn btn-small', href: sheet.downloads.midi, download: 'melody.mid', id: 'melody-midi' }, 'MIDI')));
    let notes;
    try {
      const response = await fetch(sheet.downloads.notes, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(String(response.status));
      notes = await response.json();
    } catch {
      if (!left) body.append(h('p', { class: 'hint' }, 'The notes could not be loaded.'));
      return;
    }
    if (left || !notes.notes || !notes.notes.length) return;
    const { root: roll, head } = pianoRoll(notes.notes, notes.bar_times_s || [], sheet.chords || []);
    const scroller = h('div', { class: 'melody-scroll', id: 'melody-roll' }, roll);
    body.append(scroller, engraved);
    const audio = document.getElementById('audio');
    const follow = () => {
      if (left) return;
      const t = audio && !Number.isNaN(audio.currentTime) ? audio.currentTime : 0;
      const x = t * PX_PER_S;
      head.setAttribute('x1', x.toFixed(1));
      head.setAttribute('x2', x.toFixed(1));
      if (audio && !audio.paused) scroller.scrollLeft = Math.max(0, x - scroller.clientWidth / 3);
      frame = requestAnimationFrame(follow);
    };
    frame = requestAnimationFrame(follow);
  })();
  return () => { left = true; cancelAnimationFrame(frame); };
}
