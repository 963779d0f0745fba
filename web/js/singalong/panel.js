// The sing-along panel under the player (lazy-loaded when a song with stems opens): key and tempo
// (renditions), the vocal guide, an A–B practice loop with a count-in, and the lyrics.
//
// Times: the player's <audio> plays either the original stems or a rendition at tempo r, whose
// timeline is the original's divided by r. Loop points and lyrics live on the original timeline
// ("song time" = element time × r), so they survive tempo changes.

import { describeError } from '../api.js';
import { h, debounce, formatTime, toast } from '../ui.js';
import { VocalGuide } from './guide.js';
import { countInPlan, playCountIn } from './countin.js';
import { LyricsPanel } from './lyrics.js';
import { isIdentity, mapPosition, obtainRendition, renditionMedia, shiftTonic } from './renditions.js';

const TICK_MS = 50;

function range(id, label, { min, max, step, value }) {
  const input = h('input', { type: 'range', id, min: String(min), max: String(max), step: String(step), value: String(value) });
  const out = h('output', { for: id, id: `${id}-value`, class: 'sing-value' });
  return { input, out, row: h('div', { class: 'sing-control' }, h('label', { for: id }, label), input, out) };
}

export class SingAlong {
  constructor(player) {
    this.player = player;
    this.audio = player.audio;
    this.semitones = 0;
    this.tempo = 1;
    this.base = null; // the original stems and analysis
    this.analysis = null; // what plays now (a rendition's analysis is shifted)
    this.loopA = null;
    this.loopB = null;
    this.request = null; // AbortController of the rendition being made
    this.counting = null; // AbortController of a running count-in
    this.timer = 0;

    this.key = range('sing-key', 'Key', { min: -6, max: 6, step: 1, value: 0 });
    this.speed = range('sing-tempo', 'Tempo', { min: 75, max: 125, step: 5, value: 100 });
    this.guideCtl = range('sing-guide', 'Vocal guide', { min: 0, max: 100, step: 5, value: 0 });
    this.meter = h('meter', { id: 'guide-level', class: 'guide-meter', min: '0', max: '1', value: '0', 'aria-label': 'Vocal guide level' });
    this.guideCtl.row.append(this.meter);
    this.keyName = h('p', { class: 'sing-key-name', id: 'sing-key-name', 'aria-live': 'polite' });
    this.status = h('p', { class: 'sing-status', id: 'sing-status', role: 'status' });
    this.setA = h('button', { type: 'button', class: 'btn btn-small', id: 'loop-a', 'aria-label': 'Set loop start (A) here' }, 'A');
    this.setB = h('button', { type: 'button', class: 'btn btn-small', id: 'loop-b', 'aria-label': 'Set loop end (B) here' }, 'B');
    this.clearLoop = h('button', { type: 'button', class: 'btn btn-small', id: 'loop-clear', disabled: true }, 'Clear loop');
    this.loopOut = h('output', { id: 'loop-range', class: 'sing-value' }, 'No loop');
    this.countBox = h('input', { type: 'checkbox', id: 'count-in' });
    this.lyrics = new LyricsPanel();
    this.root = h('section', { class: 'singalong', id: 'singalong', 'aria-label': 'Sing along', hidden: true },
      h('div', { class: 'sing-grid' },
        this.key.row, this.speed.row, this.guideCtl.row,
        h('div', { class: 'sing-control sing-loop', role: 'group', 'aria-label': 'A–B practice loop' },
          h('span', { class: 'sing-label' }, 'Loop'), this.setA, this.setB, this.clearLoop, this.loopOut,
          h('label', { class: 'count-in' }, this.countBox, ' Count-in'))),
      this.keyName, this.status, this.lyrics.root);

    this.guide = new VocalGuide(this.audio, {
      onLevel: (level, drift, maxDrift) => {
        this.meter.value = level;
        this.meter.dataset.level = level.toFixed(4);
        this.root.dataset.driftMs = drift.toFixed(1);
        this.root.dataset.maxDriftMs = maxDrift.toFixed(1);
      },
    });
    this.key.input.addEventListener('input', () => this.showTargets());
    this.speed.input.addEventListener('input', () => this.showTargets());
    // Arrow keys step the sliders one change at a time: wait until the user settles before asking
    // the server for a rendition (each one is real work), and abandon superseded requests.
    this.applySoon = debounce(() => this.applyControls(), 700);
    this.key.input.addEventListener('change', () => this.applySoon());
    this.speed.input.addEventListener('change', () => this.applySoon());
    this.guideCtl.input.addEventListener('input', () => this.setGuide());
    this.setA.addEventListener('click', () => this.markLoop('a'));
    this.setB.addEventListener('click', () => this.markLoop('b'));
    this.clearLoop.addEventListener('click', () => this.setLoop(null, null));
    for (const type of ['play', 'pause', 'seeked', 'timeupdate']) this.audio.addEventListener(type, () => this.sync());
    this.audio.addEventListener('durationchange', () => this.drawLoop());
    this.showTargets();
  }

