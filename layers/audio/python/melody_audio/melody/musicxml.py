"""The lead sheet as MusicXML 4.0 (partwise): one voice part with key and time signature, tempo,
a chord symbol (``<harmony>``) at the start of each bar, notes and rests on a 16th-note grid (4
divisions per quarter), notes that cross a bar line split and tied. Pitches are spelled with the
key signature's accidentals (sharps in sharp keys, flats in flat keys).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .harmony import Chord
    from .notes import GridNote

DIVISIONS = 4  # per quarter: one step of the grid is a 16th
# step lengths → (type, dots), the longest first (a length not here is tied from these)
_SHAPES = [(16, "whole", 0), (12, "half", 1), (8, "half", 0), (6, "quarter", 1), (4, "quarter", 0),
           (3, "eighth", 1), (2, "eighth", 0), (1, "16th", 0)]
_SHARP_NAMES = [("C", 0), ("C", 1), ("D", 0), ("D", 1), ("E", 0), ("F", 0), ("F", 1), ("G", 0), ("G", 1),
                ("A", 0), ("A", 1), ("B", 0)]
_FLAT_NAMES = [("C", 0), ("D", -1), ("D", 0), ("E", -1), ("E", 0), ("F", 0), ("G", -1), ("G", 0), ("A", -1),
               ("A", 0), ("B", -1), ("B", 0)]
_MAJOR_FIFTHS = {0: 0, 7: 1, 2: 2, 9: 3, 4: 4, 11: 5, 6: 6, 1: -5, 8: -4, 3: -3, 10: -2, 5: -1}


def key_fifths(tonic_pc: int, mode: str) -> int:
    """Sharps (+) or flats (−) of the key signature; a minor key uses its relative major's."""
    return _MAJOR_FIFTHS[(tonic_pc + (3 if mode == "minor" else 0)) % 12]


def spell(pitch: int, fifths: int) -> tuple[str, int, int]:
    """``(step, alter, octave)`` of a MIDI pitch in a key with ``fifths``."""
    step, alter = (_FLAT_NAMES if fifths < 0 else _SHARP_NAMES)[pitch % 12]
    return step, alter, pitch // 12 - 1


def _pieces(length: int) -> list[tuple[int, str, int]]:
    out = []
    while length > 0:
        for size, kind, dots in _SHAPES:
            if size <= length:
                out.append((size, kind, dots))
                length -= size
                break
    return out


