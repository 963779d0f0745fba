"""LRC (``[mm:ss.xx] line``) parsing and validation, pure Python.

What is accepted (the de-facto format; there is no formal standard):

* time tags ``[mm:ss]``, ``[mm:ss.x]``, ``[mm:ss.xx]``, ``[mm:ss.xxx]`` (also ``:`` before the
  fraction, as some editors write), several on one line for a repeated chorus;
* the ``[offset:±ms]`` tag, applied to every line (a positive offset shows lyrics sooner, as in
  the players that defined the tag), and the ID tags ``ar``, ``ti``, ``al``, ``length``;
* Enhanced-LRC word tags ``<mm:ss.xx>`` inside a line are dropped (the player highlights lines).

Refused (``LrcError``): more than ``MAX_LRC_BYTES`` of UTF-8 or ``MAX_LINES`` lines, control
characters, a minute field past ``MAX_MINUTES``, and a document with no timed line at all. The
limits keep one attachment well inside a DynamoDB item (400 KB) and a phone's lyrics panel.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

__all__ = ["MAX_LINES", "MAX_LINE_CHARS", "MAX_LRC_BYTES", "LrcDocument", "LrcError", "LrcLine", "parse_lrc"]

MAX_LRC_BYTES = 64 * 1024
MAX_LINES = 2000
MAX_LINE_CHARS = 500
MAX_MINUTES = 120  # the pipeline accepts up to 15 minutes; 2 h leaves room for live sets

_TIME_TAG = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_ID_TAG = re.compile(r"^\[([a-zA-Z#]+):(.*)\]$")
_WORD_TAG = re.compile(r"<\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?>")
_OFFSET = re.compile(r"^[+-]?\d{1,7}$")
# C0/C1 controls other than tab and the line breaks themselves (a file is text, not a payload).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class LrcError(ValueError):
    """Why an LRC text is refused; ``code`` is the API's stable error code."""

    def __init__(self, message: str, *, code: str = "invalid_lrc", line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.line = line


@dataclass(frozen=True)
class LrcLine:
    t: float  # seconds from the start of the song, offset applied, never negative
    text: str


@dataclass(frozen=True)
class LrcDocument:
    lines: list[LrcLine]
    offset_ms: int = 0
    tags: dict[str, str] = field(default_factory=dict)


def _seconds(minutes: str, seconds: str, fraction: str | None, *, line_no: int) -> float:
    m, s = int(minutes), int(seconds)
    if s >= 60:
        raise LrcError(f"Line {line_no}: seconds must be below 60.", line=line_no)
    if m > MAX_MINUTES:
        raise LrcError(f"Line {line_no}: a time past {MAX_MINUTES} minutes.", line=line_no)
    frac = int(fraction) / (10 ** len(fraction)) if fraction else 0.0
    return m * 60 + s + frac


def parse_lrc(text: str) -> LrcDocument:
    """Parse and validate ``text``; lines come back sorted by time (stable for equal times)."""
    if len(text.encode("utf-8")) > MAX_LRC_BYTES:
        raise LrcError(f"The lyrics file is larger than {MAX_LRC_BYTES // 1024} KB.", code="lrc_too_large")
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    raw_lines = text.splitlines()
    if len(raw_lines) > MAX_LINES:
        raise LrcError(f"The lyrics file has more than {MAX_LINES} lines.", code="lrc_too_large")
    timed: list[tuple[float, int, str]] = []
    tags: dict[str, str] = {}
    offset_ms = 0
    for number, raw in enumerate(raw_lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if _CONTROL.search(line):
            raise LrcError(f"Line {number} holds control characters.", line=number)
        stamps: list[float] = []
        while True:
            match = _TIME_TAG.match(line)
            if not match:
                break
            stamps.append(_seconds(*match.groups(), line_no=number))
            line = line[match.end() :].lstrip()
        if not stamps:
            tag = _ID_TAG.match(line)
            if tag:
                name, value = tag.group(1).lower(), tag.group(2).strip()
                if name == "offset":
                    if not _OFFSET.match(value):
                        raise LrcError(f"Line {number}: the offset must be whole milliseconds.", line=number)
                    offset_ms = int(value)
                elif name in ("ar", "ti", "al", "length", "by"):
                    tags[name] = value[:MAX_LINE_CHARS]
            continue  # untimed text (a plain lyrics line, a comment): not part of a synced document
        words = " ".join(_WORD_TAG.sub("", line).split())
        if len(words) > MAX_LINE_CHARS:
            raise LrcError(f"Line {number} is longer than {MAX_LINE_CHARS} characters.", line=number)
        timed.extend((t, len(timed) + i, words) for i, t in enumerate(stamps))
    if not timed:
        raise LrcError("No timed lines: an LRC line starts with a time such as [01:23.45].", code="lrc_not_synced")
    shift = offset_ms / 1000.0
    timed.sort(key=lambda row: (row[0], row[1]))
    lines = [LrcLine(t=round(max(0.0, t - shift), 3), text=words) for t, _, words in timed]
    return LrcDocument(lines=lines, offset_ms=offset_ms, tags=tags)


def format_lrc(lines: list[LrcLine]) -> str:
    """Lines back as LRC text (the provider's synced lyrics are stored in the same form)."""
    out = []
    for line in lines:
        minutes, seconds = divmod(line.t, 60)
        out.append(f"[{int(minutes):02d}:{seconds:05.2f}]{line.text}")
    return "\n".join(out)
