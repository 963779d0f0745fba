"""Time stretching with a phase vocoder, identity phase locking and transient phase resets.

The algorithm, in order of the references:

* Phase vocoder (Flanagan & Golden 1966; Portnoff 1976; Dolson 1986, "The phase vocoder: a
  tutorial", *Computer Music Journal* 10(4)): short-time Fourier frames taken every ``Ha``
  input samples are re-synthesised every ``Hs = Ha * stretch`` output samples; each bin's
  phase advances by ``Hs`` times its instantaneous frequency, estimated from the phase
  difference between consecutive analysis frames (the heterodyned "principal argument").
* Identity phase locking (Laroche & Dolson 1999, "Improved phase vocoder time-scale
  modification of audio", *IEEE Trans. Speech and Audio Processing* 7(3), pp. 323-332): only
  the spectral peaks are propagated that way; every other bin keeps its analysis phase
  relative to the peak of its region of influence (the nearest peak), which keeps the
  partials' sidelobes coherent and removes most of the "phasiness" of the plain vocoder.
* Transient phase reset (Bonada 2000, "Automatic technique in frequency domain for near-lossless
  time-scale modification of audio", ICMC; Röbel 2003, "A new approach to transient processing
  in the phase vocoder", DAFx): at a detected onset the synthesis phases are set back to the
  analysis phases, so the frame that carries a drum hit is copied whole and its attack is not
  smeared by phases accumulated from the frames before it.
* Stereo (Bonada 2000; the "phase locking of channels" of most commercial stretchers): the
  phase trajectory is computed once, on the mid signal (the channels' mean), and every channel's
  spectrum is rotated by the same per-bin angle, so the inter-channel phase and level
  differences, i.e. the stereo image, are kept exactly. A component present only in the side
  signal (perfectly anti-phase channels) follows the mid's phases; that is the known limit.

Memory: the output frames are produced in blocks of ``BLOCK`` frames (spectra of one block at a
time), so a six-minute stereo song needs the input, the output and a few megabytes of block
state, never the whole short-time spectrum.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

__all__ = ["BLOCK", "frame_size", "time_stretch"]

BLOCK = 256  # output frames per block: the spectra of one block are in memory at a time
OVERLAP = 4  # Hs = N / 4 (75 % overlap): the Hann window's squares then sum to 1.5 everywhere
# A frame is an onset when its spectral flux (the increase of log magnitude, summed) exceeds this
# fraction of its log magnitude sum, and more than the frame before (one reset per onset).
ONSET_FLUX = 0.18
_TWO_PI = 2.0 * np.pi


def frame_size(sample_rate: int) -> int:
    """The FFT size: about 46 ms (2048 samples at 44.1 kHz), a power of two."""
    return int(2 ** round(math.log2(max(256.0, 0.0464 * sample_rate))))


def _princarg(phase: np.ndarray) -> np.ndarray:
    """The principal argument, in [-pi, pi)."""
    return phase - _TWO_PI * np.floor((phase + np.pi) / _TWO_PI)


def _nearest_peak(mag: np.ndarray) -> np.ndarray:
    """For every bin of every frame (rows), the index of its region's peak (Laroche & Dolson).

    A peak is a bin louder than its two neighbours on each side; a bin belongs to the nearest
    peak (ties to the lower one). A frame without peaks (silence) maps every bin to itself.
    """
    frames, bins = mag.shape
    padded = np.pad(mag, ((0, 0), (2, 2)), constant_values=-1.0)
    centre = padded[:, 2:-2]
    peak = (
        (centre > padded[:, 1:-3]) & (centre > padded[:, :-4]) & (centre >= padded[:, 3:-1]) & (centre >= padded[:, 4:])
    )
    index = np.arange(bins, dtype=np.int32)
    big = np.int32(bins * 4)
    before = np.maximum.accumulate(np.where(peak, index, -big), axis=1)
    after = np.minimum.accumulate(np.where(peak, index, big)[:, ::-1], axis=1)[:, ::-1]
    owner = np.where(index - before <= after - index, before, after)
    none = ~peak.any(axis=1)
    owner[none] = index
    return np.clip(owner, 0, bins - 1)


def time_stretch(samples: np.ndarray, stretch: float, sample_rate: int = 44100, *, n_fft: int | None = None) -> np.ndarray:
    """``samples`` (``(channels, n)`` float) made ``stretch`` times longer, pitch unchanged.

    The output has ``round(n * stretch)`` samples, float32. ``stretch`` 1 returns a copy.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if not (0.25 <= stretch <= 4.0):
        raise ValueError("stretch must be within 0.25..4")
    channels, n = x.shape
    out_len = int(round(n * stretch))
    if stretch == 1.0 or n == 0:
        return x.copy()
    n_fft = n_fft or frame_size(sample_rate)
    hop_s = n_fft // OVERLAP
    half = n_fft // 2
    bins = half + 1
    window = (0.5 - 0.5 * np.cos(_TWO_PI * np.arange(n_fft) / n_fft)).astype(np.float32)  # periodic Hann
    norm = np.float32(1.0 / float(np.sum(window**2) / hop_s))  # 1/1.5: the squared windows' overlap sum
    # Bin centre frequencies (radians per sample). Per-frame phase arithmetic is float32 (the
    # spectra's precision); only the accumulated synthesis phase is float64.
    omega = (_TWO_PI * np.arange(bins) / n_fft).astype(np.float32)

    # Output frame m is centred on output sample m * Hs; frames from -OVERLAP cover the start
    # fully, so every output sample gets exactly OVERLAP windows (constant normalisation).
    first = -OVERLAP
    last = out_len // hop_s + OVERLAP
    lead = (-first) * hop_s + half  # output buffer index of output sample 0
    out = np.zeros((channels, lead + (last + 1) * hop_s + half), dtype=np.float32)
    offsets = np.arange(n_fft) - half

    theta = np.zeros(bins)  # synthesis phase of the mid signal (float64: it accumulates)
    prev_phase = np.zeros(bins, dtype=np.float32)
    prev_logmag = np.zeros(bins, dtype=np.float32)
    prev_pos: float | None = None
    prev_flux = 0.0
    frames_all = np.arange(first, last + 1)
    for start in range(0, frames_all.size, BLOCK):
        block = frames_all[start : start + BLOCK]
        centres = np.rint(block * hop_s / stretch).astype(np.int64)  # analysis centres (input samples)
        index = centres[:, None] + offsets[None, :]
        if centres[0] - half >= 0 and centres[-1] + half < n:
            frames = x[:, index] * window  # (channels, frames, n_fft)
        else:  # the first and last blocks reach past the signal: zeros there
            valid = (index >= 0) & (index < n)
            np.clip(index, 0, n - 1, out=index)
            frames = x[:, index] * (valid * window)[None, :, :]
        spectra = scipy.fft.rfft(frames, axis=-1)
        mid = spectra.mean(axis=0)
        mag = np.abs(mid)
        phase = np.angle(mid)

        # Instantaneous frequency (Dolson 1986) with each frame's own analysis hop: the centres are
        # rounded to whole samples, so the hop varies by one sample around Hs / stretch.
        previous_centres = np.concatenate(([centres[0] - hop_s / stretch if prev_pos is None else prev_pos], centres[:-1]))
        hop_a = np.maximum(centres - previous_centres, 1.0).astype(np.float32)[:, None]
        previous_phase = np.vstack((prev_phase[None, :], phase[:-1]))
        deviation = _princarg(phase - previous_phase - omega[None, :] * hop_a)
        advance = hop_s * (omega[None, :] + deviation / hop_a)

        owner = _nearest_peak(mag)
        relative = phase - np.take_along_axis(phase, owner, axis=1)

        logmag = np.log1p(np.float32(100.0) * mag)
        previous_logmag = np.vstack((prev_logmag[None, :], logmag[:-1]))
        flux = np.maximum(logmag - previous_logmag, 0.0).sum(axis=1) / (logmag.sum(axis=1) + 1e-9)

        synthesis = np.empty(phase.shape)
        for i in range(block.size):
            if flux[i] > ONSET_FLUX and flux[i] > prev_flux:
                theta = phase[i].astype(np.float64)  # transient: the analysis phases as they are (phase reset)
            else:
                # Identity phase locking: peaks advance by their own frequency, the other bins
                # keep their phase offset to their peak.
                moved = theta + advance[i]
                theta = moved[owner[i]] + relative[i]
            prev_flux = float(flux[i])
            synthesis[i] = theta
        theta = _princarg(theta)  # keep the accumulator small (float64 precision)
        prev_phase, prev_logmag, prev_pos = phase[-1], logmag[-1], float(centres[-1])

        # Wrapped in float64 first: the accumulated phases reach 1e5 rad within a block, where float32
        # would keep only hundredths of a radian. Then float32 trigonometry (half the cost of exp(1j*x)).
        turn = _princarg(synthesis - phase).astype(np.float32)
        rotation = np.empty(turn.shape, dtype=np.complex64)
        rotation.real = np.cos(turn)
        rotation.imag = np.sin(turn)
        frames_out = scipy.fft.irfft(spectra * rotation[None, :, :], n=n_fft, axis=-1).astype(np.float32)
        frames_out *= window * norm
        # Overlap-add: frames OVERLAP apart do not overlap, so each residue class is one strided add.
        base = lead + int(block[0]) * hop_s - half
        for r in range(min(OVERLAP, block.size)):
            group = frames_out[:, r::OVERLAP, :]
            count = group.shape[1]
            begin = base + r * hop_s
            out[:, begin : begin + count * OVERLAP * hop_s] += group.reshape(channels, -1)
    return out[:, lead : lead + out_len]
