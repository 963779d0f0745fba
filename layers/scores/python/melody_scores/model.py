"""What the score analysis returns: plain dataclasses, ``to_dict()`` is the stored JSON shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class KeyEstimate:
    tonic: str  # "F#", "B-" (music21 spelling: "-" is flat)
    mode: str  # "major" | "minor"
    name: str  # "f# minor", "B- major" (music21's display: lower case for minor)
    confidence: float  # 0..1: the estimate's margin over the runner-up, see keys.confidence_of


@dataclass(frozen=True)
class KeySegment:
    start_measure: int
    end_measure: int
    key: str
    tonic: str
    mode: str
    confidence: float


@dataclass(frozen=True)
class ChordEvent:
    measure: int
    beat: float  # 1-based, in quarter notes from the bar line, as music21 counts beats
    duration: float  # quarter notes
    pitches: list[str]
    root: str | None
    name: str  # music21's pitched common name, e.g. "A-major triad"
    key: str  # the local key the Roman numeral is in
    roman: str | None  # "V7", "ii6", "bVII" (None for a single pitch class)


@dataclass(frozen=True)
class Cadence:
    measure: int
    beat: float
    type: str  # authentic | half | plagal | deceptive
    key: str
    progression: list[str]  # the two Roman numerals, e.g. ["V7", "I"]


@dataclass(frozen=True)
class PartInfo:
    index: int
    name: str | None
    instrument: str | None
    midi_program: int | None
    notes: int
    lowest: str | None  # ambitus, e.g. "C4"
    highest: str | None
    ambitus_semitones: int | None


@dataclass
class ScoreAnalysis:
    format: str
    title: str | None
    composer: str | None
    parts: list[PartInfo]
    measures: int
    time_signatures: list[dict[str, Any]]
    tempo_marks: list[dict[str, Any]]
    tempo_assumed: bool  # no mark in the score: the duration is at quarter = 120
    duration_s: float
    duration_quarters: float
    key: KeyEstimate
    key_alternatives: list[KeyEstimate]
    key_method: str
    key_timeline: list[KeySegment]
    modulations: list[dict[str, Any]]
    chords: list[ChordEvent]
    cadences: list[Cadence]
    top_voice: dict[str, Any]  # interval histogram and contour of the highest part
    rhythmic_density: list[dict[str, Any]]
    engine: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def chords_by_measure(self) -> dict[int, list[ChordEvent]]:
        out: dict[int, list[ChordEvent]] = {}
        for chord in self.chords:
            out.setdefault(chord.measure, []).append(chord)
        return out
