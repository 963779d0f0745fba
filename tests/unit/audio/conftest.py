"""Fixtures for the audio-engine tests: short synthetic signals written with ffmpeg."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

_PKG = Path(__file__).resolve().parents[3] / "layers" / "audio" / "python"
if str(_PKG) not in sys.path:  # importable without `pip install -e .`
    sys.path.insert(0, str(_PKG))

HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None

SR = 44100


def write_audio(path: Path, samples: np.ndarray, sr: int = SR, codec_args: list[str] | None = None) -> Path:
    """Write (channels, n) float samples to ``path`` with ffmpeg (codec from the suffix)."""
    x = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(sr), "-ac", str(x.shape[0]),
           "-i", "pipe:"] + list(codec_args or []) + [str(path)]
    subprocess.run(cmd, input=np.ascontiguousarray(x.T).tobytes(), check=True)
    return path


def tone(freq=440.0, seconds=2.0, sr=SR, amp=0.5, channels=2):
    t = np.arange(int(seconds * sr)) / sr
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(x[None], channels, axis=0)


def click_track(bpm=120.0, seconds=8.0, sr=SR):
    n = int(seconds * sr)
    x = np.zeros(n, dtype=np.float32)
    rng = np.random.default_rng(0)
    burst = (rng.standard_normal(int(0.02 * sr)) * np.exp(-np.arange(int(0.02 * sr)) / (0.004 * sr))).astype(np.float32)
    period = 60.0 / bpm
    k = 0
    while k * period * sr < n - burst.size:
        i = int(round(k * period * sr))
        x[i:i + burst.size] += burst * (1.0 if k % 4 == 0 else 0.7)
        k += 1
    return np.stack([x, x]) * 0.5


def chord_progression(tonic_pc: int, mode: str, seconds=12.0, sr=SR):
    """I–IV–V–I (major) or i–iv–v–i (minor) block chords with a bass root, 1.5 s each."""
    steps = [0, 2, 4, 5, 7, 9, 11] if mode == "major" else [0, 2, 3, 5, 7, 8, 10]
    degrees = [0, 3, 4, 0]
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.zeros(n)
    seg = 1.5
    for i in range(int(seconds / seg)):
        deg = degrees[i % 4]
        pcs = [steps[(deg + k) % 7] + 12 * ((deg + k) // 7) for k in (0, 2, 4)]
        a, b = int(i * seg * sr), int((i + 1) * seg * sr)
        tt = t[a:b] - t[a]
        env = np.exp(-tt * 1.2) * np.minimum(1, tt / 0.01)
        notes = [60 + tonic_pc + p for p in pcs] + [36 + tonic_pc + pcs[0]]
        for m in notes:
            f = 440 * 2 ** ((m - 69) / 12)
            for h in range(1, 5):
                out[a:b] += env * np.sin(2 * np.pi * f * h * tt) / h ** 1.5
    out = out / np.abs(out).max() * 0.6
    return np.stack([out, out]).astype(np.float32)


@pytest.fixture
def ffmpeg():
    """Request this (or ``pytest.mark.usefixtures("ffmpeg")``) in tests that run ffmpeg."""
    if not HAVE_FFMPEG:
        pytest.skip("ffmpeg/ffprobe not installed (CI installs them)")


@pytest.fixture
def synth():
    """Signal generators and the ffmpeg writer, as one namespace."""
    return SimpleNamespace(SR=SR, tone=tone, click_track=click_track, chord_progression=chord_progression,
                           write_audio=write_audio)


@pytest.fixture
def wav_tone(tmp_path, ffmpeg):
    return write_audio(tmp_path / "tone.wav", tone())