  mount(after) {
    after.after(this.root);
  }

  /** A new song in the player: everything back to the original, the panel hidden until stems come. */
  reset() {
    this.applySoon.cancel();
    if (this.request) this.request.abort();
    if (this.counting) this.counting.abort();
    this.request = null;
    this.semitones = 0;
    this.tempo = 1;
    this.key.input.value = '0';
    this.speed.input.value = '100';
    this.base = null;
    this.analysis = null;
    this.jobId = null;
    this.setLoop(null, null);
    this.guide.setSource(null);
    this.status.textContent = '';
    this.keyName.textContent = '';
    this.root.hidden = true;
    this.lyrics.load(null);
    this.showTargets();
  }

  /** The song's stems are here: `media` {instrumental, vocals, analysis}, its job and its lyrics id. */
  attach(media, { jobId, songId }) {
    this.base = { instrumental: media.instrumental, vocals: media.vocals, analysis: media.analysis };
    this.jobId = jobId;
    this.root.hidden = false;
    this.key.input.disabled = !jobId;
    this.speed.input.disabled = !jobId;
    if (this.tempo === 1 && this.semitones === 0) {
      this.analysis = media.analysis;
      this.guide.setSource(media.vocals);
      this.showKey();
    }
    if (songId !== this.lyrics.songId) this.lyrics.load(songId);
    this.guideCtl.input.disabled = !media.vocals;
    this.setGuide();
  }

  /** Lyrics only (a song without stems still has words). */
  attachLyrics(songId) {
    if (!songId) return;
    this.root.hidden = false;
    if (songId !== this.lyrics.songId) this.lyrics.load(songId);
  }

  // -- key and tempo ---------------------------------------------------------------------

  targets() {
    return { semitones: Number(this.key.input.value) || 0, tempo: (Number(this.speed.input.value) || 100) / 100 };
  }

  showTargets() {
    const { semitones, tempo } = this.targets();
    this.key.out.textContent = semitones > 0 ? `+${semitones}` : String(semitones).replace('-', '−');
    this.key.input.setAttribute('aria-valuetext', `${semitones === 0 ? 'original key' : `${Math.abs(semitones)} semitone${Math.abs(semitones) === 1 ? '' : 's'} ${semitones > 0 ? 'up' : 'down'}`}`);
    this.speed.out.textContent = `${Math.round(tempo * 100)} %`;
    this.speed.input.setAttribute('aria-valuetext', `${Math.round(tempo * 100)} percent`);
  }

  async applyControls() {
    const { semitones, tempo } = this.targets();
    if (semitones === this.semitones && tempo === this.tempo) return;
    if (this.request) this.request.abort();
    if (!this.base || !this.jobId) return;
    if (isIdentity(semitones, tempo)) {
      this.request = null;
      this.status.textContent = '';
      this.switchTo({ ...this.base }, 0, 1);
      return;
    }
    const request = new AbortController();
    this.request = request;
    const label = `key ${semitones > 0 ? '+' : ''}${semitones}, tempo ${Math.round(tempo * 100)} %`;
    this.status.textContent = `Preparing ${label}…`;
    this.root.dataset.rendition = 'pending';
    try {
      const body = await obtainRendition(this.jobId, semitones, tempo, {
        signal: request.signal,
        onProgress: (b) => {
          const pct = Number.isFinite(b.progress) ? ` ${Math.round(b.progress)}%` : '';
          this.status.textContent = `Preparing ${label}…${pct}`;
        },
      });
      if (request !== this.request) return;
      const media = renditionMedia(body);
      if (!media.instrumental) throw new Error('no instrumental in the rendition');
      this.request = null;
      this.status.textContent = `Playing ${label}`;
      this.root.dataset.rendition = body.rendition_id || 'ready';
      this.switchTo(media, semitones, tempo);
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      if (request !== this.request) return;
      this.request = null;
      this.root.dataset.rendition = 'failed';
      this.status.textContent = describeError(err, 'The new key and tempo');
      // Back to what plays, so the controls tell the truth.
      this.key.input.value = String(this.semitones);
      this.speed.input.value = String(Math.round(this.tempo * 100));
      this.showTargets();
    }
  }

  /** Play `media` (original stems or a rendition) from the same musical position. */
  switchTo(media, semitones, tempo) {
    const position = mapPosition(this.audio.currentTime || 0, this.tempo, tempo);
    this.semitones = semitones;
    this.tempo = tempo;
    this.root.dataset.semitones = String(semitones);
    this.root.dataset.tempo = String(tempo);
    this.analysis = media.analysis || this.base.analysis;
    this.player.useStems({ instrumental: media.instrumental, vocals: media.vocals, analysis: this.analysis }, position);
    this.guide.setSource(media.vocals || null);
    this.showKey();
    this.drawLoop();
  }

