"""Musical key (tonic, mode) with confidence, Camelot and Open Key notation.

Method: a pitch-class profile (chroma) is accumulated from spectral *peaks* of a
high-resolution STFT (11.025 kHz, 372 ms window, 2.7 Hz bins) between 55 Hz and 2 kHz, each
peak credited to its nearest equal-tempered semitone with a triangular weight (tuning is
estimated first from the peaks' deviation from A440).  Frames are log-compressed and
normalised so that loud passages do not dominate, and a separate bass chroma (55–220 Hz) is
kept because the bass most often states the tonic.  The profile is correlated with the 24
rotated key templates (Krumhansl & Kessler 1982 probe-tone profiles blended with
Temperley 1999's "What's key for key?" profiles; the Krumhansl–Schmuckler algorithm,
Krumhansl 1990) and the best key wins; confidence is the margin to the runner-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._dsp import stft

SR = 11025
N_FFT = 4096
HOP = 2048

PITCH_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]

KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
TEMPERLEY_MAJOR = np.array([5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0])
TEMPERLEY_MINOR = np.array([5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0])


def _z(v):
    v = np.asarray(v, dtype=np.float64)
    return (v - v.mean()) / (v.std() + 1e-12)


MAJOR = _z(_z(KK_MAJOR) + _z(TEMPERLEY_MAJOR))
MINOR = _z(_z(KK_MINOR) + _z(TEMPERLEY_MINOR))


@dataclass
class KeyResult:
    tonic: str
    mode: str
    confidence: float
    camelot: str
    open_key: str
    scores: np.ndarray | None = None


def pitch_class(name: str) -> int:
    aliases = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "Fb": "E", "E#": "F", "B#": "C"}
    return PITCH_NAMES.index(aliases.get(name, name))


def camelot(tonic: str, mode: str) -> str:
    """Camelot wheel code: C major = 8B, A minor = 8A."""
    pc = pitch_class(tonic)
    major_pc = pc if mode == "major" else (pc + 3) % 12
    number = ((major_pc * 7) % 12 + 7) % 12 + 1
    return f"{number}{'B' if mode == 'major' else 'A'}"


def open_key(tonic: str, mode: str) -> str:
    """Open Key notation: C major = 1d, A minor = 1m."""
    pc = pitch_class(tonic)
    major_pc = pc if mode == "major" else (pc + 3) % 12
    number = (major_pc * 7) % 12 + 1
    return f"{number}{'d' if mode == 'major' else 'm'}"


def chroma_features(x: np.ndarray, sr: int = SR):
    """Return (chroma 12, bass chroma 12) profiles of a mono signal at ``SR``."""
    mag = np.abs(stft(x, N_FFT, HOP))  # (frames, bins)
    freqs = np.arange(mag.shape[1]) * sr / N_FFT
    band = (freqs >= 55.0) & (freqs <= 2000.0)
    m = mag[:, band]
    f = freqs[band]
    # spectral peaks only (local maxima above the frame's median level): ignores noise/drums
    peak = (m[:, 1:-1] > m[:, :-2]) & (m[:, 1:-1] >= m[:, 2:])
    peak &= m[:, 1:-1] > 2.0 * np.median(m, axis=1, keepdims=True)
    t_idx, b_idx = np.nonzero(peak)
    b_idx = b_idx + 1
    # parabolic interpolation of the peak frequency
    a, b, c = m[t_idx, b_idx - 1], m[t_idx, b_idx], m[t_idx, b_idx + 1]
    den = a - 2 * b + c
    delta = np.where(np.abs(den) > 1e-12, 0.5 * (a - c) / np.where(den == 0, 1, den), 0.0)
    pf = f[b_idx] + delta * (sr / N_FFT)
    amp = b
    midi = 69.0 + 12.0 * np.log2(np.maximum(pf, 1e-3) / 440.0)
    # global tuning (circular mean of the deviation from the semitone grid)
    dev = midi - np.round(midi)
    w_t = amp / (amp.sum() + 1e-12)
    tuning = np.angle(np.sum(w_t * np.exp(2j * np.pi * dev))) / (2 * np.pi)
    midi = midi - tuning
    nearest = np.round(midi)
    weight = np.clip(1.0 - 2.0 * np.abs(midi - nearest), 0.0, 1.0)
    # per-frame log compression and normalisation
    frame_norm = np.zeros(mag.shape[0])
    np.add.at(frame_norm, t_idx, amp)
    val = np.log1p(100.0 * amp / (frame_norm[t_idx] + 1e-9)) * weight
    pc = nearest.astype(int) % 12
    chroma = np.bincount(pc, weights=val, minlength=12)
    bass = pf < 220.0
    bass_chroma = np.bincount(pc[bass], weights=val[bass], minlength=12)
    return chroma, bass_chroma


def key_scores(chroma: np.ndarray, bass_chroma: np.ndarray, bass_weight: float = 0.35) -> np.ndarray:
    """Correlations for the 24 keys: index pc for C..B major, 12+pc for minor."""
    scores = np.zeros(24)
    c = _z(chroma)
    bc = _z(bass_chroma) if bass_chroma.sum() > 0 else np.zeros(12)
    for pc in range(12):
        for mi, prof in enumerate((MAJOR, MINOR)):
            p = np.roll(prof, pc)
            s = float(np.dot(c, p) / 12.0)
            s += bass_weight * float(np.dot(bc, p) / 12.0)
            scores[mi * 12 + pc] = s
    return scores


def key(x: np.ndarray, sr: int = SR) -> KeyResult:
    if x.size < N_FFT:
        return KeyResult("C", "major", 0.0, camelot("C", "major"), open_key("C", "major"))
    chroma, bass_chroma = chroma_features(x, sr)
    if chroma.sum() <= 0:
        return KeyResult("C", "major", 0.0, camelot("C", "major"), open_key("C", "major"))
    scores = key_scores(chroma, bass_chroma)
    order = np.argsort(scores)[::-1]
    best = int(order[0])
    tonic = PITCH_NAMES[best % 12]
    mode = "major" if best < 12 else "minor"
    margin = scores[order[0]] - scores[order[1]]
    # margin to the runner-up and the absolute fit, both mapped to 0..1
    conf = float(0.5 * np.clip(margin / 0.1, 0.0, 1.0) + 0.5 * np.clip(scores[best] / 1.35, 0.0, 1.0))
    return KeyResult(tonic, mode, round(conf, 3), camelot(tonic, mode), open_key(tonic, mode), scores)
