"""Small numpy/scipy signal helpers shared by the engine (framing, STFT/ISTFT, resampling)."""

from __future__ import annotations

from math import gcd

import numpy as np
import scipy.fft as sfft
from scipy.signal import resample_poly


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return np.asarray(x, dtype=np.float32)
    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(x, sr_out // g, sr_in // g, axis=-1).astype(np.float32)


def frames(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Frame a 1-D or (ch, n) signal, centred (zero padding of n_fft//2 on both sides)."""
    pad = [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2 + hop)]
    xp = np.pad(x, pad)
    n_frames = 1 + (x.shape[-1]) // hop
    view = np.lib.stride_tricks.sliding_window_view(xp, n_fft, axis=-1)
    return view[..., : n_frames * hop : hop, :][..., :n_frames, :]


def stft(x: np.ndarray, n_fft: int, hop: int, window: np.ndarray | None = None) -> np.ndarray:
    """Complex STFT, shape (..., frames, bins), complex64."""
    w = np.hanning(n_fft + 1)[:-1].astype(np.float32) if window is None else window
    return sfft.rfft(frames(np.asarray(x, dtype=np.float32), n_fft, hop) * w, axis=-1).astype(np.complex64, copy=False)


def istft(spec: np.ndarray, n_fft: int, hop: int, length: int, window: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`stft` by weighted overlap-add (Griffin–Lim normalisation)."""
    w = np.hanning(n_fft + 1)[:-1].astype(np.float32) if window is None else window
    fr = sfft.irfft(spec, n=n_fft, axis=-1).astype(np.float32, copy=False) * w  # (short spectra are zero-padded)
    lead = fr.shape[:-2]
    n_frames = fr.shape[-2]
    total = n_fft + hop * (n_frames - 1)
    out = np.zeros(lead + (total,), dtype=np.float32)
    norm = np.zeros(total, dtype=np.float32)
    w2 = w * w
    # overlap-add in n_fft/hop strided passes (vectorised per pass)
    step = n_fft // hop
    for k in range(step):
        idx = np.arange(k, n_frames, step)
        if idx.size == 0:
            continue
        seg = fr[..., idx, :].reshape(lead + (-1,))
        start = k * hop
        out[..., start : start + seg.shape[-1]] += seg
        norm[start : start + idx.size * n_fft] += np.tile(w2, idx.size)
    norm[norm < 1e-8] = 1.0
    out /= norm
    off = n_fft // 2
    return out[..., off : off + length]
