"""Key and tempo changes of a stem (renditions): numpy and scipy only.

``render(samples, sample_rate, semitones=-2, tempo=0.9)`` returns the audio transposed by
``semitones`` and played at ``tempo`` times the original speed (0.9: 10 % slower, 1/0.9 times
longer). One phase-vocoder time stretch (:mod:`.vocoder`: identity phase locking after Laroche
& Dolson 1999, transient phase resets, stereo-linked phases) by ``ratio / tempo`` and one
band-limited resampling by ``1 / ratio`` (:mod:`.resample`), where ``ratio = 2 ** (semitones/12)``
as a close rational: the resampling sets the pitch exactly, and the two together bring the length
to ``n / tempo``. The resampling comes first when shifting up (a shorter signal for the vocoder)
and last when shifting down, so the vocoder never makes more than ``n / tempo`` samples.
"""

from __future__ import annotations

import numpy as np

from .resample import pitch_ratio, resample_chunked
from .vocoder import time_stretch

__all__ = ["MAX_SEMITONES", "MAX_TEMPO", "MIN_TEMPO", "pitch_ratio", "render", "resample_chunked", "time_stretch"]

MAX_SEMITONES = 12
MIN_TEMPO, MAX_TEMPO = 0.5, 2.0


def render(samples: np.ndarray, sample_rate: int, *, semitones: int = 0, tempo: float = 1.0) -> np.ndarray:
    """``samples`` (``(channels, n)`` or ``(n,)``) shifted by ``semitones`` at ``tempo`` x speed.

    Returns float32 ``(channels, m)`` with ``m`` within a sample or two of ``n / tempo``. The peak
    level is kept under full scale (the vocoder can add a little overshoot on transients).
    """
    if abs(semitones) > MAX_SEMITONES:
        raise ValueError(f"semitones must be within ±{MAX_SEMITONES}")
    if not (MIN_TEMPO <= tempo <= MAX_TEMPO):
        raise ValueError(f"tempo must be within {MIN_TEMPO}..{MAX_TEMPO}")
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    ratio = pitch_ratio(semitones)  # down/up of the resampling
    if ratio > 1:
        # Up: resample first (the signal gets shorter), so the vocoder makes ratio times fewer
        # frames; the content pushed above Nyquist is filtered out either way.
        y = time_stretch(resample_chunked(x, ratio.denominator, ratio.numerator), float(ratio) / tempo, sample_rate)
    else:
        stretched = time_stretch(x, float(ratio) / tempo, sample_rate)
        y = resample_chunked(stretched, ratio.denominator, ratio.numerator) if ratio != 1 else stretched
    peak = max(float(y.max()), -float(y.min())) if y.size else 0.0  # no |y| copy of a whole song
    if peak > 0.999:
        y *= np.float32(0.999 / peak)
    return y
