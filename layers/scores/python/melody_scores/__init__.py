"""Melody Studio score engine (music21): read, analyse and render MusicXML, MXL, MIDI and ABC.

Public API (the score pipeline and the melody transcription call it; API functions never do)::

    from melody_scores import analyse, load, analyse_score, render, ScoreError

    result = analyse("piece.musicxml")   # ScoreAnalysis; result.to_dict() is the stored JSON
    score = load("piece.mid")            # a music21 Score, or ScoreError(code, message)
    render(score, "out/")                # out/score.musicxml, out/score.mid

Error codes: ``score_corrupt``, ``score_unsupported``, ``score_too_large``, ``score_empty``.
"""

from __future__ import annotations

from .analysis import analyse, analyse_score
from .errors import CODES, ScoreError
from .loader import CONTENT_TYPES, FORMATS, MAX_FILE_BYTES, load, score_format
from .model import Cadence, ChordEvent, KeyEstimate, KeySegment, PartInfo, ScoreAnalysis
from .render import render

__version__ = "0.1.0"

__all__ = [
    "CODES", "CONTENT_TYPES", "FORMATS", "MAX_FILE_BYTES", "Cadence", "ChordEvent", "KeyEstimate", "KeySegment",
    "PartInfo", "ScoreAnalysis", "ScoreError", "analyse", "analyse_score", "load", "render", "score_format",
]
