"""Generated songs for pipeline tests: chords, bass, a kick on the beat and a sung-like lead."""

from __future__ import annotations

import io
import wave

import numpy as np

A4 = 440.0


def _midi(note: float) -> float:
    return A4 * 2 ** ((note - 69) / 12)


def song_wav(seconds: float = 20.0, *, bpm: float = 120.0, sr: int = 44100, seed: int = 1) -> bytes:
    """A stereo 16-bit WAV in C major: instruments panned, the voice in the centre."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    beat = 60.0 / bpm
    left = np.zeros(n)
    right = np.zeros(n)
    progression = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)]  # C Am F G
    bar = 4 * beat
    for i, start in enumerate(np.arange(0, seconds, bar)):
        chord = progression[i % 4]
        seg = (t >= start) & (t < start + bar)
        tt = t[seg] - start
        env = np.exp(-tt * 0.8)
        tone = sum(np.sin(2 * np.pi * _midi(note) * tt) for note in chord) * 0.08 * env
        bass = np.sin(2 * np.pi * _midi(chord[0] - 24) * tt) * 0.15 * env
        left[seg] += tone * 0.8 + bass
        right[seg] += tone * 0.4 + bass
    for start in np.arange(0, seconds, beat):  # kick drum on every beat
        seg = (t >= start) & (t < start + 0.15)
        tt = t[seg] - start
        kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-tt * 30)) * tt) * np.exp(-tt * 25) * 0.5
        left[seg] += kick
        right[seg] += kick
    melody = [72, 74, 76, 77, 79, 77, 76, 74]
    for i, start in enumerate(np.arange(0, seconds, beat)):
        seg = (t >= start) & (t < start + beat * 0.95)
        tt = t[seg] - start
        f0 = _midi(melody[i % len(melody)]) * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * tt))
        phase = 2 * np.pi * np.cumsum(f0) / sr
        voice = sum(np.sin(k * phase) / k for k in range(1, 8)) * 0.12 * np.minimum(1, tt * 20)
        left[seg] += voice
        right[seg] += voice
    noise = rng.normal(0, 0.002, n)
    stereo = np.stack([left + noise, right + noise], axis=1)
    stereo /= max(1.0, np.abs(stereo).max() / 0.9)
    pcm = (stereo * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(sr)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()
