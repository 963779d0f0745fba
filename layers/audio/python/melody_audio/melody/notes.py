"""The note events every part of the melody package passes around."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    """One sung note: onset/offset in seconds, MIDI pitch, and how sure the tracker was (0–1).

    ``cents`` is the mean deviation of the sung pitch from ``pitch`` (−50…+50): the key snap
    uses it to tell a sung chromatic note from a scale tone sung out of tune.
    """

    onset_s: float
    offset_s: float
    pitch: int
    confidence: float = 1.0
    cents: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.offset_s - self.onset_s

    def to_dict(self) -> dict[str, float | int]:
        return {"onset_s": round(self.onset_s, 3), "offset_s": round(self.offset_s, 3), "pitch": self.pitch,
                "confidence": round(self.confidence, 3)}


@dataclass(frozen=True)
class GridNote:
    """A note on the beat grid: ``start`` and ``length`` in grid steps (``steps_per_beat`` per beat)."""

    start: int
    length: int
    pitch: int
