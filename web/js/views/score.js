// Scores (issue 12): `#/scores` lists your scores and uploads a new one (MusicXML, MXL, MIDI, ABC);
// `#/scores?id=<score id>` engraves one in the browser with OpenSheetMusicDisplay, plays it with a
// small Web Audio synth while the OSMD cursor follows, and shows the key timeline, the chords
// (Roman numerals in the local key) and the cadences under the staff. Loaded on demand, and OSMD
// (1.3 MB, vendored under /vendor/osmd/) only when a score is opened: not part of the first load.

import { api, ApiError, describeError } from '../api.js';
import { h, clear, toast, formatTime } from '../ui.js';

const OSMD_SRC = '/vendor/osmd/opensheetmusicdisplay.min.js';
const ACCEPT = '.musicxml,.xml,.mxl,.mid,.midi,.abc';
const PENDING = new Set(['awaiting_upload', 'queued', 'processing']);
const IN_ANALYSIS = new Set(['queued', 'processing']);  // DELETE answers 409 score_in_progress
const STATUS_TEXT = {
  awaiting_upload: 'Waiting for the file', queued: 'Queued', processing: 'Analysing', succeeded: 'Ready', failed: 'Failed',
};

let osmdLoading = null;
/** The OSMD global, loading its script once (same origin: the CSP's script-src 'self' allows it). */
export function loadOsmd() {
  if (window.opensheetmusicdisplay) return Promise.resolve(window.opensheetmusicdisplay);
  if (!osmdLoading) {
    osmdLoading = new Promise((resolve, reject) => {
      const script = h('script', { src: OSMD_SRC, async: true });
      script.addEventListener('load', () => resolve(window.opensheetmusicdisplay));
      script.addEventListener('error', () => { osmdLoading = null; reject(new Error('The score engraver could not be loaded.')); });
      document.head.append(script);
    });
  }
  return osmdLoading;
}

function scoreIdFromHash() {
  const query = location.hash.split('?')[1] || '';
  return new URLSearchParams(query).get('id');
}

function sendFile(upload, file) {
  const form = new FormData();
  for (const [key, value] of Object.entries(upload.fields || {})) form.append(key, value);
  form.append('file', file, file.name);
  return fetch(upload.url, { method: 'POST', body: form }).then((response) => {
    if (!response.ok) throw new Error(`The storage refused the upload (HTTP ${response.status}).`);
  });
}

// --- the list ----------------------------------------------------------------------------------

function renderList(root) {
  let timer = 0;
  let left = false;
  const list = h('ul', { class: 'score-list', 'aria-live': 'polite' });
  const input = h('input', { type: 'file', id: 'score-file', accept: ACCEPT });
  const status = h('p', { class: 'muted', id: 'score-upload-status' });
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Upload score');
  const form = h('form', { class: 'score-upload', 'aria-label': 'Upload a score' },
    h('label', { for: 'score-file' }, 'MusicXML, MXL, MIDI or ABC file'), input, button, status);

  async function refresh() {
    clearTimeout(timer);
    try {
      const page = await api('/scores?limit=50');
      if (left) return;
      clear(list);
      if (!page.items.length) list.append(h('li', { class: 'muted' }, 'No scores yet: upload one above.'));
      for (const item of page.items) {
        const detail = [STATUS_TEXT[item.status] || item.status];
        if (item.summary && item.summary.key) detail.push(item.summary.key);
        if (item.summary && item.summary.measures) detail.push(`${item.summary.measures} bars`);
        if (item.error) detail.push(item.error.message);
        list.append(h('li', { class: 'score-item', dataset: { scoreId: item.score_id, status: item.status } },
          h('a', { href: `#/scores?id=${encodeURIComponent(item.score_id)}` }, item.summary?.title || item.title),
          h('span', { class: 'muted' }, ` · ${detail.join(' · ')}`)));
      }
      if (page.items.some((item) => PENDING.has(item.status))) timer = setTimeout(refresh, 1500);
    } catch (err) {
      if (!left) toast(describeError(err, 'Your scores'), 'error');
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = input.files && input.files[0];
    if (!file) { status.textContent = 'Choose a score file first.'; return; }
    button.disabled = true;
    status.textContent = `Uploading ${file.name}…`;
    try {
      const created = await api('/scores/uploads', { method: 'POST', body: { kind: 'score', filename: file.name, size_bytes: file.size } });
      await sendFile(created.upload, file);
      status.textContent = `${file.name} uploaded: analysing.`;
      form.reset();
      await refresh();
    } catch (err) {
      status.textContent = err.code ? describeError(err, 'The upload') : err.message;
    } finally {
      button.disabled = false;
    }
  });

  root.append(h('h1', { tabindex: '-1' }, 'Scores'), form, list);
  refresh();
  return () => { left = true; clearTimeout(timer); };
}

