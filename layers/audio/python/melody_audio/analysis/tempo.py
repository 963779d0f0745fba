"""Tempo (BPM), beats, downbeats and time signature, with a calibrated confidence.

Method (numpy/scipy only):

1. **Onset strength**: log-compressed magnitude spectrogram on ~36 log-spaced bands
   (11.025 kHz, 93 ms window, 11.6 ms hop), half-wave-rectified spectral flux summed over
   bands, minus a moving average (Bello et al., IEEE TSAP 2005; Böck & Widmer, DAFx 2013).  A
   second envelope from the bands below 200 Hz (kick, bass) is kept for the downbeats.
2. **Metrical-level candidates**: the autocorrelation of the envelope is scored as a comb over
   the first four multiples of each beat period (Ellis, JNMR 2007; Percival & Tzanetakis, IEEE/ACM
   TASLP 2014).  The strongest comb peaks and their ×2, ×3, ×½, ×⅓, ×3/2, ×2/3 relatives are the
   candidates: the fastest periodic pulse is rarely the tapped one.
3. **Choosing the perceptual tempo**: each candidate is described by its comb score, its
   autocorrelation at the beat, half-beat, third-of-a-beat and bar (×2, ×3, ×4) lags, and its
   log-tempo (a log-normal tempo prior as a linear + quadratic term, McKinney & Moelants,
   "Ambiguity in tempo perception", Music Perception 2006).  A conditional-logit model over the
   candidates (weights fitted on the annotated dev split, see ``fitting.py``; cross-validated
   figures in ``benchmarks/README.md``) picks one; its softmax probability, recalibrated with
   a Platt scaling fitted on out-of-fold predictions, is ``confidence`` = P(Accuracy1 holds).
4. **Beats**: Ellis' dynamic-programming tracker at the chosen tempo (tightness chosen by CV); the
   reported BPM is the slope of a line through the beat times when that moves it by under 2 %.
5. **Meter and downbeats**: the subdivision (binary vs ternary: autocorrelation at a third vs
   a half of the beat period) and the bar length (3 vs 4 beats: beat-synchronous accents from bass
   onsets, mid-band onsets, chord change and bass-note change, Goto 2001 / Davies & Plumbley 2006
   style, weights fitted on the dev split, with a 4/4 prior) give
   ``time_signature`` in {"4/4", "3/4", "6/8", "12/8"} and the phase of the downbeats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import uniform_filter1d

from .._dsp import stft
from . import _fitted

SR = 11025
N_FFT = 1024
HOP = 128
FPS = SR / HOP
BPM_MIN, BPM_MAX = 35.0, 260.0
RATIOS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0, 1.5, 2.0 / 3.0)
FEATURES = ("comb", "ac_beat", "ac_half", "ac_third", "ac_bar2", "ac_bar3", "ac_bar4", "lt", "lt2")


@dataclass
class TempoResult:
    bpm: float
    confidence: float
    beats: list = field(default_factory=list)
    onset_env: np.ndarray | None = None
    downbeats: list = field(default_factory=list)
    time_signature: str = "4/4"
    beats_per_bar: int = 4
    low_env: np.ndarray | None = None
    beat_frames: np.ndarray | None = None


def _band_matrix(n_bins: int, sr: int, n_fft: int, n_bands: int = 36, fmin: float = 40.0, fmax: float = 5000.0):
    freqs = np.arange(n_bins) * sr / n_fft
    edges = np.geomspace(fmin, fmax, n_bands + 2)
    m = np.zeros((n_bins, n_bands), dtype=np.float32)
    for b in range(n_bands):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        m[:, b] = np.maximum(0, np.minimum(up, down))
    m /= np.maximum(m.sum(axis=0, keepdims=True), 1e-9)
    return m, edges[1:-1]


def _postprocess(flux: np.ndarray) -> np.ndarray:
    flux = flux - uniform_filter1d(flux, size=int(FPS * 0.5) | 1, mode="nearest")
    flux = np.maximum(flux, 0.0)
    s = flux.std()
    return (flux / s if s > 0 else flux).astype(np.float64)


def onset_bands(x: np.ndarray, sr: int = SR) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(full-band, low-band (< 200 Hz), mid-band (200-1500 Hz)) onset envelopes, all at :data:`FPS`."""
    mag = np.abs(stft(x, N_FFT, HOP))
    bm, centres = _band_matrix(mag.shape[-1], sr, N_FFT)
    bands = mag @ bm
    logb = np.log1p(1000.0 * bands / (bands.max() + 1e-12))
    d = np.maximum(0.0, np.diff(logb, axis=0, prepend=logb[:1]))
    mid = (centres >= 200.0) & (centres < 1500.0)
    return (_postprocess(d.sum(axis=1)), _postprocess(d[:, centres < 200.0].sum(axis=1)),
            _postprocess(d[:, mid].sum(axis=1)))


