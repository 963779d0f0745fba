"""A rendition's analysis: the job's analysis with the key shifted and the timing scaled.

Pure data (no numpy): the key's names come from a :class:`KeyNotation` (the audio engine's key
code in the step functions), so this module stays importable anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["KeyNotation", "shift_analysis"]


class KeyNotation(Protocol):
    """The audio engine's key names (``melody_audio.analysis.key``)."""

    @property
    def PITCH_NAMES(self) -> Sequence[str]: ...  # noqa: N802 - the module constant's name

    def pitch_class(self, name: str) -> int: ...

    def camelot(self, tonic: str, mode: str) -> str: ...

    def open_key(self, tonic: str, mode: str) -> str: ...


def _times(values: Any, tempo: float) -> list[float]:
    return [round(float(t) / tempo, 4) for t in values or []]


def _shift_key(key: dict[str, Any], semitones: int, notation: KeyNotation) -> dict[str, Any]:
    tonic, mode = key.get("tonic"), key.get("mode")
    if not isinstance(tonic, str) or mode not in ("major", "minor"):
        return dict(key)  # no key found (or an older shape): nothing to shift
    shifted = notation.PITCH_NAMES[(notation.pitch_class(tonic) + semitones) % 12]
    out = {**key, "tonic": shifted, "camelot": notation.camelot(shifted, mode), "open_key": notation.open_key(shifted, mode)}
    runner_up = key.get("runner_up")
    if isinstance(runner_up, dict):
        out["runner_up"] = _shift_key(runner_up, semitones, notation)
    return out


def shift_analysis(analysis: dict[str, Any], *, semitones: int, tempo: float, notation: KeyNotation) -> dict[str, Any]:
    """``analysis`` (the job's) as the rendition sounds: key + ``semitones``, ``tempo`` x faster.

    Kept: duration (÷ tempo), tempo (bpm x tempo; beats and downbeats ÷ tempo; meter and
    confidence as they were), key (tonic, Camelot and Open Key moved; mode, confidence and
    tuning as they were), sample rate and channels. Loudness, energy and the rest describe the
    original and are left out rather than guessed.
    """
    out: dict[str, Any] = {"semitones": semitones, "tempo_factor": tempo}
    for field in ("sample_rate", "channels"):
        if field in analysis:
            out[field] = analysis[field]
    if isinstance(analysis.get("duration_s"), int | float):
        out["duration_s"] = round(float(analysis["duration_s"]) / tempo, 3)
    timing = analysis.get("tempo")
    if isinstance(timing, dict):
        scaled = dict(timing)
        if isinstance(timing.get("bpm"), int | float):
            scaled["bpm"] = round(float(timing["bpm"]) * tempo, 2)
        scaled["beats"] = _times(timing.get("beats"), tempo)
        scaled["downbeats"] = _times(timing.get("downbeats"), tempo)
        out["tempo"] = scaled
    key = analysis.get("key")
    if isinstance(key, dict):
        out["key"] = _shift_key(key, semitones, notation)
    return out
