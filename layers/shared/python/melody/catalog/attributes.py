"""A catalog track's analysed attributes (tempo, key, Camelot, energy, loudness), taken from the
pipeline's analysis document and written back to the catalog row (``songs``) by the persist step."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.catalog.ports import TrackAttributesWriter


class TrackAttributes(BaseModel):
    bpm: float | None = None
    key: str | None = None  # e.g. "A minor"
    camelot: str | None = None  # e.g. "8A"
    energy: float | None = None  # 0–1
    loudness_lufs: float | None = None  # integrated, ITU-R BS.1770

    def is_empty(self) -> bool:
        return all(v is None for v in self.model_dump().values())


def _number(value: Any, digits: int) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return round(number, digits) if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def attributes_from_analysis(analysis: dict[str, Any]) -> TrackAttributes:
    """The attributes of an ``analysis.json`` document (melody_audio's ``Analysis.to_dict``); a
    missing or malformed part is None, never an error."""
    tempo = analysis.get("tempo") if isinstance(analysis.get("tempo"), dict) else {}
    key = analysis.get("key") if isinstance(analysis.get("key"), dict) else {}
    loudness = analysis.get("loudness") if isinstance(analysis.get("loudness"), dict) else {}
    assert isinstance(tempo, dict) and isinstance(key, dict) and isinstance(loudness, dict)
    tonic, mode = _text(key.get("tonic")), _text(key.get("mode"))
    energy = _number(analysis.get("energy"), 3)
    return TrackAttributes(
        bpm=_number(tempo.get("bpm"), 1),
        key=f"{tonic} {mode}" if tonic and mode else tonic,
        camelot=_text(key.get("camelot")),
        energy=None if energy is None else min(1.0, max(0.0, energy)),
        loudness_lufs=_number(loudness.get("integrated_lufs"), 1),
    )


class LazyAttributesWriter:
    """A :class:`~melody.catalog.ports.TrackAttributesWriter` whose catalog is built on first write
    (the pipeline's steps only connect to the catalog when a job is for a catalog track)."""

    def __init__(self, factory: Callable[[], TrackAttributesWriter]) -> None:
        self._factory = factory
        self._writer: TrackAttributesWriter | None = None

    def write_attributes(self, track_id: str, attributes: TrackAttributes, *, content_hash: str | None = None) -> bool:
        if self._writer is None:
            self._writer = self._factory()
        return self._writer.write_attributes(track_id, attributes, content_hash=content_hash)