def _sub(parent: ET.Element, tag: str, value: object | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if value is not None:
        el.text = str(value)
    return el


def musicxml_bytes(notes: list[GridNote], chords: list[Chord], *, steps_per_bar: int, time_signature: str,
                   tonic_pc: int, mode: str, bpm: float, title: str = "Melody", first_bar: int = 0,
                   last_bar: int | None = None) -> bytes:
    fifths = key_fifths(tonic_pc, mode)
    beats, beat_type = time_signature.split("/")
    if last_bar is None:
        last_bar = max([(n.start + n.length - 1) // steps_per_bar for n in notes] + [first_bar])
    root = ET.Element("score-partwise", version="4.0")
    work = _sub(root, "work")
    _sub(work, "work-title", title)
    ident = _sub(root, "identification")
    encoding = _sub(ident, "encoding")
    _sub(encoding, "software", "Melody Studio (melody_audio.melody)")
    part_list = _sub(root, "part-list")
    score_part = _sub(part_list, "score-part", id="P1")
    _sub(score_part, "part-name", "Voice")
    part = _sub(root, "part", id="P1")
    chord_at = {c.bar: c for c in chords}
    low_voice = bool(notes) and sorted(n.pitch for n in notes)[len(notes) // 2] < 60
    # split notes at bar lines: (bar, offset in bar, length, pitch, tie_start, tie_stop)
    by_bar: dict[int, list[tuple[int, int, int, bool, bool]]] = {}
    for n in notes:
        start, remaining, first = n.start, n.length, True
        while remaining > 0:
            bar, offset = divmod(start, steps_per_bar)
            take = min(remaining, steps_per_bar - offset)
            by_bar.setdefault(bar, []).append((offset, take, n.pitch, not first, remaining > take))
            start, remaining, first = start + take, remaining - take, False
    for number, bar in enumerate(range(first_bar, last_bar + 1), start=1):
        measure = _sub(part, "measure", number=str(number))
        if number == 1:
            attrs = _sub(measure, "attributes")
            _sub(attrs, "divisions", DIVISIONS)
            key = _sub(attrs, "key")
            _sub(key, "fifths", fifths)
            _sub(key, "mode", mode if mode in ("major", "minor") else "major")
            time = _sub(attrs, "time")
            _sub(time, "beats", beats)
            _sub(time, "beat-type", beat_type)
            clef = _sub(attrs, "clef")
            _sub(clef, "sign", "G")
            _sub(clef, "line", 2)
            if low_voice:
                _sub(clef, "clef-octave-change", -1)
            direction = _sub(measure, "direction", placement="above")
            dtype = _sub(direction, "direction-type")
            metronome = _sub(dtype, "metronome")
            _sub(metronome, "beat-unit", "quarter")
            _sub(metronome, "per-minute", int(round(bpm)))
            _sub(direction, "sound", tempo=f"{bpm:.2f}")
        chord = chord_at.get(bar)
        if chord is not None:
            harmony = _sub(measure, "harmony")
            hroot = _sub(harmony, "root")
            step, alter, _ = spell(chord.root + 60, fifths)
            _sub(hroot, "root-step", step)
            if alter:
                _sub(hroot, "root-alter", alter)
            _sub(harmony, "kind", chord.quality, text="m" if chord.quality == "minor" else "")
        pos = 0
        for offset, length, pitch, tie_stop, tie_start in sorted(by_bar.get(bar, [])):
            if offset > pos:
                _rest(measure, offset - pos)
            pieces = _pieces(length)
            for i, (size, kind, dots) in enumerate(pieces):
                stop = tie_stop or i > 0
                start = tie_start or i < len(pieces) - 1
                _note(measure, pitch, fifths, size, kind, dots, stop, start)
            pos = offset + length
        if pos < steps_per_bar:
            _rest(measure, steps_per_bar - pos, whole_bar=pos == 0)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    doctype = ('<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
               '"http://www.musicxml.org/dtds/partwise.dtd">')
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n{body}\n'.encode()


def _rest(measure: ET.Element, length: int, *, whole_bar: bool = False) -> None:
    if whole_bar:
        note = _sub(measure, "note")
        _sub(note, "rest", measure="yes")
        _sub(note, "duration", length)
        return
    for size, kind, dots in _pieces(length):
        note = _sub(measure, "note")
        _sub(note, "rest")
        _sub(note, "duration", size)
        _sub(note, "type", kind)
        for _ in range(dots):
            _sub(note, "dot")


def _note(measure: ET.Element, pitch: int, fifths: int, size: int, kind: str, dots: int, tie_stop: bool,
          tie_start: bool) -> None:
    note = _sub(measure, "note")
    step, alter, octave = spell(pitch, fifths)
    p = _sub(note, "pitch")
    _sub(p, "step", step)
    if alter:
        _sub(p, "alter", alter)
    _sub(p, "octave", octave)
    _sub(note, "duration", size)
    if tie_stop:
        _sub(note, "tie", type="stop")
    if tie_start:
        _sub(note, "tie", type="start")
    _sub(note, "voice", 1)
    _sub(note, "type", kind)
    for _ in range(dots):
        _sub(note, "dot")
    if tie_stop or tie_start:
        notations = _sub(note, "notations")
        if tie_stop:
            _sub(notations, "tied", type="stop")
        if tie_start:
            _sub(notations, "tied", type="start")
