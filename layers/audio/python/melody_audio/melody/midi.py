"""A Standard MIDI File (format 0) of the quantised melody: tempo, time and key signature, notes.

Written by hand (the format is small) so the pipeline image needs no MIDI package. Times come from
the beat grid, at one tempo (the song's median beat period): the file is the lead sheet's melody,
and a score player follows the lead sheet.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .notes import GridNote

TICKS_PER_QUARTER = 480


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def midi_bytes(notes: list[GridNote], *, steps_per_quarter: int, bpm: float, time_signature: str,
               key_fifths: int, minor: bool, origin_step: int = 0, velocity: int = 90) -> bytes:
    """``notes`` on a grid of ``steps_per_quarter`` steps; ``origin_step`` is tick 0 (the first bar shown)."""
    ticks = TICKS_PER_QUARTER // steps_per_quarter
    numerator, denominator = (int(v) for v in time_signature.split("/"))
    events: list[tuple[int, int, bytes]] = []  # (tick, order, data): note-offs before note-ons at a tick
    tempo = int(round(60_000_000 / max(bpm, 1.0)))
    events.append((0, 0, b"\xff\x51\x03" + tempo.to_bytes(3, "big")))
    events.append((0, 0, b"\xff\x58\x04" + bytes([numerator, denominator.bit_length() - 1, 24, 8])))
    events.append((0, 0, b"\xff\x59\x02" + struct.pack(">bB", key_fifths, 1 if minor else 0)))
    events.append((0, 0, b"\xff\x03\x06Melody"))
    for n in notes:
        on = (n.start - origin_step) * ticks
        off = on + n.length * ticks
        events.append((on, 2, bytes([0x90, n.pitch, velocity])))
        events.append((off, 1, bytes([0x80, n.pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    track = bytearray()
    now = 0
    for tick, _order, data in events:
        track += _vlq(tick - now) + data
        now = tick
    track += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)
