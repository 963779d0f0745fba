"""Small scores built in the tests with music21 (no corpus files: each test says what it expects)."""

from __future__ import annotations

from pathlib import Path

from music21 import chord, expressions, instrument, metadata, meter, note, stream, tempo

# Root-position SATB voicings (bass, tenor, alto, soprano).
C = {
    "I": ["C3", "G3", "E4", "C5"],
    "IV": ["F3", "A3", "F4", "C5"],
    "V": ["G3", "G3", "D4", "B4"],
    "V7": ["G3", "B3", "F4", "D5"],
    "vi": ["A3", "A3", "E4", "C5"],
    "ii": ["D3", "A3", "F4", "D5"],
    "I2": ["C3", "C4", "G4", "E5"],
}


def satb(progression: list[list[str]], *, ts: str = "4/4", bpm: float | None = None, fermatas: set[int] = frozenset(),
         title: str | None = None, composer: str | None = None, quarter: float = 1.0) -> stream.Score:
    """A four-part score, one chord per ``quarter``; ``fermatas``: chord indices that end a phrase."""
    score = stream.Score()
    if title or composer:
        score.metadata = metadata.Metadata(title=title, composer=composer)
    names = ["Bass", "Tenor", "Alto", "Soprano"]
    parts = []
    for voice in range(4):
        part = stream.Part()
        part.append(meter.TimeSignature(ts))
        if bpm and voice == 3:
            part.insert(0, tempo.MetronomeMark(number=bpm))
        for i, pitches in enumerate(progression):
            n = note.Note(pitches[voice], quarterLength=quarter)
            if i in fermatas:
                n.expressions.append(expressions.Fermata())
            part.append(n)
        measured = part.makeMeasures()
        measured.partName = names[voice]  # makeMeasures builds a new Part
        parts.append(measured)
    for part in reversed(parts):  # soprano first, as scores list parts top down
        score.insert(0, part)
    return score


def melody(pitches: list[str | None], *, ts: str = "4/4", quarter: float = 1.0, name: str = "Violin") -> stream.Score:
    score = stream.Score()
    part = stream.Part()
    part.insert(0, instrument.Violin())
    part.append(meter.TimeSignature(ts))
    for p in pitches:
        part.append(note.Rest(quarterLength=quarter) if p is None else note.Note(p, quarterLength=quarter))
    measured = part.makeMeasures()
    measured.partName = name
    score.insert(0, measured)
    return score


def write(score: stream.Score, path: Path) -> Path:
    fmt = {".mid": "midi", ".midi": "midi"}.get(path.suffix, "musicxml")
    score.write(fmt, fp=str(path))
    return path


__all__ = ["C", "chord", "melody", "satb", "write"]
