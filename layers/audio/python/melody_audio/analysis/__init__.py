"""Musical analysis: duration/rate/channels, tempo+beats, key, loudness, energy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._dsp import resample
from . import energy as _energy
from . import key as _key
from . import loudness as _loudness
from . import notes_key as _notes_key
from . import tempo as _tempo
from .key import KeyResult, camelot, open_key
from .loudness import LoudnessResult
from .tempo import TempoResult

if TYPE_CHECKING:
    from ..audio import Audio

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
            "tempo": {
                "bpm": self.tempo.bpm,
                "confidence": self.tempo.confidence,
                "beats": list(self.tempo.beats),
                "downbeats": list(self.tempo.downbeats),
                "time_signature": self.tempo.time_signature,
                "beats_per_bar": self.tempo.beats_per_bar,
            },
            "key": {
                "tonic": self.key.tonic,
                "mode": self.key.mode,
                "confidence": self.key.confidence,
                "camelot": self.key.camelot,
                "open_key": self.key.open_key,
                "tuning_hz": self.key.tuning_hz,
                "tuning_cents": self.key.tuning_cents,
                "runner_up": dict(self.key.runner_up) if self.key.runner_up else None,
            },
            "loudness": {
                "integrated_lufs": self.loudness.integrated_lufs,
                "range_lu": self.loudness.range_lu,
                "true_peak_dbtp": self.loudness.true_peak_dbtp,
            },
            "energy": self.energy,
            "engine": dict(self.engine) if self.engine else None,
        }


ANALYSIS_ENGINE_NAME = "melody_audio"


def analysis_engine() -> dict:
    """``{"name": "melody_audio", "version": <package version>}``: the analysis engine itself."""
    from .. import __version__  # at call time: the package has finished importing by then

    return {"name": ANALYSIS_ENGINE_NAME, "version": __version__}


def analyse(audio: Audio, *, engine: dict | None = None) -> Analysis:
    """Analyse decoded audio; ``sample_rate`` and ``channels`` report the *source* file's values.

    ``engine`` ({name, version}) is recorded in the result (``analysis.json``'s ``engine``), and
    is never null. The rule: it names what produced the result the analysis is part of.

    * With separation (``melody process``, the pipeline), pass the separation engine whose stems
      accompany the analysis: ``{"name": stems.engine, "version": stems.engine_version}``
      (the pipeline passes the engine chosen for the job, as its analyse step runs in parallel).
    * Without separation (``melody analyze``), leave it out: the analysis engine itself is
      recorded, ``{"name": "melody_audio", "version": melody_audio.__version__}``.
    """
    x = audio.mono()
    low = resample(x, audio.sample_rate, ANALYSIS_RATE)
    if low.size >= _key.N_FFT:
        chroma, bass_chroma, frame_energy, tuning = _key.frame_chroma_tuning(low, ANALYSIS_RATE)
        # note evidence for the key from the note model on a third of the song (notes_key.py)
        notes = _notes_key.note_histograms(x, audio.sample_rate, tuning)
        k = _key.key_from_frames(chroma, bass_chroma, frame_energy, tuning, notes)
    else:
        chroma, bass_chroma, k = None, None, _key.key(low, ANALYSIS_RATE)
    # the chroma (hop 1024) also gives the chord- and bass-change accents for the downbeats
    t = _tempo.tempo(low, ANALYSIS_RATE, chroma=chroma, chroma_fps=ANALYSIS_RATE / _key.HOP, bass_chroma=bass_chroma)
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
        engine=dict(engine) if engine else analysis_engine(),
    )


analyze = analyse

__all__ = [
    "ANALYSIS_ENGINE_NAME", "Analysis", "analyse", "analysis_engine", "analyze", "camelot", "open_key",
    "KeyResult", "TempoResult", "LoudnessResult",
]
