"""The in-memory audio container shared by every module."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Audio:
    """Decoded audio.

    ``samples`` is float32, shape ``(channels, n)`` (channels is 1 or 2), at ``sample_rate``.
    ``source_channels`` / ``source_sample_rate`` describe the original file (before the
    engine's down-mix and resampling); ``duration_s`` is the decoded length.
    """

    samples: np.ndarray
    sample_rate: int
    source_channels: int = 0
    source_sample_rate: int = 0
    source_codec: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        x = np.asarray(self.samples, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2:
            raise ValueError("samples must be 1-D or (channels, n)")
        self.samples = np.ascontiguousarray(x)
        if not self.source_channels:
            self.source_channels = self.samples.shape[0]
        if not self.source_sample_rate:
            self.source_sample_rate = self.sample_rate

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / float(self.sample_rate)

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=0, dtype=np.float32) if self.channels > 1 else self.samples[0]

    def stereo(self) -> np.ndarray:
        return self.samples if self.channels == 2 else np.repeat(self.samples[:1], 2, axis=0)


@dataclass
class Stems:
    """Output of a separation engine: two stems with the mixture's shape and rate.

    ``extras`` holds further stems of a multi-source engine (``drums``, ``bass``, ``other``),
    each shaped like ``vocals``; two-stem engines leave it empty.
    """

    instrumental: np.ndarray
    vocals: np.ndarray
    sample_rate: int
    engine: str
    engine_version: str
    meta: dict = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Every stem this result holds: instrumental, vocals, then the extras."""
        return ["instrumental", "vocals", *self.extras]

    def stem(self, name: str) -> np.ndarray:
        return self.extras[name] if name in self.extras else getattr(self, name)

    def as_audio(self, which: str) -> Audio:
        return Audio(getattr(self, which), self.sample_rate)
