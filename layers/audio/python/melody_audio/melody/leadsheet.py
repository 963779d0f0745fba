"""The whole melody path: vocal stem → notes → beat grid and key → chords → MIDI + MusicXML."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..analysis.key import PITCH_NAMES, pitch_class
from .harmony import Chord, chords_per_bar
from .midi import midi_bytes
from .musicxml import DIVISIONS, key_fifths, musicxml_bytes
from .notes import GridNote, Note
from .quantise import Grid, make_grid, scale_of, snap_to_key, to_grid
from .transcribe import default_tracker, transcribe


@dataclass
class LeadSheet:
    notes: list[Note]
    grid_notes: list[GridNote]
    chords: list[Chord]
    tonic: str
    mode: str
    time_signature: str
    bpm: float
    tracker: str
    midi: bytes = b""
    musicxml: bytes = b""
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        scale = scale_of(pitch_class(self.tonic), self.mode)
        in_key = sum(1 for n in self.grid_notes if n.pitch % 12 in scale)
        return {
            "notes_count": len(self.grid_notes),
            "key": {"tonic": self.tonic, "mode": self.mode},
            "time_signature": self.time_signature,
            "bpm": round(self.bpm, 2),
            "tracker": self.tracker,
            "in_key_ratio": round(in_key / len(self.grid_notes), 3) if self.grid_notes else None,
            "range": [min(n.pitch for n in self.grid_notes), max(n.pitch for n in self.grid_notes)]
            if self.grid_notes else None,
            "chords": [c.symbol for c in self.chords],
        }


def lead_sheet(vocals: np.ndarray, sample_rate: int, analysis: dict[str, Any], *,
               instrumental: np.ndarray | None = None, tracker: str | None = None,
               title: str = "Melody") -> LeadSheet:
    """``analysis`` is the engine's ``analysis.json`` (tempo.beats/downbeats/time_signature/bpm, key)."""
    tempo = analysis.get("tempo") or {}
    key = analysis.get("key") or {}
    tonic = str(key.get("tonic") or "C")
    tonic_pc = pitch_class(tonic) if tonic in PITCH_NAMES or len(tonic) <= 2 else 0
    mode = "minor" if key.get("mode") == "minor" else "major"
    name = tracker or default_tracker()
    duration = vocals.shape[-1] / sample_rate
    grid: Grid = make_grid(tempo.get("beats"), tempo.get("downbeats"), tempo.get("time_signature"),
                           bpm=tempo.get("bpm"), duration_s=duration)
    notes = snap_to_key(transcribe(vocals, sample_rate, tracker=name), tonic_pc, mode)
    placed = to_grid(notes, grid)
    bar_steps = grid.steps_per_bar
    first_bar = min([n.start // bar_steps for n in placed] + [0])
    last_bar = max([(n.start + n.length - 1) // bar_steps for n in placed] + [first_bar])
    chords = (chords_per_bar(instrumental, sample_rate, grid, tonic_pc=tonic_pc, mode=mode,
                             bars=range(first_bar, last_bar + 1))
              if instrumental is not None else [])
    period = float(np.median(np.diff(grid.beats)))
    # the grid's beat is a dotted quarter in x/8 meters; MIDI and MusicXML tempo are in quarters
    bpm = 60.0 / period * (grid.steps_per_beat / DIVISIONS)
    sheet = LeadSheet(notes=notes, grid_notes=placed, chords=chords, tonic=tonic, mode=mode,
                      time_signature=grid.time_signature, bpm=bpm, tracker=name)
    sheet.midi = midi_bytes(placed, steps_per_quarter=DIVISIONS, bpm=bpm, time_signature=grid.time_signature,
                            key_fifths=key_fifths(tonic_pc, mode), minor=mode == "minor",
                            origin_step=first_bar * bar_steps)
    sheet.musicxml = musicxml_bytes(placed, chords, steps_per_bar=bar_steps, time_signature=grid.time_signature,
                                    tonic_pc=tonic_pc, mode=mode, bpm=bpm, title=title, first_bar=first_bar,
                                    last_bar=last_bar)
    # where bar 1 of the sheet is in the audio: the player scrolls the sheet in time with the song
    sheet.extra["first_bar_s"] = round(grid.time_of_step(first_bar * bar_steps), 3)
    sheet.extra["bar_times_s"] = [round(grid.time_of_step(b * bar_steps), 3) for b in range(first_bar, last_bar + 2)]
    return sheet
