// The vocal guide: the vocal stem mixed under the instrumental at 0–100 %, through Web Audio.
//
// Why two streamed <audio> elements and not decoded buffers: a 6-minute stereo stem decoded to PCM
// is 6 × 60 × 44100 × 2 × 4 bytes ≈ 127 MB of Float32, two stems ≈ 254 MB, more than a phone
// gives a tab. Media elements stream and decode a few seconds at a time, so memory stays flat
// whatever the song's length. The price is that two elements have two clocks; the player's
// <audio> (the instrumental, or a rendition of it) is the one clock, and this module slaves the
// vocals element to it: every 50 ms it measures the drift (vocals − main − the Web Audio graph's
// own latency, by which the vocals must lead to reach the speaker together), smooths it over
// about 0.2 s of readings (one reading jitters by a render quantum, ~10 ms), and
//   * above 500 ms (a seek, a stall) re-seeks the vocals to the main clock;
//   * above 5 ms starts a correction: the vocals play 3 % faster or slower (inaudible: the element
//     preserves pitch) until the drift is back under 2 ms, then exactly at the main rate again.
// The rate changes only at those two moments: every playbackRate change restarts the element's
// time-stretcher, so a controller that retunes it on each tick adds the jitter it fights.
// The drift is published as `data-drift-ms`, and its max since it last converged (within 5 ms
// after a start, seek or new source) as `data-max-drift-ms`, for tests and support.
//
// Only the vocals go through the AudioContext (MediaElementAudioSourceNode → Gain → Analyser →
// destination); the main element keeps playing on its own, so the guide can never silence the song.

const SYNC_INTERVAL_MS = 50;
const HARD_SEEK_S = 0.5;
const START_CORRECTION_S = 0.005;
const END_CORRECTION_S = 0.002;
const CORRECTION = 0.03;
const CONVERGED_S = 0.005;
const SMOOTHING = 0.25; // per 50 ms reading: a time constant of about 0.2 s

/**
 * The vocals' playbackRate given their (smoothed) drift against the main clock (seconds; + =
 * ahead) and whether a correction is running: [rate, correcting].
 */
export function correctedRate(driftS, mainRate, correcting) {
  const size = Math.abs(driftS);
  if (correcting ? size <= END_CORRECTION_S : size <= START_CORRECTION_S) return [mainRate, false];
  return [mainRate * (driftS > 0 ? 1 - CORRECTION : 1 + CORRECTION), true];
}

/** RMS level (0..1) of an analyser's current time-domain frame. */
export function rmsLevel(analyser, buffer) {
  analyser.getFloatTimeDomainData(buffer);
  let sum = 0;
  for (let i = 0; i < buffer.length; i += 1) sum += buffer[i] * buffer[i];
  return Math.sqrt(sum / buffer.length);
}

export class VocalGuide {
  /** `main` is the player's <audio>; `onLevel(level, driftMs)` is called on every sync tick. */
  constructor(main, { onLevel = () => {} } = {}) {
    this.main = main;
    this.onLevel = onLevel;
    this.vocals = new Audio();
    this.vocals.preload = 'auto';
    // Same-origin locally; in AWS the media bucket's CORS lets the analyser read the samples.
    this.vocals.crossOrigin = 'anonymous';
    this.url = null;
    this.percent = 0;
    this.ctx = null;
    this.timer = 0;
    this.maxDriftMs = 0;
    this.lastDriftMs = 0;
    for (const type of ['play', 'pause', 'seeking', 'ratechange', 'ended', 'emptied']) {
      main.addEventListener(type, () => {
        if (type === 'seeking' || type === 'play') this.resettle();
        this.follow(type);
      });
    }
  }

  /** Build the graph (on a user gesture: the slider), once. */
  ensureGraph() {
    if (this.ctx) return this.ctx;
    const Context = window.AudioContext || window.webkitAudioContext;
    this.ctx = new Context({ latencyHint: 'interactive' });
    this.source = this.ctx.createMediaElementSource(this.vocals);
    this.gain = this.ctx.createGain();
    this.gain.gain.value = 0;
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 2048;
    this.frame = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.gain).connect(this.analyser).connect(this.ctx.destination);
    return this.ctx;
  }

  /** The vocal stem to follow (null: none, e.g. a song without stems). */
  setSource(url) {
    if (url === this.url) return;
    this.url = url;
    this.resettle();
    if (!url) {
      this.vocals.pause();
      this.vocals.removeAttribute('src');
      this.vocals.load();
      return;
    }
    this.vocals.src = url;
    this.vocals.load();
    this.follow('source');
  }

  /** 0–100 %: a squared curve, so the low end of the slider (a faint guide) has room. */
  setLevel(percent) {
    this.percent = Math.max(0, Math.min(100, Number(percent) || 0));
    if (this.percent > 0) this.ensureGraph();
    if (!this.ctx) return;
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    const gain = (this.percent / 100) ** 2;
    this.gain.gain.setTargetAtTime(gain, this.ctx.currentTime, 0.03);
    this.follow('level');
  }

  get active() {
    return Boolean(this.url && this.percent > 0);
  }

  /** React to the main element: play/pause/seek with it; the sync loop runs only while both play. */
  follow() {
    const { main, vocals } = this;
    if (!this.active || main.paused || main.ended) {
      if (!vocals.paused) vocals.pause();
      this.stopLoop();
      this.report();
      return;
    }
    if (Math.abs(vocals.currentTime - main.currentTime - this.lead()) > HARD_SEEK_S) this.seekToMain();
    if (vocals.paused) vocals.play().catch(() => {});
    this.startLoop();
  }

  /** How far the vocals element must lead the main one: the audio graph's processing latency. */
  lead() {
    return this.ctx ? (this.ctx.baseLatency || 0) : 0;
  }

  seekToMain() {
    this.resettle();
    try { this.vocals.currentTime = this.main.currentTime + this.lead(); } catch { /* not seekable yet */ }
  }

  startLoop() {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), SYNC_INTERVAL_MS);
  }

  stopLoop() {
    clearInterval(this.timer);
    this.timer = 0;
  }

  tick() {
    const { main, vocals } = this;
    if (!this.active || main.paused) { this.follow(); return; }
    if (vocals.readyState < 2 || vocals.seeking) { this.report(); return; }
    const raw = vocals.currentTime - main.currentTime - this.lead();
    if (Math.abs(raw) > HARD_SEEK_S) {
      this.seekToMain();
    } else {
      const drift = this.smoothed == null ? raw : (1 - SMOOTHING) * this.smoothed + SMOOTHING * raw;
      this.smoothed = drift;
      const [rate, correcting] = correctedRate(drift, main.playbackRate || 1, this.correcting);
      this.correcting = correcting;
      if (vocals.playbackRate !== rate) vocals.playbackRate = rate;
      this.lastDriftMs = drift * 1000;
      if (!this.converged && Math.abs(drift) <= CONVERGED_S) this.converged = true;
      if (this.converged) this.maxDriftMs = Math.max(this.maxDriftMs, Math.abs(this.lastDriftMs));
    }
    if (vocals.paused) vocals.play().catch(() => {});
    this.report();
  }

  level() {
    return this.analyser && this.active ? rmsLevel(this.analyser, this.frame) : 0;
  }

  report() {
    this.onLevel(this.level(), this.lastDriftMs, this.maxDriftMs);
  }

  /** After a start, seek or new source: converge again before the max drift counts. */
  resettle() {
    this.converged = false;
    this.correcting = false;
    this.smoothed = null;
    this.maxDriftMs = 0;
  }

  destroy() {
    this.stopLoop();
    this.setSource(null);
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = null;
  }
}