def onset_envelopes(x: np.ndarray, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """(full-band onset envelope, low-band (< 200 Hz) onset envelope), both at :data:`FPS`."""
    full, low, _ = onset_bands(x, sr)
    return full, low


def onset_envelope(x: np.ndarray, sr: int = SR) -> np.ndarray:
    return onset_envelopes(x, sr)[0]


def _acf(env: np.ndarray) -> np.ndarray:
    n = env.size
    e = env - env.mean()
    f = np.fft.rfft(e, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    ac /= np.maximum(ac[0], 1e-12)
    ac *= n / np.maximum(n - np.arange(n), 1)  # unbias (each lag has n-lag products)
    return ac


def _peak_at(ac: np.ndarray, lag: np.ndarray | float, tol: float = 0.02) -> np.ndarray:
    lag = np.atleast_1d(np.asarray(lag, dtype=np.float64))
    grid = np.arange(ac.size)
    return np.max([np.interp(lag * r, grid, ac, right=0.0) for r in np.linspace(1 - tol, 1 + tol, 5)], axis=0)


def _comb(ac: np.ndarray, bpms: np.ndarray) -> np.ndarray:
    lag = 60.0 * FPS / bpms
    s = np.zeros_like(bpms)
    for k, w in ((1, 1.0), (2, 0.6), (3, 0.35), (4, 0.4)):
        s += w * _peak_at(ac, k * lag, 0.01)
    return s


def candidates(env: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(candidate BPMs (n,), feature matrix (n, len(FEATURES))) for the metrical-level choice."""
    ac = _acf(env)
    bpms = np.arange(BPM_MIN, BPM_MAX, 0.25)
    comb = _comb(ac, bpms)
    top = float(comb.max()) if comb.size and comb.max() > 0 else 1.0
    peaks = np.nonzero((comb[1:-1] > comb[:-2]) & (comb[1:-1] >= comb[2:]))[0] + 1
    peaks = peaks[np.argsort(comb[peaks])[::-1][:4]]
    cands: list[float] = []
    for p in peaks:
        for r in RATIOS:
            c = bpms[p] * r
            if not BPM_MIN <= c < BPM_MAX:
                continue
            # snap to the local comb maximum within ±3 %
            j = np.nonzero(np.abs(bpms / c - 1) <= 0.03)[0]
            if j.size:
                c = float(bpms[j[np.argmax(comb[j])]])
            if all(abs(c / o - 1) > 0.03 for o in cands):
                cands.append(c)
    if not cands:
        cands = [120.0]
    c_arr = np.array(cands)
    lag = 60.0 * FPS / c_arr
    lt = np.log2(c_arr / 110.0)
    feats = np.stack([
        np.interp(c_arr, bpms, comb) / top,
        _peak_at(ac, lag), _peak_at(ac, lag / 2), _peak_at(ac, lag / 3),
        _peak_at(ac, 2 * lag), _peak_at(ac, 3 * lag), _peak_at(ac, 4 * lag),
        lt, lt * lt,
    ], axis=1)
    return c_arr, feats


def choose(feats: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Softmax probabilities over the candidates (conditional logit)."""
    w = np.asarray(_fitted.TEMPO_WEIGHTS if weights is None else weights)
    u = feats @ w
    p = np.exp(u - u.max())
    return p / p.sum()


def calibrate(p: float, ab: tuple[float, float] | None = None) -> float:
    a, b = _fitted.TEMPO_PLATT if ab is None else ab
    z = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))
    return float(1.0 / (1.0 + np.exp(-(a * z + b))))


def track_beats(env: np.ndarray, bpm: float, tightness: float | None = None) -> np.ndarray:
    """Ellis (2007) dynamic-programming beat tracker; returns beat frame indices."""
    tightness = BEAT_TIGHTNESS if tightness is None else tightness
    period = 60.0 * FPS / bpm
    n = env.size
    if n < 4:
        return np.array([], dtype=int)
    win = np.exp(-0.5 * (np.arange(-period, period + 1) * 32.0 / period) ** 2)
    local = np.convolve(env, win, mode="same")
    score = local.copy()
    back = -np.ones(n, dtype=int)
    lo, hi = int(round(-2 * period)), int(round(-period / 2))
    offsets = np.arange(lo, hi + 1)
    txcost = -tightness * np.log(-offsets / period) ** 2
    first = int(np.ceil(period / 2))
    for t in range(first, n):
        cand = t + offsets
        ok = cand >= 0
        if not ok.any():
            continue
        vals = txcost[ok] + score[cand[ok]]
        j = int(np.argmax(vals))
        score[t] = local[t] + vals[j]
        back[t] = cand[ok][j]
    tail = slice(max(0, n - int(period * 1.5)), n)
    t = tail.start + int(np.argmax(score[tail]))
    path = [t]
    while back[t] >= 0:
        t = back[t]
        path.append(t)
    beats = np.array(path[::-1])
    if beats.size:
        strength = local[beats]
        thr = 0.5 * np.sqrt(np.mean(strength ** 2))
        keep = np.nonzero(strength > thr)[0]
        if keep.size:
            beats = beats[keep[0] : keep[-1] + 1]
    return beats


def _zs(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / (v.std() + 1e-9)


# Downbeat accent weights (z-scored beat-synchronous cues): bass onsets, mid-band onsets (snare
# and voice on the backbeats: negative), chord change and bass-note change at the beat. Fitted as
# a conditional logit over the 4 bar phases on the GTZAN dev split (benchmarks/downbeats_fit.py
# prints them): 5-fold CV downbeat F 0.554 against 0.417 for hand-set weights (1.0 bass onset,
# 1.0 chord change) with the same beats.
DOWNBEAT_WEIGHTS = {"low": 0.54, "mid": -0.8, "chord_change": 0.25, "bass_change": 1.16}
# A ternary subdivision is also what a shuffle/swing 4/4 shows (GTZAN blues and jazz are annotated
# with 4 beats per bar): prefer bars of 4 dotted beats (12/8) unless the accents clearly say 2.
TERNARY_BAR_PRIOR = ((4, 0.25), (2, 0.0))
BINARY_BAR_PRIOR = ((4, 0.25), (3, 0.0))
# The bar length (3 vs 4, 2 vs 4) is decided on the earlier hand-set accents (bass onset 1.0,
# onset 0.3, chord change 1.0): the fitted phase weights (mid-band onsets negative) also see the
# chord onsets of a synthetic waltz / 6/8 as backbeats; on the dev split this split costs 0.007 F.
BAR_FULL_WEIGHT = 0.3


def _change(chroma: np.ndarray | None, chroma_fps: float, beats: np.ndarray) -> np.ndarray | None:
    """1 - cosine similarity of consecutive beat-synchronous chroma vectors (0 at the first beat)."""
    if chroma is None or chroma_fps <= 0 or chroma.shape[0] <= 2:
        return None
    idx = np.clip(np.round(beats / FPS * chroma_fps).astype(int), 0, chroma.shape[0] - 1)
    seg = np.add.reduceat(chroma, idx, axis=0)
    seg = seg / (np.linalg.norm(seg, axis=1, keepdims=True) + 1e-9)
    nov = np.r_[0.0, 1.0 - np.sum(seg[1:] * seg[:-1], axis=1)]
    return _zs(nov) if nov.std() > 0 else None


def _best_grouping(acc: np.ndarray, options: tuple[tuple[int, float], ...]) -> tuple[float, int, int]:
    """(score, beats per bar, phase) maximising the accent contrast on vs off the bar starts + prior."""
    best: tuple[float, int, int] = (-np.inf, options[0][0], 0)
    for m, prior in options:
        if acc.size < 2 * m:
            continue
        for p in range(m):
            on = acc[p::m]
            off = np.delete(acc, np.arange(p, acc.size, m))
            s = float(on.mean() - off.mean()) + prior
            if s > best[0]:
                best = (s, m, p)
    return best


def meter(env: np.ndarray, low_env: np.ndarray, beats: np.ndarray, bpm: float,
          chroma: np.ndarray | None = None, chroma_fps: float = 0.0, *,
          mid_env: np.ndarray | None = None, bass_chroma: np.ndarray | None = None) -> tuple[str, int, np.ndarray]:
    """(time signature, beats per bar, downbeat frame indices) from beat-synchronous accents."""
    if beats.size < 6:
        return "4/4", 4, beats[:1]
    ac = _acf(env)
    lag = 60.0 * FPS / bpm
    ternary = float(_peak_at(ac, lag / 3)[0]) > float(_peak_at(ac, lag / 2)[0]) + 0.05
    half = max(1, int(lag / 8))

    def at_beats(e: np.ndarray) -> np.ndarray:
        return _zs(np.array([e[max(0, b - half): b + half + 1].max() for b in beats]))

    low, full = at_beats(low_env), at_beats(env)
    chord, bass = _change(chroma, chroma_fps, beats), _change(bass_chroma, chroma_fps, beats)
    zero = np.zeros(beats.size)
    # bar length from the bar-level accents (bass onsets, onsets, chord change) ...
    bar_acc = low + BAR_FULL_WEIGHT * full + (chord if chord is not None else zero)
    _, m, _ = _best_grouping(bar_acc, TERNARY_BAR_PRIOR if ternary else BINARY_BAR_PRIOR)
    # ... and the bar phase from the fitted downbeat accents
    w = DOWNBEAT_WEIGHTS
    acc = w["low"] * low + w["chord_change"] * (chord if chord is not None else zero)
    acc = acc + w["bass_change"] * (bass if bass is not None else zero)
    if mid_env is not None:
        acc = acc + w["mid"] * at_beats(mid_env)
    _, m, p = _best_grouping(acc, ((m, 0.0),))
    sig = ("6/8" if m == 2 else "12/8") if ternary else f"{m}/4"
    return sig, m, beats[p::m]


COMPOUND_MARGIN = 0.12
COMPOUND_BAR_MARGIN = 0.05
# Ellis DP transition tightness: 1600 was the best of {100, ..., 3200} in every training fold of the
# 5-fold CV on the GTZAN dev split (nested CV beat F 0.854 vs 0.793 at the old 100)
BEAT_TIGHTNESS = 1600.0
# beat-slope BPM refinement only within ±2 %: larger moves were never right on the dev split
REFINE_MAX = 0.02


def _compound_check(env: np.ndarray, bpm: float) -> float:
    """Compound meter (6/8, 12/8): when the envelope repeats more strongly every 1.5 beats than
    every beat, the chosen pulse may be the 'quarter' of a dotted-quarter beat; return the slower
    tempo.  Guard: the compound bar (2 dotted beats = 3 chosen pulses) must also repeat more
    strongly than a 4-pulse (4/4) bar; without it the check fired on 4/4 pop with a strong
    dotted-eighth figure (GTZAN pop-00005, pop-00009)."""
    ac = _acf(env)
    lag = 60.0 * FPS / bpm
    dotted, beat = float(_peak_at(ac, 1.5 * lag)[0]), float(_peak_at(ac, lag)[0])
    bar3, bar4 = float(_peak_at(ac, 3 * lag)[0]), float(_peak_at(ac, 4 * lag)[0])
    if dotted > beat + COMPOUND_MARGIN and bar3 > bar4 + COMPOUND_BAR_MARGIN and bpm / 1.5 >= BPM_MIN:
        return bpm / 1.5
    return bpm


def tempo(x: np.ndarray, sr: int = SR, chroma: np.ndarray | None = None, chroma_fps: float = 0.0,
          bass_chroma: np.ndarray | None = None) -> TempoResult:
    """``x``: mono float signal at :data:`SR` Hz; ``chroma``/``bass_chroma`` (frames x 12 at
    ``chroma_fps``) give the chord- and bass-change accents for the downbeats."""
    if x.size < SR * 2:
        return TempoResult(0.0, 0.0, [], None)
    env, low_env, mid_env = onset_bands(x, sr)
    if not np.any(env > 0):
        return TempoResult(0.0, 0.0, [], env, low_env=low_env)
    cands, feats = candidates(env)
    p = choose(feats)
    i = int(np.argmax(p))
    bpm = float(cands[i])
    conf = calibrate(float(p[i]))
    bpm = _compound_check(env, bpm)
    beats = track_beats(env, bpm)
    if beats.size >= 8:
        k = np.arange(beats.size)
        slope = np.polyfit(k, beats / FPS, 1)[0]
        if slope > 0 and abs(60.0 / slope / bpm - 1) < REFINE_MAX:
            bpm = 60.0 / slope
    sig, per_bar, down = meter(env, low_env, beats, bpm, chroma, chroma_fps, mid_env=mid_env, bass_chroma=bass_chroma)
    return TempoResult(round(float(bpm), 2), round(conf, 3), (beats / FPS).round(3).tolist(), env,
                       (down / FPS).round(3).tolist(), sig, per_bar, low_env, beats)
