"""A YIN pitch tracker in numpy (de Cheveigné & Kawahara 2002): the engine's own alternative to the
basic-pitch model, at the same frame rate (22.05 kHz, hop 256) so both share the note decoder.

The difference function comes from FFT autocorrelation (all frames at once), the cumulative mean
normalised difference picks the first dip under ``THRESHOLD`` (else the global minimum), and
parabolic interpolation refines the period. Voicing combines the dip's depth with the frame's
level relative to the loudest frames, so bleed in a separated stem reads as unvoiced.
"""

from __future__ import annotations

import numpy as np

from .._dsp import frames

SAMPLE_RATE = 22050
HOP = 256
FPS = SAMPLE_RATE / HOP
FRAME = 2048
WINDOW = 1024  # integration window W
FMIN, FMAX = 70.0, 1100.0
THRESHOLD = 0.15


def track(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(midi, voicing)`` per frame for mono audio at 22.05 kHz: fractional MIDI pitch (NaN when
    no period is found) and a voicing probability 0–1."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n_frames = int(np.floor(x.size / HOP))
    if n_frames == 0:
        return np.zeros(0), np.zeros(0)
    # frames(...) centres frame t on t·HOP, but YIN looks at [start, start + W + tau]: shift the
    # signal so that span (not the frame) is centred on t·HOP
    shift = FRAME // 2 - (WINDOW // 2 + 100)
    fr = frames(np.concatenate([x[shift:], np.zeros(shift)]), FRAME, HOP)[:n_frames]
    tau_min = int(SAMPLE_RATE / FMAX)
    tau_max = int(SAMPLE_RATE / FMIN)
    n_fft = 2 * FRAME
    spec = np.fft.rfft(fr, n_fft, axis=1)
    head = np.fft.rfft(fr[:, :WINDOW], n_fft, axis=1)
    r = np.fft.irfft(np.conj(head) * spec, n_fft, axis=1)[:, : tau_max + 1]
    sq = np.concatenate([np.zeros((fr.shape[0], 1)), np.cumsum(fr**2, axis=1)], axis=1)
    e0 = sq[:, WINDOW]
    taus = np.arange(tau_max + 1)
    e_tau = sq[:, taus + WINDOW] - sq[:, taus]
    d = np.maximum(e0[:, None] + e_tau - 2 * r, 0.0)
    cum = np.cumsum(d[:, 1:], axis=1)
    cmnd = np.ones_like(d)
    cmnd[:, 1:] = np.where(cum > 1e-12, d[:, 1:] * taus[1:] / np.maximum(cum, 1e-12), 1.0)
    search = cmnd[:, tau_min:tau_max]
    below = search < THRESHOLD
    first = np.where(below.any(axis=1), np.argmax(below, axis=1), np.argmin(search, axis=1))
    # walk down to the local minimum after the first crossing
    tau = first.copy()
    for _ in range(8):
        nxt = np.minimum(tau + 1, search.shape[1] - 1)
        better = search[np.arange(tau.size), nxt] < search[np.arange(tau.size), tau]
        tau = np.where(better, nxt, tau)
    rows = np.arange(tau.size)
    left = search[rows, np.maximum(tau - 1, 0)]
    mid = search[rows, tau]
    right = search[rows, np.minimum(tau + 1, search.shape[1] - 1)]
    den = left - 2 * mid + right
    offset = np.where(np.abs(den) > 1e-12, 0.5 * (left - right) / np.where(den == 0, 1, den), 0.0)
    period = tau_min + tau + np.clip(offset, -1, 1)
    f0 = SAMPLE_RATE / np.maximum(period, 1.0)
    midi = 69.0 + 12.0 * np.log2(f0 / 440.0)
    level = np.sqrt(e0 / WINDOW)
    loud = np.percentile(level, 95) if level.size else 0.0
    rel_db = 20 * np.log10(np.maximum(level, 1e-9) / max(loud, 1e-9))
    periodic = np.clip(1.0 - mid / 0.35, 0.0, 1.0)
    audible = np.clip((rel_db + 35.0) / 10.0, 0.0, 1.0)  # fades out 25–35 dB under the loud frames
    # and under -70…-60 dBFS whatever the loudest frame is (digital silence has no "loud frames")
    audible *= np.clip((20 * np.log10(np.maximum(level, 1e-9)) + 70.0) / 10.0, 0.0, 1.0)
    voicing = periodic * audible
    midi[voicing <= 0] = np.nan
    return midi, voicing
