"""Reading a score file with music21, refusing what is not a score before music21 sees it.

Checks happen on the bytes first (size, extension, container): a zip bomb in an ``.mxl`` or a
20 MB "MIDI" never reaches the parser, and every failure maps to one stable code.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ScoreError

if TYPE_CHECKING:
    from music21 import stream

# Extension → music21's format name.
FORMATS: dict[str, str] = {
    ".musicxml": "musicxml",
    ".xml": "musicxml",
    ".mxl": "musicxml",
    ".mid": "midi",
    ".midi": "midi",
    ".abc": "abc",
}
# The Content-Type each extension is stored (and uploaded) with.
CONTENT_TYPES: dict[str, str] = {
    ".musicxml": "application/vnd.recordare.musicxml+xml",
    ".xml": "application/vnd.recordare.musicxml+xml",
    ".mxl": "application/vnd.recordare.musicxml",
    ".mid": "audio/midi",
    ".midi": "audio/midi",
    ".abc": "text/vnd.abc",
}
MAX_FILE_BYTES = 10 * 1024 * 1024
# An .mxl is a zip: what it may unpack to (a 2 MB orchestral MusicXML compresses to ~150 kB).
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_NOTES = 200_000


def score_format(path: str | Path) -> str:
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise ScoreError("score_unsupported", f"{ext or 'files without an extension'} is not a score format (MusicXML, MXL, MIDI or ABC).")
    return FORMATS[ext]


def _sniff(path: Path, fmt: str) -> None:
    head = path.read_bytes()[:512]
    ext = path.suffix.lower()
    if ext == ".mxl":
        if not zipfile.is_zipfile(path):
            raise ScoreError("score_corrupt", "The .mxl file is not a compressed MusicXML archive.")
        with zipfile.ZipFile(path) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise ScoreError("score_too_large", "The compressed score unpacks to more than the limit.")
        return
    if fmt == "midi" and not head.startswith(b"MThd"):
        raise ScoreError("score_corrupt", "The file is not a standard MIDI file (no MThd header).")
    if fmt == "musicxml":
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text.startswith(b"<"):
            raise ScoreError("score_corrupt", "The file is not MusicXML (not XML).")
        if b"<!ENTITY" in path.read_bytes()[:65536]:
            # Entity declarations have no place in MusicXML and are how XML bombs work.
            raise ScoreError("score_corrupt", "The MusicXML declares entities, which scores never need.")


def load(path: str | Path) -> stream.Score:
    """Parse ``path`` into a music21 Score, or raise :class:`ScoreError` with a stable code."""
    path = Path(path)
    fmt = score_format(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScoreError("score_corrupt", "The score file cannot be read.") from exc
    if size == 0:
        raise ScoreError("score_empty", "The file is empty.")
    if size > MAX_FILE_BYTES:
        raise ScoreError("score_too_large", f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    _sniff(path, fmt)

    from music21 import converter, stream

    try:
        parsed: Any = converter.parse(str(path), format=fmt, forceSource=True)
    except Exception as exc:  # music21 raises many types (XML, MIDI, ABC, zip); all mean "not readable"
        raise ScoreError("score_corrupt", f"The score could not be read: {type(exc).__name__}.") from exc
    if isinstance(parsed, stream.Opus):
        scores = list(parsed.scores)
        if not scores:
            raise ScoreError("score_empty", "The file holds no score.")
        parsed = scores[0]  # an ABC book: its first tune
    if not isinstance(parsed, stream.Score):
        score = stream.Score()
        score.insert(0, parsed)
        parsed = score
    notes = len(parsed.recurse().notes)
    if notes == 0:
        raise ScoreError("score_empty", "The score has no notes.")
    if notes > MAX_NOTES:
        raise ScoreError("score_too_large", f"The score has more than {MAX_NOTES} notes.")
    return parsed
