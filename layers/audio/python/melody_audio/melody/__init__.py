"""The sung melody of a song as notes: transcription of the vocal stem, quantisation to the song's
beats and key, chord symbols from the instrumental, and the lead sheet as MIDI and MusicXML.

    from melody_audio.melody import lead_sheet
    sheet = lead_sheet(stems.vocals, stems.sample_rate, analysis.to_dict(), instrumental=stems.instrumental)
    sheet.midi, sheet.musicxml, sheet.summary()

Trackers: ``"nmp"`` (basic-pitch's note model, vendored ONNX, run with onnxruntime) and ``"yin"``
(numpy). ``benchmarks/melody.py`` measures both; the default is ``"nmp"`` when onnxruntime is
installed.
"""

from __future__ import annotations

from .harmony import Chord, chords_per_bar
from .leadsheet import LeadSheet, lead_sheet
from .notes import GridNote, Note
from .quantise import Grid, make_grid, snap_to_key, to_grid
from .transcribe import TRACKERS, default_tracker, transcribe

__all__ = [
    "TRACKERS", "Chord", "Grid", "GridNote", "LeadSheet", "Note", "chords_per_bar", "default_tracker",
    "lead_sheet", "make_grid", "snap_to_key", "to_grid", "transcribe",
]
