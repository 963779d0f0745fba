"""One chord symbol per bar from the instrumental stem's chroma.

How: the engine's key-analysis chroma (spectral peaks at 11.025 kHz, tuning-compensated, so drums
and noise barely count) is summed over each bar of the beat grid and matched by cosine against the
24 major/minor triad templates; chords diatonic to the song's key get a small bonus (a bar whose
chroma is ambiguous between, say, C and Am takes the one the key expects). A bar with almost no
tonal energy gets no symbol ("N.C."). Triads only: sevenths and suspensions read as their triad.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._dsp import resample
from ..analysis import key as _key
from .quantise import Grid, scale_of

DIATONIC_BONUS = 0.06
MIN_SHARE = 0.05  # a bar's level below this share of the loudest bar's: no chord


@dataclass(frozen=True)
class Chord:
    bar: int  # 0 = bar 1 (may be negative for a pickup)
    root: int  # pitch class
    quality: str  # "major" | "minor"

    @property
    def symbol(self) -> str:
        return _key.PITCH_NAMES[self.root] + ("m" if self.quality == "minor" else "")


def chords_per_bar(samples: np.ndarray, sample_rate: int, grid: Grid, *, tonic_pc: int | None = None,
                   mode: str = "major", bars: range | None = None) -> list[Chord]:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=0)
    low = resample(x, sample_rate, _key.SR)
    if low.size < _key.N_FFT:
        return []
    chroma, _bass, energy, _tuning = _key.frame_chroma_tuning(low, _key.SR)
    times = np.arange(chroma.shape[0]) * _key.HOP / _key.SR
    steps = np.round((grid.beat_position(times) - grid.first_bar_beat) * grid.steps_per_beat).astype(int)
    bar_of = np.floor_divide(steps, grid.steps_per_bar)
    wanted = bars if bars is not None else range(int(bar_of.min(initial=0)), int(bar_of.max(initial=-1)) + 1)
    # the chroma is normalised per frame: weight frames by their level, so a bar's faint tail or
    # bleed does not vote like its loud frames, and a bar with no level gets no chord
    weighted = chroma * energy[:, None]
    sums = {b: weighted[bar_of == b].sum(axis=0) for b in wanted}
    levels = {b: float(energy[bar_of == b].sum()) for b in wanted}
    if not sums:
        return []
    loudest = max(levels.values())
    templates = _key.TRIADS / np.linalg.norm(_key.TRIADS, axis=1, keepdims=True)  # 12 major, then 12 minor
    bonus = np.zeros(24)
    if tonic_pc is not None:
        scale = scale_of(tonic_pc, mode)
        for i in range(24):
            root, minor = i % 12, i >= 12
            third = (root + (3 if minor else 4)) % 12
            if {root, third, (root + 7) % 12} <= scale:
                bonus[i] = DIATONIC_BONUS
    out = []
    for b, v in sums.items():
        if loudest <= 0 or levels[b] < MIN_SHARE * loudest or float(v.sum()) <= 0:
            continue
        score = templates @ (v / (np.linalg.norm(v) + 1e-12)) + bonus
        best = int(np.argmax(score))
        out.append(Chord(bar=b, root=best % 12, quality="minor" if best >= 12 else "major"))
    return out
