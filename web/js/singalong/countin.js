// Count-in: clicks on the song's beat grid before playback resumes, so a singer comes in on time.
//
// The clicks are Web Audio oscillator blips scheduled on the AudioContext clock (sample-accurate,
// unlike timers); playback starts when the grid reaches the resume position. With the beats of the
// analysis (or of the rendition, already rescaled), the clicks continue the song's own grid: the
// resume position p falls between beats, so the last click lands one interval before the next beat
// and playback starts (nextBeat − p) before that beat.

/** The beat interval around `position` (median of nearby beat gaps), else from the BPM, else 0.5 s. */
export function beatInterval(beats, position, bpm) {
  if (Array.isArray(beats) && beats.length >= 2) {
    let i = beats.findIndex((b) => b >= position);
    if (i < 0) i = beats.length - 1;
    const from = Math.max(1, i - 4);
    const to = Math.min(beats.length - 1, i + 4);
    const gaps = [];
    for (let k = from; k <= to; k += 1) gaps.push(beats[k] - beats[k - 1]);
    gaps.sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)];
    if (median > 0.2 && median < 2) return median;
  }
  if (Number.isFinite(bpm) && bpm > 30 && bpm < 300) return 60 / bpm;
  return 0.5;
}

/**
 * The count-in plan for resuming at `position`: `count` clicks `interval` apart, and `startAfter`,
 * the seconds from the first click at which playback must start so the song's next beat falls one
 * interval after the last click. `accents[i]` marks a bar's first beat (the first click).
 */
export function countInPlan({ beats, bpm, position, count = 4 }) {
  const interval = beatInterval(beats, position, bpm);
  let nextBeat = position;
  if (Array.isArray(beats) && beats.length) {
    const found = beats.find((b) => b >= position - 0.005);
    if (found !== undefined && found - position < interval) nextBeat = found;
  }
  const lead = Math.max(0, nextBeat - position);
  const clicks = Array.from({ length: count }, (_, i) => i * interval);
  return { interval, clicks, startAfter: count * interval - lead, accents: clicks.map((_, i) => i === 0) };
}

/** Schedule one click: a short decaying sine (accented: higher) at `when` on `ctx`'s clock. */
function click(ctx, when, accent) {
  const osc = ctx.createOscillator();
  const env = ctx.createGain();
  osc.frequency.value = accent ? 1500 : 1000;
  env.gain.setValueAtTime(0.0001, when);
  env.gain.exponentialRampToValueAtTime(0.6, when + 0.002);
  env.gain.exponentialRampToValueAtTime(0.0001, when + 0.06);
  osc.connect(env).connect(ctx.destination);
  osc.start(when);
  osc.stop(when + 0.08);
}

/**
 * Play the count-in on `ctx` and resolve when playback should start (or reject with an AbortError
 * when `signal` aborts: the user pressed pause or seeked meanwhile). `onClick(i)` runs per click.
 */
export function playCountIn(ctx, plan, { signal, onClick = () => {} } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = ctx.currentTime + 0.08;
    plan.clicks.forEach((offset, i) => click(ctx, t0 + offset, plan.accents[i]));
    const timers = plan.clicks.map((offset, i) => setTimeout(() => onClick(i), (t0 - ctx.currentTime + offset) * 1000));
    const start = setTimeout(() => resolve(), Math.max(0, (t0 - ctx.currentTime + plan.startAfter) * 1000));
    if (signal) {
      signal.addEventListener('abort', () => {
        timers.forEach(clearTimeout);
        clearTimeout(start);
        reject(new DOMException('count-in aborted', 'AbortError'));
      }, { once: true });
    }
  });
}
