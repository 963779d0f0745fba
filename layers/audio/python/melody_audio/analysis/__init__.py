"""Musical analysis: duration/rate/channels, tempo+beats, key, loudness, energy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._dsp import resample
from ..audio import Audio
from . import energy as _energy
from . import key as _key
from . import loudness as _loudness
from . import tempo as _tempo
from .key import KeyResult, camelot, open_key
from .loudness import LoudnessResult
from .tempo import TempoResult

ANALYSIS_RATE = 11025


@dataclass
class Analysis:
    duration_s: float
    sample_rate: int
    channels: int
    tempo: TempoResult
    key: KeyResult
    loudness: LoudnessResult
    energy: float
    engine: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "duration_s": round(self.duration_s, 3),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "tempo": {"bpm": self.tempo.bpm, "confidence": self.tempo.confidence, "beats": list(self.tempo.beats)},
            "key": {
                "tonic": self.key.tonic,
                "mode": self.key.mode,
                "confidence": self.key.confidence,
                "camelot": self.key.camelot,
                "open_key": self.key.open_key,
            },
            "loudness": {
                "integrated_lufs": self.loudness.integrated_lufs,
                "range_lu": self.loudness.range_lu,
                "true_peak_dbtp": self.loudness.true_peak_dbtp,
            },
            "energy": self.energy,
            "engine": dict(self.engine) if self.engine else None,
        }


def analyse(audio: Audio, *, engine: dict | None = None) -> Analysis:
    """Analyse decoded audio.  ``engine`` ({name, version}) is recorded in the result.

    ``sample_rate`` and ``channels`` report the *source* file's values.
    """
    x = audio.mono()
    low = resample(x, audio.sample_rate, ANALYSIS_RATE)
    t = _tempo.tempo(low, ANALYSIS_RATE)
    k = _key.key(low, ANALYSIS_RATE)
    loud = _loudness.loudness(audio.samples, audio.sample_rate)
    e = _energy.energy(loud.integrated_lufs, t.onset_env, t.bpm)
    return Analysis(
        duration_s=audio.duration_s,
        sample_rate=int(audio.source_sample_rate),
        channels=int(audio.source_channels),
        tempo=t,
        key=k,
        loudness=loud,
        energy=e,
        engine=dict(engine or {}),
    )


analyze = analyse

__all__ = ["Analysis", "analyse", "analyze", "camelot", "open_key", "KeyResult", "TempoResult", "LoudnessResult"]