// --- one score ---------------------------------------------------------------------------------

function chip(text, title) {
  return h('span', { class: 'chip', title }, text);
}

/** The key timeline: one segment per key region, its width proportional to its measures. */
export function keyTimeline(segments, measures) {
  const bar = h('div', { class: 'score-keys', role: 'list', 'aria-label': 'Key timeline' });
  const first = segments.length ? segments[0].start_measure : 0;
  const total = Math.max(1, (measures || 0) || (segments.length ? segments[segments.length - 1].end_measure - first + 1 : 1));
  for (const seg of segments) {
    const span = seg.end_measure - seg.start_measure + 1;
    const el = h('div', { class: 'score-key', role: 'listitem', dataset: { start: seg.start_measure, end: seg.end_measure },
      title: `Bars ${seg.start_measure}–${seg.end_measure}: ${seg.key}` }, seg.key);
    el.style.flexGrow = String(Math.max(1, Math.round((span / total) * 100)));  // CSSOM: allowed by the CSP
    bar.append(el);
  }
  return bar;
}

/** Chords per measure (Roman numerals in the local key) and the cadences. */
export function chordRows(chords, cadences) {
  const byMeasure = new Map();
  for (const c of chords) {
    if (!byMeasure.has(c.measure)) byMeasure.set(c.measure, []);
    byMeasure.get(c.measure).push(c);
  }
  const cadenceAt = new Map(cadences.map((c) => [c.measure, c]));
  const list = h('ol', { class: 'score-chords', 'aria-label': 'Chords per bar' });
  for (const [measure, items] of byMeasure) {
    const cadence = cadenceAt.get(measure);
    list.append(h('li', { dataset: { measure } },
      h('span', { class: 'score-bar-no' }, `Bar ${measure}`),
      h('span', { class: 'score-romans' }, items.map((c) => c.roman || c.root || '·').join(' ')),
      cadence ? h('span', { class: 'chip score-cadence' }, `${cadence.type} cadence`) : null));
  }
  return list;
}

/** A few sine/triangle voices through one gain: enough to hear the notes, tiny to load. */
class Synth {
  constructor() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    this.ctx = new Ctx();
    this.out = this.ctx.createGain();
    this.out.gain.value = 0.18;
    this.out.connect(this.ctx.destination);
  }

  play(midi, seconds) {
    const t = this.ctx.currentTime;
    const osc = this.ctx.createOscillator();
    const env = this.ctx.createGain();
    osc.type = 'triangle';
    osc.frequency.value = 440 * 2 ** ((midi - 69) / 12);
    env.gain.setValueAtTime(0, t);
    env.gain.linearRampToValueAtTime(1, t + 0.01);
    env.gain.exponentialRampToValueAtTime(0.001, t + Math.max(0.08, seconds));
    osc.connect(env).connect(this.out);
    osc.start(t);
    osc.stop(t + Math.max(0.1, seconds) + 0.02);
  }

  close() { this.ctx.close().catch(() => {}); }
}

