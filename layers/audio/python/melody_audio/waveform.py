"""Waveform peaks in the BBC audiowaveform JSON format (version 2, 8-bit).

``{"version": 2, "channels": 1, "sample_rate": sr, "samples_per_pixel": spp, "bits": 8,
"length": N, "data": [min0, max0, min1, max1, ...]}`` with values in -128..127, as produced
by ``audiowaveform -b 8`` (peaks.js and waveform-data.js read it directly).
"""

from __future__ import annotations

import math

import numpy as np

from . import config
from .audio import Audio


def waveform(audio: Audio | np.ndarray, sample_rate: int | None = None, *, points: int = config.WAVEFORM_POINTS,
             samples_per_pixel: int | None = None) -> dict:
    if isinstance(audio, Audio):
        x, sr = audio.mono(), audio.sample_rate
    else:
        arr = np.asarray(audio, dtype=np.float32)
        x = arr.mean(axis=0) if arr.ndim == 2 else arr
        sr = int(sample_rate or config.WORKING_RATE)
    n = int(x.shape[0])
    spp = int(samples_per_pixel or max(1, math.ceil(n / max(1, points))))
    length = max(1, math.ceil(n / spp)) if n else 0
    pad = length * spp - n
    if length:
        frames = np.pad(x, (0, pad), mode="edge" if n else "constant").reshape(length, spp)
        lo = np.floor(frames.min(axis=1) * 128.0)
        hi = np.floor(frames.max(axis=1) * 128.0)
        data = np.empty(2 * length, dtype=np.int64)
        data[0::2] = np.clip(lo, -128, 127)
        data[1::2] = np.clip(hi, -128, 127)
        values = data.tolist()
    else:
        values = []
    return {
        "version": 2,
        "channels": 1,
        "sample_rate": int(sr),
        "samples_per_pixel": spp,
        "bits": 8,
        "length": length,
        "data": values,
    }
