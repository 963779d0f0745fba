"""Loudness per ITU-R BS.1770-4 / EBU R128.

* Integrated loudness (LUFS): ``pyloudnorm`` (BS.1770-4 K-weighting, 400 ms blocks with 75 %
  overlap, absolute gate -70 LUFS, relative gate -10 LU).
* Loudness range (LU): EBU Tech 3342 — short-term loudness (3 s window) every 100 ms,
  absolute gate -70 LUFS, relative gate -20 LU below the power mean of the
  absolute-gated blocks, LRA = 95th − 10th percentile of what remains.
* True peak (dBTP): BS.1770-4 Annex 2 — 4× oversampling with a polyphase FIR
  interpolator (below 96 kHz), maximum absolute value of the oversampled signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import pi, tan

import numpy as np
import pyloudnorm
from scipy.signal import firwin, sosfilt


@dataclass
class LoudnessResult:
    integrated_lufs: float | None
    range_lu: float | None
    true_peak_dbtp: float | None


def k_weighting(rate: int):
    """The two BS.1770 biquads (high shelf, then RLB high-pass) for any sample rate."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = tan(pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    b1 = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    a1 = [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = tan(pi * f0 / rate)
    a0 = 1 + k / q + k * k
    b2 = [1.0, -2.0, 1.0]
    a2 = [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return (b1, a1), (b2, a2)


def k_filter(samples: np.ndarray, rate: int) -> np.ndarray:
    """K-weighted copy of ``samples`` ((channels, n)), float32."""
    (b1, a1), (b2, a2) = k_weighting(rate)
    sos = np.array([list(b1) + list(a1), list(b2) + list(a2)], dtype=np.float64)
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    out = np.empty(x.shape, dtype=np.float32)
    for c in range(x.shape[0]):  # per channel: bounded float64 temporaries
        out[c] = sosfilt(sos, x[c])
    return out


def _k_filtered_power(samples: np.ndarray, rate: int) -> np.ndarray:
    y = k_filter(samples, rate)
    return np.einsum("cn,cn->n", y, y)  # channel weights 1.0 for L/R (mono: one channel)


def loudness_range(samples: np.ndarray, rate: int, power: np.ndarray | None = None) -> float | None:
    """EBU Tech 3342 loudness range from 3 s short-term loudness every 100 ms.

    The K-weighted power is summed per 100 ms block first (memory stays small for long
    files); each short-term value is the mean of 30 consecutive blocks.
    """
    p = _k_filtered_power(samples, rate) if power is None else power
    hop = int(round(0.1 * rate))
    n_blocks = p.size // hop
    if n_blocks < 30:
        return None
    blocks = p[: n_blocks * hop].reshape(n_blocks, hop).sum(axis=1, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(blocks)])
    ms = (c[30:] - c[:-30]) / (30 * hop)
    st = -0.691 + 10 * np.log10(np.maximum(ms, 1e-20))
    st = st[st > -70.0]
    if st.size < 2:
        return 0.0 if st.size else None
    rel = -0.691 + 10 * np.log10(np.mean(10 ** ((st + 0.691) / 10))) - 20.0
    st = st[st > rel]
    if st.size < 2:
        return 0.0
    lo, hi = np.percentile(st, [10, 95])
    return float(hi - lo)


_TP_TAPS = 96  # 4 phases x 24 taps


@lru_cache(maxsize=4)
def _tp_phases(factor: int) -> np.ndarray:
    """Polyphase interpolation filter (windowed sinc, cut-off at the original Nyquist)."""
    taps = firwin(_TP_TAPS, 1.0 / factor, window=("kaiser", 8.0)) * factor
    return taps.reshape(-1, factor).T[:, ::-1].copy()  # (factor, taps/factor)


def true_peak(samples: np.ndarray, rate: int) -> float | None:
    """Maximum of the 4x-oversampled signal, in dBTP.

    The interpolated value between two samples can only reach the maximum where the
    neighbouring samples are already within 6 dB of the sample peak, so the polyphase
    interpolator is evaluated at those positions only (exactly what full oversampling would
    find there, at a fraction of the cost).
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.size == 0:
        return None
    sample_peak = float(np.max(np.abs(x)))
    if sample_peak <= 0:
        return None
    factor = 4 if rate < 96000 else (2 if rate < 192000 else 1)
    peak = sample_peak
    if factor > 1:
        phases = _tp_phases(factor)  # (factor, L)
        half = phases.shape[1] // 2
        for ch in x:
            xp = np.pad(ch, (half, half))
            hot = np.nonzero(np.abs(ch) >= 0.5 * sample_peak)[0]
            hot = np.unique(np.concatenate([hot, np.maximum(hot - 1, 0)]))
            win = np.lib.stride_tricks.sliding_window_view(xp, phases.shape[1])
            for start in range(0, hot.size, 65536):
                idx = hot[start:start + 65536]
                vals = win[idx + 1] @ phases.T.astype(np.float32)
                peak = max(peak, float(np.max(np.abs(vals))))
    return float(20 * np.log10(peak))


def integrated_loudness(samples: np.ndarray, rate: int, k_weighted: np.ndarray | None = None) -> float:
    """Integrated loudness by pyloudnorm's BS.1770-4 gating.

    When the K-weighted signal is already at hand it is handed to pyloudnorm with its own
    (identical) K-weighting stage switched off, so the filter runs once per analysis.
    """
    meter = pyloudnorm.Meter(rate)
    if k_weighted is not None and isinstance(getattr(meter, "_filters", None), dict):
        meter._filters = {}
        data = k_weighted
    else:
        data = np.asarray(samples, dtype=np.float64)
    data = data.T if data.shape[0] > 1 else data[0]
    return float(meter.integrated_loudness(data))


def loudness(samples: np.ndarray, rate: int) -> LoudnessResult:
    """``samples``: (channels, n) float."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    integrated = None
    kw = k_filter(x, rate)
    if x.shape[-1] >= int(0.4 * rate):
        value = integrated_loudness(x, rate, k_weighted=kw)
        if np.isfinite(value):
            integrated = round(float(value), 2)
    power = np.einsum("cn,cn->n", kw, kw)
    del kw
    lra = loudness_range(x, rate, power=power)
    tp = true_peak(samples, rate)
    return LoudnessResult(
        integrated,
        None if lra is None else round(lra, 2),
        None if tp is None else round(tp, 2),
    )
