"""The score analysis: one pass over the parts and one over the chordified score.

Each part is a small function over music21 objects so the unit tests can check them one by one
on scores built in the tests.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from . import keys
from .loader import load, score_format
from .model import Cadence, ChordEvent, KeyEstimate, KeySegment, PartInfo, ScoreAnalysis

if TYPE_CHECKING:
    from pathlib import Path

    from music21 import chord as m21chord
    from music21 import key as m21key
    from music21 import stream

# Chord slices kept per measure (a dense orchestral bar has dozens of onsets; the view needs a few).
MAX_CHORDS_PER_MEASURE = 8
CONTOUR_LIMIT = 4000


def _opt(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def metadata(score: stream.Score) -> tuple[str | None, str | None]:
    md = score.metadata
    if md is None:
        return None, None
    return _opt(md.title or md.movementName), _opt(md.composer)


def parts(score: stream.Score) -> list[PartInfo]:
    out = []
    for index, part in enumerate(score.parts):
        # In a measure (makeMeasures, MusicXML import) or at the part's start (MIDI import).
        instrument = part.getInstrument(returnDefault=False) or part.recurse().getElementsByClass("Instrument").first()
        pitches = [p for n in part.recurse().notes for p in n.pitches]
        lowest = min(pitches, key=lambda p: p.ps) if pitches else None
        highest = max(pitches, key=lambda p: p.ps) if pitches else None
        out.append(
            PartInfo(
                index=index,
                name=_opt(part.partName) or (_opt(instrument.partName) if instrument else None),
                instrument=_opt(instrument.instrumentName) if instrument else None,
                midi_program=instrument.midiProgram if instrument else None,
                notes=len(part.recurse().notes),
                lowest=lowest.nameWithOctave if lowest else None,
                highest=highest.nameWithOctave if highest else None,
                ambitus_semitones=int(highest.ps - lowest.ps) if lowest and highest else None,
            )
        )
    return out


def measure_count(score: stream.Score) -> int:
    return max((len(part.getElementsByClass("Measure")) for part in score.parts), default=0)


def time_signatures(score: stream.Score) -> list[dict[str, Any]]:
    from music21 import meter

    out: list[dict[str, Any]] = []
    source = score.parts[0] if score.parts else score
    for ts in source.recurse().getElementsByClass(meter.TimeSignature):
        if out and out[-1]["signature"] == ts.ratioString:
            continue
        out.append({"measure": ts.measureNumber, "signature": ts.ratioString})
    return out


def tempo(score: stream.Score) -> tuple[list[dict[str, Any]], bool, float, float]:
    """Marks, whether none was marked, duration in seconds at the marked tempo, and in quarters."""
    from music21 import tempo as m21tempo

    marks: list[dict[str, Any]] = []
    for mm in score.recurse().getElementsByClass(m21tempo.MetronomeMark):
        bpm = mm.getQuarterBPM()
        if bpm is None:
            continue
        text = None if getattr(mm, "textImplicit", False) else _opt(mm.text)  # music21 names unmarked tempos itself
        entry = {"measure": mm.measureNumber, "quarter_bpm": round(float(bpm), 2), "text": text}
        if not any(m["measure"] == entry["measure"] and m["quarter_bpm"] == entry["quarter_bpm"] for m in marks):
            marks.append(entry)
    quarters = float(score.highestTime)
    seconds = 0.0
    for start, end, mm in score.metronomeMarkBoundaries():
        bpm = mm.getQuarterBPM() or 120.0
        seconds += (float(end) - float(start)) * 60.0 / float(bpm)
    return marks, not marks, round(seconds, 3), quarters


def top_voice(score: stream.Score) -> dict[str, Any]:
    """Intervals (semitones, signed) between successive notes of the highest part, and its contour."""
    if not score.parts:
        return {"part": None, "notes": 0, "intervals": {}, "contour": ""}
    part = max(score.parts, key=_mean_pitch) if len(score.parts) > 1 else score.parts[0]
    midi = [max(p.midi for p in n.pitches) for n in part.flatten().notes]
    steps = [b - a for a, b in zip(midi, midi[1:], strict=False)]
    histogram = Counter(steps)
    contour = "".join("U" if s > 0 else "D" if s < 0 else "R" for s in steps)
    return {
        "part": score.parts.index(part),
        "notes": len(midi),
        "intervals": {str(k): histogram[k] for k in sorted(histogram)},
        "steps": sum(1 for s in steps if 0 < abs(s) <= 2),
        "leaps": sum(1 for s in steps if abs(s) > 2),
        "repeats": histogram.get(0, 0),
        "contour": contour[:CONTOUR_LIMIT],
        "range_midi": [min(midi), max(midi)] if midi else None,
    }


def _mean_pitch(part: stream.Part) -> float:
    values = [p.ps for n in part.recurse().notes for p in n.pitches]
    return sum(values) / len(values) if values else -1.0


def rhythmic_density(score: stream.Score) -> list[dict[str, Any]]:
    """Per measure: notes started, distinct onsets (all parts) and onsets per quarter note."""
    notes: Counter[int] = Counter()
    onsets: dict[int, set[float]] = {}
    lengths: dict[int, float] = {}
    for part in score.parts:
        for measure in part.getElementsByClass("Measure"):
            number = int(measure.number)
            lengths[number] = max(lengths.get(number, 0.0), float(measure.duration.quarterLength))
            starts = onsets.setdefault(number, set())
            for n in measure.recurse().notes:
                notes[number] += 1
                starts.add(round(float(n.getOffsetInHierarchy(measure)), 4))
    return [
        {
            "measure": number,
            "notes": notes[number],
            "onsets": len(onsets[number]),
            "onsets_per_quarter": round(len(onsets[number]) / lengths[number], 3) if lengths[number] else 0.0,
        }
        for number in sorted(onsets)
    ]


def _fermata_offsets(score: stream.Score) -> set[float]:
    from music21 import expressions

    found: set[float] = set()
    for part in score.parts:
        for n in part.recurse().notes:
            if any(isinstance(e, expressions.Fermata) for e in n.expressions):
                found.add(round(float(n.getOffsetInHierarchy(score)), 4))
    return found


def _rest_phrase_ends(score: stream.Score) -> set[float]:
    """Onsets of top-voice notes followed by a rest: phrase ends where no fermata marks them."""
    if not score.parts:
        return set()
    found: set[float] = set()
    events = list(score.parts[0].flatten().notesAndRests)
    for prev, nxt in zip(events, events[1:], strict=False):
        if not prev.isRest and nxt.isRest:
            found.add(round(float(prev.getOffsetInHierarchy(score)), 4))
    return found


def _roman(ch: m21chord.Chord, k: m21key.Key) -> Any:
    from music21 import roman

    try:
        return roman.romanNumeralFromChord(ch, k)
    except Exception:  # music21 cannot name some clusters; they simply get no numeral
        return None


_DOMINANT_QUALITIES = ("major", "diminished", "half-diminished", "dominant-seventh", "other")


def classify_cadence(before: Any, final: Any) -> str | None:
    """A cadence type from the two Roman numerals at a phrase end (music21 RomanNumeral objects)."""
    if final is None:
        return None
    fd, bd = final.scaleDegree, before.scaleDegree if before is not None else None
    dominant = bd in (5, 7) and before is not None and before.quality in _DOMINANT_QUALITIES
    if fd == 1 and final.quality in ("major", "minor"):
        if dominant and bd == 5 or (bd == 7 and before is not None and before.quality in ("diminished", "half-diminished")):
            return "authentic"
        if bd == 4:
            return "plagal"
        return None
    if fd == 5 and final.quality == "major" and final.inversion() == 0:
        return "half"
    if fd == 6 and bd == 5 and dominant:
        return "deceptive"
    return None


Slice = tuple[int, float, float, Any]  # measure number, offset in the measure, duration, music21 Chord


def _measure_histograms_and_slices(chordified: stream.Score) -> tuple[list[int], dict[int, list[float]], list[Slice]]:
    """Per measure the duration-weighted pitch-class histogram, and the merged chord slices
    (measure number, offset in measure, duration, chord)."""
    histograms: dict[int, list[float]] = {}
    slices: list[Slice] = []
    numbers: list[int] = []
    for measure in chordified.getElementsByClass("Measure"):
        number = int(measure.number)
        if number not in histograms:
            numbers.append(number)
        hist = histograms.setdefault(number, [0.0] * 12)
        previous: set[int] | None = None
        for ch in measure.recurse().getElementsByClass("Chord"):
            ql = float(ch.duration.quarterLength)
            pcs = {p.pitchClass for p in ch.pitches}
            for pc in pcs:
                hist[pc] += ql
            if pcs == previous and slices and slices[-1][0] == number:
                m, off, dur, c = slices[-1]
                slices[-1] = (m, off, dur + ql, c)
                continue
            previous = pcs
            slices.append((number, float(ch.getOffsetInHierarchy(measure)), ql, ch))
    return numbers, histograms, slices


def ending(score: stream.Score, slices: list[Slice] | None = None) -> tuple[int | None, frozenset[int]]:
    """The pitch class of the lowest final note (of all parts) and those of the final sonority."""
    finals = [n for n in (part.flatten().notes.last() for part in score.parts) if n is not None]
    if not finals:
        return None, frozenset()
    end = max(float(n.getOffsetInHierarchy(score)) + float(n.duration.quarterLength) for n in finals)
    # Parts that end together make the final sonority (a part resting through the end does not).
    sounding = [n for n in finals if abs(float(n.getOffsetInHierarchy(score)) + float(n.duration.quarterLength) - end) < 1e-6]
    pitches = [p for n in sounding for p in n.pitches]
    if slices:
        pitches += list(slices[-1][3].pitches)
    lowest = min(pitches, key=lambda p: p.ps)
    return lowest.pitchClass, frozenset(p.pitchClass for p in pitches)


def estimate_key(score: stream.Score, slices: list[Slice] | None = None) -> tuple[KeyEstimate, list[KeyEstimate]]:
    """The global key (with confidence) and three alternatives: see :mod:`melody_scores.keys`."""
    from music21 import key as m21key

    final_bass_pc, final_pcs = ending(score, slices)
    signatures = list(score.parts[0].recurse().getElementsByClass(m21key.KeySignature)) if score.parts else []
    sharps = signatures[0].sharps if signatures else None
    return keys.global_key(score, final_bass_pc=final_bass_pc, final_pcs=final_pcs, signature_sharps=sharps)


def analyse_score(score: stream.Score, *, fmt: str = "musicxml") -> ScoreAnalysis:
    """Analyse a parsed score (see :func:`analyse` for files)."""
    import music21
    from music21 import key as m21key

    title, composer = metadata(score)
    part_info = parts(score)
    marks, assumed, seconds, quarters = tempo(score)

    chordified = score.chordify()
    numbers, histograms, slices = _measure_histograms_and_slices(chordified)

    global_key, alternatives = estimate_key(score)  # the path benchmarks/score_analysis.py measures

    segments = keys.timeline(numbers, histograms) if numbers else []
    segments = [_respell(seg, global_key) for seg in segments]
    modulations = [
        {"measure": b.start_measure, "from": a.key, "to": b.key} for a, b in zip(segments, segments[1:], strict=False)
    ]

    def local_key(number: int) -> KeySegment | None:
        for seg in segments:
            if seg.start_measure <= number <= seg.end_measure:
                return seg
        return None

    key_objects: dict[str, m21key.Key] = {}
    events: list[ChordEvent] = []
    numerals: list[tuple[float, Any, str, int, float]] = []  # (offset in score, numeral, key, measure, beat)
    per_measure: Counter[int] = Counter()
    measure_offsets = {int(m.number): float(m.offset) for m in chordified.getElementsByClass("Measure")}
    for number, offset, duration, ch in slices:
        seg = local_key(number)
        kname = seg.key if seg else global_key.name
        k = key_objects.setdefault(kname, m21key.Key(seg.tonic if seg else global_key.tonic, seg.mode if seg else global_key.mode))
        distinct = {p.pitchClass for p in ch.pitches}
        rn = _roman(ch, k) if len(distinct) >= 2 else None
        beat = round(offset + 1.0, 3)
        numerals.append((measure_offsets.get(number, 0.0) + offset, rn, kname, number, beat))
        if per_measure[number] >= MAX_CHORDS_PER_MEASURE:
            continue
        per_measure[number] += 1
        root = ch.root() if distinct else None
        events.append(
            ChordEvent(
                measure=number,
                beat=beat,
                duration=round(duration, 3),
                pitches=[p.nameWithOctave for p in ch.pitches],
                root=root.name if root is not None else None,
                name=str(ch.pitchedCommonName),
                key=kname,
                roman=rn.figure if rn is not None else None,
            )
        )

    ends = _fermata_offsets(score) | _rest_phrase_ends(score)
    if numerals:
        ends.add(round(numerals[-1][0], 4))
    cadences: list[Cadence] = []
    for i, (start, rn, kname, number, beat) in enumerate(numerals):
        # The slice sounding at a phrase end's onset (merged slices may start earlier).
        nxt = numerals[i + 1][0] if i + 1 < len(numerals) else float("inf")
        if not any(start <= end < nxt for end in ends) or i == 0:
            continue
        before = next((n[1] for n in reversed(numerals[:i]) if n[1] is not None and n[1].figure != getattr(rn, "figure", None)), None)
        kind = classify_cadence(before, rn)
        if kind and not (cadences and cadences[-1].measure == number and cadences[-1].beat == beat):
            cadences.append(Cadence(number, beat, kind, kname, [before.figure if before is not None else "", rn.figure]))

    return ScoreAnalysis(
        format=fmt,
        title=title,
        composer=composer,
        parts=part_info,
        measures=measure_count(score),
        time_signatures=time_signatures(score),
        tempo_marks=marks,
        tempo_assumed=assumed,
        duration_s=seconds,
        duration_quarters=round(quarters, 3),
        key=global_key,
        key_alternatives=alternatives,
        key_method=f"{keys.METHOD}+ending+signature",
        key_timeline=segments,
        modulations=modulations,
        chords=events,
        cadences=cadences,
        top_voice=top_voice(score),
        rhythmic_density=rhythmic_density(score),
        engine={"name": "music21", "version": str(music21.__version__)},
    )


def _respell(seg: KeySegment, global_key: KeyEstimate) -> KeySegment:
    """The timeline spells tonics one way (E-, not D#); the global key's own spelling wins where they agree."""
    from music21 import pitch

    if seg.mode == global_key.mode and pitch.Pitch(seg.tonic).pitchClass == pitch.Pitch(global_key.tonic).pitchClass:
        return KeySegment(seg.start_measure, seg.end_measure, global_key.name, global_key.tonic, seg.mode, seg.confidence)
    return seg


def analyse(path: str | Path) -> ScoreAnalysis:
    """Parse and analyse a score file (.musicxml .xml .mxl .mid .midi .abc); raises ScoreError."""
    return analyse_score(load(path), fmt=score_format(path))
