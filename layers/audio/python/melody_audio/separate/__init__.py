"""Source separation: the engine interface, the registry and the built-in engines."""

from __future__ import annotations

from ..audio import Audio, Stems
from .base import SeparationEngine, engine_names, get_engine, register_engine
from .dsp import DspEngine
from .lalal import LalalEngine
from .neural import NeuralEngine

register_engine("dsp", DspEngine)
register_engine("lalal", LalalEngine)
register_engine("neural", NeuralEngine)
# The name the first releases used for the (then placeholder) neural engine: jobs stored with it still run.
register_engine("demucs", NeuralEngine)


def separate(audio: Audio, engine: str | SeparationEngine = "dsp", **config) -> Stems:
    eng = get_engine(engine, **config) if isinstance(engine, str) else engine
    return eng.separate(audio)


__all__ = ["SeparationEngine", "Stems", "get_engine", "register_engine", "engine_names", "separate",
           "DspEngine", "LalalEngine", "NeuralEngine"]
