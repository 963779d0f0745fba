"""Predominant-pitch (sung melody) tracking for the dsp separation engine: numpy only.

The input is a *voice-emphasising* magnitude spectrogram (frames x bins), e.g. the
temporal-variability residual of :mod:`.dsp`.  Pitch salience is the harmonic sum of that
spectrogram over a log-frequency grid (Klapuri, "Multiple fundamental frequency estimation by
summing harmonic amplitudes", ISMIR 2006; Salamon & Gómez, "Melody extraction from polyphonic
music signals using pitch contour characteristics", IEEE TASLP 2012); a Viterbi search with an
unvoiced state and a pitch-jump cost keeps the line continuous; each voiced frame's f0 is then
refined in 5-cent steps so a comb mask can follow vibrato up to high harmonics.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["PitchParams", "harmonic_matrix", "salience_bins", "track_f0", "viterbi"]


@dataclass(frozen=True)
class PitchParams:
    fmin: float = 80.0
    fmax: float = 1000.0
    steps_per_semitone: int = 2
    salience_harmonics: int = 12
    salience_fmax: float = 5000.0
    jump_cost: float = 0.05         # per semitone
    max_jump: float = 12.0          # semitones per frame
    voicing_cost: float = 1.0
    voicing_threshold: float = 0.35


def salience_bins(bin_hz: float, n_bins: int, smax: float) -> int:
    """How many low bins the salience reads (partials up to ``smax`` Hz)."""
    return min(n_bins, int(smax / bin_hz) + 2)


@lru_cache(maxsize=8)
def harmonic_matrix(bin_hz: float, n_bins: int, fmin: float, fmax: float, steps: int, n_harm: int,
                    smax: float) -> tuple[np.ndarray, np.ndarray, int]:
    """(candidate f0s, bins x candidates harmonic-summation weights, bins used)."""
    n_cand = int(np.floor(12 * steps * np.log2(fmax / fmin))) + 1
    f0 = fmin * 2.0 ** (np.arange(n_cand) / (12.0 * steps))
    top = salience_bins(bin_hz, n_bins, smax)
    H = np.zeros((top, n_cand), dtype=np.float32)
    for h in range(1, n_harm + 1):
        w = 0.84 ** (h - 1)
        pos = h * f0 / bin_hz
        ok = pos < top - 1
        lo = np.floor(pos[ok]).astype(int)
        frac = (pos[ok] - lo).astype(np.float32)
        cols = np.nonzero(ok)[0]
        H[lo, cols] += w * (1 - frac)
        H[lo + 1, cols] += w * frac
    return f0, H, top


def viterbi(emit: np.ndarray, unvoiced: float, jump_cost: np.ndarray, voicing_cost: float) -> np.ndarray:
    """Best path over C pitch states + 1 unvoiced state; returns state per frame (-1 unvoiced)."""
    T, C = emit.shape
    back = np.empty((T, C + 1), dtype=np.int32)
    score_v = emit[0].copy()
    score_u = unvoiced
    for t in range(1, T):
        cand = score_v[None, :] - jump_cost  # (to, from)
        arg = np.argmax(cand, axis=1)
        best_from_v = cand[np.arange(C), arg]
        from_u = score_u - voicing_cost
        take_u = from_u > best_from_v
        back[t, :C] = np.where(take_u, C, arg)
        new_v = np.where(take_u, from_u, best_from_v) + emit[t]
        j = int(np.argmax(score_v))
        if score_v[j] - voicing_cost > score_u:
            new_u, back[t, C] = score_v[j] - voicing_cost + unvoiced, j
        else:
            new_u, back[t, C] = score_u + unvoiced, C
        score_v, score_u = new_v, new_u
    path = np.empty(T, dtype=np.int32)
    state = C if score_u >= score_v.max() else int(np.argmax(score_v))
    for t in range(T - 1, -1, -1):
        path[t] = -1 if state == C else state
        state = back[t, state] if t > 0 else state
    return path


def track_f0(Z: np.ndarray, bin_hz: float, p: PitchParams) -> np.ndarray:
    """f0 in Hz per frame of the voice-emphasising spectrogram ``Z`` (frames x bins); 0 = unvoiced."""
    T, n_bins = Z.shape
    f0s, H, top = harmonic_matrix(bin_hz, n_bins, p.fmin, p.fmax, p.steps_per_semitone, p.salience_harmonics,
                                  p.salience_fmax)
    from scipy.ndimage import maximum_filter1d

    Zs = maximum_filter1d(Z[:, :top], 3, axis=1)  # tolerate partials between grid bins
    S = Zs @ H  # (T, C)
    norm = np.percentile(S.max(axis=1), 95) + 1e-9
    emit = (S / norm).astype(np.float32)
    C = emit.shape[1]
    d = np.abs(np.arange(C)[:, None] - np.arange(C)[None, :]) / p.steps_per_semitone
    jump = np.where(d <= p.max_jump, p.jump_cost * d, 1e6).astype(np.float32)
    path = viterbi(emit, p.voicing_threshold, jump, p.voicing_cost)
    out = np.zeros(T, dtype=np.float64)
    tv = np.nonzero(path >= 0)[0]
    if tv.size == 0:
        return out
    f0 = f0s[path[tv]]
    # refine: maximise the harmonic sum over fine offsets (5-cent steps, first 16 harmonics)
    half = 50.0 / p.steps_per_semitone  # half a grid step, in cents
    offs = (2.0 ** (np.arange(-half, half + 1e-9, 5.0) / 1200.0)).astype(np.float32)
    hs = np.arange(1, 17, dtype=np.float32)
    cand = (f0.astype(np.float32)[:, None, None] / bin_hz) * offs[None, :, None] * hs[None, None, :]
    inside = cand < n_bins - 2
    np.minimum(cand, n_bins - 2, out=cand)
    lo = cand.astype(np.int32)
    fr = cand - lo
    flat = np.ascontiguousarray(Z[tv]).ravel()
    lo += (np.arange(tv.size, dtype=np.int32) * n_bins)[:, None, None]
    vals = flat[lo] * (1 - fr) + flat[lo + 1] * fr
    vals *= inside
    out[tv] = f0 * offs[np.argmax(vals.sum(axis=2), axis=1)]
    return out