function renderScore(root, scoreId) {
  let left = false;
  let timer = 0;
  let osmd = null;
  let synth = null;
  let playing = false;
  let stepTimer = 0;
  let bpm = 120;

  const heading = h('h1', { tabindex: '-1' }, 'Score');
  const meta = h('p', { class: 'chips score-meta' });
  const statusLine = h('p', { class: 'muted', id: 'score-status', 'aria-live': 'polite' });
  const sheet = h('div', { id: 'score-sheet', class: 'score-sheet', 'aria-label': 'Engraved score' });
  const play = h('button', { type: 'button', class: 'btn btn-primary', id: 'score-play', disabled: true }, 'Play');
  const position = h('span', { class: 'muted', id: 'score-position', 'aria-live': 'off' });
  const downloads = h('p', { class: 'score-downloads' });
  const under = h('section', { class: 'score-under', 'aria-label': 'Keys and chords' });
  const actions = h('div', { class: 'score-actions' });
  root.append(h('p', {}, h('a', { href: '#/scores' }, '← All scores')), heading, meta, statusLine,
    h('div', { class: 'score-controls' }, play, position), sheet, under, downloads, actions);

  /** "Delete score", confirmed as a song's delete is; then back to the list. Not while analysing (409). */
  function offerDelete(title) {
    clear(actions);
    const del = h('button', { type: 'button', class: 'btn btn-small btn-ghost btn-danger', id: 'score-delete' }, 'Delete score');
    actions.append(del);
    del.addEventListener('click', () => {
      clear(actions);
      const yes = h('button', { type: 'button', class: 'btn btn-small btn-danger' }, 'Delete');
      const no = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'Keep');
      actions.append(h('div', { class: 'confirm', role: 'alertdialog', 'aria-label': `Delete ${title}?` },
        h('p', {}, `Delete “${title}” and its file? This cannot be undone.`), yes, no));
      no.addEventListener('click', () => { offerDelete(title); actions.querySelector('#score-delete').focus(); });
      yes.addEventListener('click', async () => {
        yes.disabled = true; no.disabled = true;
        try {
          await api(`/scores/${encodeURIComponent(scoreId)}`, { method: 'DELETE' });
        } catch (err) {
          // 404: already deleted (another tab, another device): the outcome the user asked for
          if (!(err instanceof ApiError && err.status === 404 && !err.routeMissing)) {
            yes.disabled = false; no.disabled = false;
            toast(describeError(err, 'Deleting'), 'error');
            return;
          }
        }
        toast(`Deleted “${title}”`);
        location.hash = '#/scores';
      });
      yes.focus();
    });
  }

  function stop() {
    playing = false;
    clearTimeout(stepTimer);
    play.textContent = 'Play';
    root.dataset.playing = 'false';
  }

  function step() {
    if (!playing || left) return;
    const cursor = osmd.cursor;
    const iterator = cursor.Iterator;
    if (iterator.EndReached) { stop(); cursor.reset(); return; }
    const wholeS = (4 * 60) / bpm;
    let shortest = Infinity;
    for (const note of cursor.NotesUnderCursor()) {
      const length = note.Length.RealValue * wholeS;
      shortest = Math.min(shortest, length);
      if (!note.isRest() && note.halfTone !== undefined) synth.play(note.halfTone + 12, length);  // halfTone 0 = C0
    }
    const measure = iterator.CurrentMeasureIndex + 1;
    root.dataset.cursorStep = String(Number(root.dataset.cursorStep || 0) + 1);
    root.dataset.cursorMeasure = String(measure);
    position.textContent = `Bar ${measure}`;
    const now = iterator.currentTimeStamp.RealValue;
    cursor.next();
    const next = cursor.Iterator.EndReached ? now + (Number.isFinite(shortest) ? shortest / wholeS : 0.25) : cursor.Iterator.currentTimeStamp.RealValue;
    stepTimer = setTimeout(step, Math.max(30, (next - now) * wholeS * 1000));
  }

  play.addEventListener('click', () => {
    if (!osmd) return;
    if (playing) { stop(); return; }
    if (!synth) synth = new Synth();
    synth.ctx.resume();
    playing = true;
    play.textContent = 'Stop';
    root.dataset.playing = 'true';
    osmd.cursor.show();
    step();
  });

  async function engrave(score) {
    statusLine.textContent = 'Engraving…';
    const [OSMD, xml] = await Promise.all([
      loadOsmd(),
      fetch(score.musicxml_url).then((r) => { if (!r.ok) throw new Error('The score file could not be fetched.'); return r.text(); }),
    ]);
    if (left) return;
    osmd = new OSMD.OpenSheetMusicDisplay(sheet, { autoResize: false, backend: 'svg', drawTitle: true, followCursor: true });
    await osmd.load(xml);
    osmd.render();
    osmd.cursor.show();
    root.dataset.engraved = 'true';
    statusLine.textContent = '';
    play.disabled = false;
  }

  function showAnalysis(score) {
    const a = score.analysis || {};
    heading.textContent = a.title || score.title;
    document.title = `${heading.textContent} · Melody Studio`;
    clear(meta);
    if (a.composer) meta.append(chip(a.composer, 'Composer'));
    if (a.key) meta.append(chip(`${a.key.name} (${Math.round(a.key.confidence * 100)}%)`, 'Key and confidence'));
    if (a.time_signatures && a.time_signatures.length) meta.append(chip(a.time_signatures.map((t) => t.signature).join(', '), 'Meter'));
    if (a.tempo_marks && a.tempo_marks.length) bpm = a.tempo_marks[0].quarter_bpm;
    meta.append(chip(`♩ = ${Math.round(bpm)}${a.tempo_assumed ? ' (assumed)' : ''}`, 'Tempo'));
    if (a.measures) meta.append(chip(`${a.measures} bars`, 'Measures'));
    if (a.duration_s) meta.append(chip(formatTime(a.duration_s), 'Duration at the marked tempo'));
    clear(under);
    under.append(h('h2', {}, 'Keys'), keyTimeline(a.key_timeline || [], a.measures),
      h('h2', {}, 'Chords'), chordRows(a.chords || [], a.cadences || []));
    clear(downloads);
    for (const [what, label] of [['musicxml', 'MusicXML'], ['midi', 'MIDI'], ['original', 'Original']]) {
      downloads.append(h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
        try {
          const link = await api(`/scores/${encodeURIComponent(scoreId)}/download/${what}`);
          location.assign(link.url);
        } catch (err) { toast(describeError(err, 'The download'), 'error'); }
      } }, `Download ${label}`));
    }
  }

  async function load() {
    clearTimeout(timer);
    try {
      const score = await api(`/scores/${encodeURIComponent(scoreId)}`);
      if (left) return;
      root.dataset.status = score.status;
      heading.textContent = score.title;
      // once (load repeats while pending): a file never sent can be deleted too, an analysis cannot
      if (!IN_ANALYSIS.has(score.status) && !actions.firstChild) offerDelete(score.title);
      if (PENDING.has(score.status)) {
        statusLine.textContent = `${STATUS_TEXT[score.status]}…`;
        timer = setTimeout(load, 1500);
        return;
      }
      if (score.status === 'failed') {
        statusLine.textContent = `This score could not be analysed: ${score.error ? score.error.message : 'unknown reason'}`;
        return;
      }
      showAnalysis(score);
      await engrave(score);
    } catch (err) {
      if (!left) statusLine.textContent = err.code ? describeError(err, 'This score') : err.message;
    }
  }

  load();
  return () => {
    left = true;
    clearTimeout(timer);
    stop();
    if (synth) synth.close();
  };
}

export function renderScores(root) {
  clear(root);
  const id = scoreIdFromHash();
  const view = h('div', { class: 'score-view', id: 'score-view' });
  root.append(view);
  return id ? renderScore(view, id) : renderList(view);
}
