// The seekable waveform: a <canvas role="slider"> drawn from BBC audiowaveform JSON (version 2).
// Pointer: click or drag to seek. Keyboard: arrows ±5 s, PageUp/PageDown ±30 s, Home/End.

import { formatTime } from './ui.js';

/** Validate a BBC audiowaveform v2 document and return peak magnitudes (0..1) per pixel column. */
export function parseWaveform(doc) {
  if (!doc || !Array.isArray(doc.data) || doc.data.length < 2) throw new Error('not a waveform');
  const channels = doc.channels || 1;
  const bits = doc.bits || 8;
  const full = bits === 8 ? 128 : 32768;
  const length = doc.length || Math.floor(doc.data.length / (2 * channels));
  const peaks = new Float32Array(length);
  for (let i = 0; i < length; i += 1) {
    let peak = 0;
    for (let c = 0; c < channels; c += 1) {
      const base = 2 * (i * channels + c);
      const lo = Math.abs(doc.data[base] || 0);
      const hi = Math.abs(doc.data[base + 1] || 0);
      peak = Math.max(peak, lo, hi);
    }
    peaks[i] = Math.min(1, peak / full);
  }
  const duration = doc.sample_rate && doc.samples_per_pixel
    ? (length * doc.samples_per_pixel) / doc.sample_rate
    : null;
  return { peaks, duration };
}

export class Waveform {
  constructor(canvas, { onSeek }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.onSeek = onSeek;
    this.peaks = null;
    this.progress = 0;
    this.duration = 0;
    this.current = 0;
    this.colors = null;
    this.dragging = false;

    const seekFromEvent = (event) => {
      const rect = canvas.getBoundingClientRect();
      const fraction = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
      if (this.duration > 0) this.onSeek(fraction * this.duration);
    };
    canvas.addEventListener('pointerdown', (event) => {
      if (!this.duration) return;
      this.dragging = true;
      canvas.setPointerCapture(event.pointerId);
      seekFromEvent(event);
    });
    canvas.addEventListener('pointermove', (event) => { if (this.dragging) seekFromEvent(event); });
    const stop = () => { this.dragging = false; };
    canvas.addEventListener('pointerup', stop);
    canvas.addEventListener('pointercancel', stop);
    canvas.addEventListener('keydown', (event) => {
      if (!this.duration) return;
      const steps = { ArrowRight: 5, ArrowUp: 5, ArrowLeft: -5, ArrowDown: -5, PageUp: 30, PageDown: -30 };
      let target = null;
      if (event.key in steps) target = this.current + steps[event.key];
      else if (event.key === 'Home') target = 0;
      else if (event.key === 'End') target = this.duration - 0.1;
      if (target === null) return;
      event.preventDefault();
      this.onSeek(Math.min(this.duration, Math.max(0, target)));
    });
    if ('ResizeObserver' in window) {
      new ResizeObserver(() => this.draw()).observe(canvas);
    } else {
      window.addEventListener('resize', () => this.draw());
    }
  }

  setPeaks(peaks) {
    this.peaks = peaks;
    this.draw();
  }

  setTime(current, duration) {
    this.current = current || 0;
    this.duration = Number.isFinite(duration) ? duration : 0;
    this.progress = this.duration ? Math.min(1, this.current / this.duration) : 0;
    const c = this.canvas;
    c.setAttribute('aria-valuemax', String(Math.round(this.duration)));
    c.setAttribute('aria-valuenow', String(Math.round(this.current)));
    c.setAttribute('aria-valuetext', `${formatTime(this.current)} of ${formatTime(this.duration)}`);
    this.draw();
  }

  /** The A–B practice loop as fractions (0..1) of the duration, or null: shaded over the bars. */
  setRegion(a, b = a) {
    this.region = a == null ? null : [Math.max(0, Math.min(1, a)), Math.max(0, Math.min(1, b))];
    this.canvas.dataset.region = this.region ? this.region.map((f) => f.toFixed(4)).join('-') : '';
    this.draw();
  }

  draw() {
    this.paint();
    if (!this.region) return;
    const { canvas, ctx } = this;
    const [a, b] = this.region;
    const x0 = Math.round(a * canvas.width);
    const x1 = Math.max(x0 + 2, Math.round(b * canvas.width));
    ctx.save();
    ctx.globalAlpha = 0.22;
    ctx.fillStyle = this.colors.played;
    ctx.fillRect(x0, 0, x1 - x0, canvas.height);
    ctx.globalAlpha = 1;
    ctx.fillRect(x0, 0, 2, canvas.height);
    if (b > a) ctx.fillRect(x1 - 2, 0, 2, canvas.height);
    ctx.restore();
  }

  paint() {
    const { canvas, ctx } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    if (!this.colors) {
      const style = getComputedStyle(document.documentElement);
      this.colors = {
        played: style.getPropertyValue('--accent').trim() || '#b79cff',
        rest: style.getPropertyValue('--wave').trim() || '#5d5670',
      };
    }
    ctx.clearRect(0, 0, width, height);
    const split = Math.round(this.progress * width);
    const mid = height / 2;
    if (!this.peaks || !this.peaks.length) {
      // No waveform yet: a simple progress line.
      const bar = Math.max(2, Math.round(4 * ratio));
      ctx.fillStyle = this.colors.rest;
      ctx.fillRect(0, mid - bar / 2, width, bar);
      ctx.fillStyle = this.colors.played;
      ctx.fillRect(0, mid - bar / 2, split, bar);
      return;
    }
    const barWidth = Math.max(1, Math.round(2 * ratio));
    const gap = Math.max(1, Math.round(ratio));
    const step = barWidth + gap;
    const columns = Math.floor(width / step);
    const per = this.peaks.length / columns;
    for (let col = 0; col < columns; col += 1) {
      const from = Math.floor(col * per);
      const to = Math.max(from + 1, Math.floor((col + 1) * per));
      let peak = 0;
      for (let i = from; i < to && i < this.peaks.length; i += 1) peak = Math.max(peak, this.peaks[i]);
      const barHeight = Math.max(ratio, peak * (height - 2 * ratio));
      const x = col * step;
      ctx.fillStyle = x < split ? this.colors.played : this.colors.rest;
      ctx.fillRect(x, mid - barHeight / 2, barWidth, barHeight);
    }
  }
}