  showKey() {
    const key = this.analysis && this.analysis.key;
    const baseKey = this.base && this.base.analysis && this.base.analysis.key;
    let text = '';
    if (key && key.tonic) {
      // A rendition's analysis carries the shifted key; an older one without it is shifted here.
      const shifted = this.semitones && baseKey && key.tonic === baseKey.tonic ? shiftTonic(key.tonic, this.semitones) || key.tonic : key.tonic;
      const mode = key.mode ? ` ${key.mode}` : '';
      const change = this.semitones ? ` (${this.semitones > 0 ? '+' : '−'}${Math.abs(this.semitones)})` : '';
      text = `Key: ${shifted}${mode}${change}`;
      this.keyName.dataset.tonic = shifted;
    }
    const bpm = this.analysis && this.analysis.tempo && this.analysis.tempo.bpm;
    if (Number.isFinite(bpm)) text += `${text ? ' · ' : ''}${Math.round(bpm)} BPM`;
    this.keyName.textContent = text;
  }

  // -- vocal guide -----------------------------------------------------------------------

  setGuide() {
    const percent = Number(this.guideCtl.input.value) || 0;
    this.guideCtl.out.textContent = `${percent} %`;
    // The guide mixes vocals under the instrumental: over the original or the vocals it would double them.
    const onInstrumental = this.player.stem === 'instrumental';
    this.guide.setLevel(onInstrumental ? percent : 0);
    this.root.dataset.guide = String(onInstrumental ? percent : 0);
  }

  // -- A–B loop and count-in -------------------------------------------------------------

  songTime() {
    return (this.audio.currentTime || 0) * this.tempo;
  }

  markLoop(which) {
    const t = this.songTime();
    if (which === 'a') this.setLoop(t, this.loopB != null && this.loopB > t ? this.loopB : null);
    else if (this.loopA != null && t > this.loopA + 0.25) this.setLoop(this.loopA, t);
    else toast('Set A first, then B later in the song.');
  }

  setLoop(a, b) {
    this.loopA = a;
    this.loopB = b;
    this.clearLoop.disabled = a == null;
    this.loopOut.textContent = a == null ? 'No loop' : `${formatTime(a)} – ${b == null ? '…' : formatTime(b)}`;
    this.root.dataset.loop = a == null ? '' : `${a.toFixed(2)}-${b == null ? '' : b.toFixed(2)}`;
    this.drawLoop();
  }

  drawLoop() {
    const duration = this.audio.duration;
    const wave = this.player.waveform;
    if (!wave.setRegion) return;
    if (this.loopA == null || !Number.isFinite(duration) || duration <= 0) { wave.setRegion(null); return; }
    const end = this.loopB == null ? this.loopA : this.loopB;
    wave.setRegion((this.loopA / this.tempo) / duration, (end / this.tempo) / duration);
  }

  wantsCountIn() {
    return this.countBox.checked && !this.root.hidden;
  }

  /** Count in on the beat grid of what plays, then play from the current position. */
  async countInThenPlay() {
    if (this.counting) { this.counting.abort(); this.counting = null; return; }
    const ctx = this.guide.ensureGraph();
    if (ctx.state === 'suspended') await ctx.resume().catch(() => {});
    const tempo = (this.analysis && this.analysis.tempo) || {};
    const meter = Number(String(tempo.time_signature || '4/4').split('/')[0]) || 4;
    const plan = countInPlan({ beats: tempo.beats, bpm: tempo.bpm, position: this.audio.currentTime || 0, count: Math.min(Math.max(meter, 2), 7) });
    const counting = new AbortController();
    this.counting = counting;
    this.root.dataset.counting = '0';
    try {
      await playCountIn(ctx, plan, { signal: counting.signal, onClick: (i) => { this.root.dataset.counting = String(i + 1); } });
      if (counting === this.counting) await this.player.play();
    } catch { /* aborted */ }
    if (counting === this.counting) this.counting = null;
    delete this.root.dataset.counting;
  }

  // -- per tick: loop, lyrics ------------------------------------------------------------

  sync() {
    if (!this.audio.paused && !this.timer) this.timer = setInterval(() => this.tick(), TICK_MS);
    if (this.audio.paused && this.timer) { clearInterval(this.timer); this.timer = 0; }
    this.tick();
  }

  tick() {
    const t = this.songTime();
    if (this.loopA != null && this.loopB != null && !this.audio.paused && t >= this.loopB) {
      this.player.seek(this.loopA / this.tempo);
      if (this.wantsCountIn()) {
        this.audio.pause();
        this.countInThenPlay();
      }
    }
    this.lyrics.update(this.songTime());
  }
}
