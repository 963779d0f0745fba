"""The normalised renderings a score's page offers: MusicXML (what the browser engraves) and MIDI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ScoreError

if TYPE_CHECKING:
    from music21 import stream


def render(score: stream.Score, out_dir: str | Path) -> dict[str, Path]:
    """Write ``score.musicxml`` and ``score.mid`` into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"musicxml": out / "score.musicxml", "midi": out / "score.mid"}
    try:
        score.write("musicxml", fp=str(paths["musicxml"]))
    except Exception as exc:  # music21 cannot notate some MIDI timings; the file is not usable as a score
        raise ScoreError("score_unsupported", f"The score cannot be written as MusicXML: {type(exc).__name__}.") from exc
    try:
        score.write("midi", fp=str(paths["midi"]))
    except Exception as exc:
        raise ScoreError("score_unsupported", f"The score cannot be rendered as MIDI: {type(exc).__name__}.") from exc
    return paths
