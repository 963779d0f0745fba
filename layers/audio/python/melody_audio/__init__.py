"""Melody Studio audio engine: decode, separate, analyse, waveform, encode.

Public API (what the pipeline calls)::

    from melody_audio import decode, separate, analyse, waveform, encode, content_hash, AudioError

    audio = decode("song.mp3")                 # Audio: float32 (channels, n) at 44.1 kHz
    stems = separate(audio, engine="dsp")      # Stems: .instrumental, .vocals
    result = analyse(audio, engine={"name": stems.engine, "version": stems.engine_version})
    result.to_dict()                           # the analysis.json shape
    peaks = waveform(audio)                    # BBC audiowaveform JSON (v2, 8-bit)
    encode(stems.vocals, stems.sample_rate, "vocals.m4a", "m4a")
    content_hash("song.mp3")                   # sha256 hex of the bytes

No numba, no torch on the default path: numpy, scipy, pyloudnorm, ffmpeg (via ffmpeg-python).
"""

from __future__ import annotations

from .analysis import Analysis, analyse, analyze
from .audio import Audio, Stems
from .decode import decode, probe
from .encode import encode
from .errors import AudioError
from .hashing import content_hash
from .separate import SeparationEngine, engine_names, get_engine, register_engine, separate
from .waveform import waveform

# The analysis' version: it goes into every result key (melody.core.services.result_revisions), so
# bump it whenever the analysis changes what it reports, or re-uploads keep serving the old one.
# 0.2.0: beats/downbeats, time signature, tuning, calibrated confidences, the note model's key.
__version__ = "0.2.0"

__all__ = [
    "Analysis", "Audio", "AudioError", "SeparationEngine", "Stems", "analyse", "analyze", "content_hash",
    "decode", "encode", "engine_names", "get_engine", "probe", "register_engine", "separate", "waveform",
]
