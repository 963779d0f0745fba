"""Source separation: the engine interface, the registry and the built-in engines."""

from __future__ import annotations

from ..audio import Audio, Stems
from .base import SeparationEngine, engine_names, get_engine, register_engine
from .demucs import DemucsEngine
from .dsp import DspEngine
from .lalal import LalalEngine

register_engine("dsp", DspEngine)
register_engine("lalal", LalalEngine)
register_engine("demucs", DemucsEngine)


def separate(audio: Audio, engine: str | SeparationEngine = "dsp", **config) -> Stems:
    eng = get_engine(engine, **config) if isinstance(engine, str) else engine
    return eng.separate(audio)


__all__ = ["SeparationEngine", "Stems", "get_engine", "register_engine", "engine_names", "separate",
           "DspEngine", "LalalEngine", "DemucsEngine"]
