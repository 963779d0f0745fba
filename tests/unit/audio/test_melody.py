"""The melody package: trackers, note decoding, beat/key quantisation, chords, MIDI and MusicXML."""

from __future__ import annotations

import importlib.util
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from melody_audio.melody import Note, lead_sheet, make_grid, snap_to_key, to_grid, transcribe
from melody_audio.melody.decode import segments, viterbi_path
from melody_audio.melody.harmony import chords_per_bar
from melody_audio.melody.midi import midi_bytes
from melody_audio.melody.musicxml import key_fifths, musicxml_bytes, spell
from melody_audio.melody.notes import GridNote

SR = 22050
HAVE_ORT = importlib.util.find_spec("onnxruntime") is not None
TRACKERS = ["yin", pytest.param("nmp", marks=pytest.mark.skipif(not HAVE_ORT, reason="onnxruntime not installed"))]


def sung(notes: list[tuple[float, float, int]], total_s: float, sr: int = SR, vibrato_cents: float = 40.0) -> np.ndarray:
    """A voice-like line: harmonics with a formant-ish tilt, vibrato, 20 ms attack/release per note."""
    n = int(total_s * sr)
    out = np.zeros(n)
    for onset, offset, midi in notes:
        a, b = int(onset * sr), int(offset * sr)
        t = np.arange(b - a) / sr
        f = 440.0 * 2 ** ((midi - 69 + vibrato_cents / 100 * np.sin(2 * np.pi * 5.5 * t)) / 12)
        phase = 2 * np.pi * np.cumsum(f) / sr
        tone = sum(np.sin(h * phase) / h ** 1.2 for h in range(1, 12))
        env = np.minimum(1, t / 0.02) * np.minimum(1, (t[-1] - t) / 0.02)
        out[a:b] += 0.3 * tone * env
    return out.astype(np.float32)


LINE = [(0.5, 0.95, 60), (1.0, 1.45, 62), (1.5, 1.95, 64), (2.0, 2.95, 65), (3.2, 3.65, 67), (3.7, 4.6, 64)]


@pytest.mark.parametrize("tracker", TRACKERS)
def test_transcribes_a_sung_line_note_for_note(tracker):
    notes = transcribe(sung(LINE, 5.0), SR, tracker=tracker)
    assert [n.pitch for n in notes] == [p for *_, p in LINE]
    for got, (onset, offset, _p) in zip(notes, LINE, strict=True):
        assert abs(got.onset_s - onset) <= 0.05
        assert abs(got.offset_s - offset) <= 0.1
        assert 0.0 < got.confidence <= 1.0


@pytest.mark.parametrize("tracker", TRACKERS)
def test_silence_and_noise_give_no_notes(tracker):
    rng = np.random.default_rng(0)
    assert transcribe(np.zeros(SR * 2, np.float32), SR, tracker=tracker) == []
    assert transcribe((0.001 * rng.standard_normal(SR * 2)).astype(np.float32), SR, tracker=tracker) == []


def test_stereo_input_and_any_rate():
    x = sung(LINE[:3], 2.5, sr=44100)
    notes = transcribe(np.stack([x, x]), 44100, tracker="yin")
    assert [n.pitch for n in notes] == [60, 62, 64]


def test_unknown_tracker_is_refused():
    with pytest.raises(ValueError, match="unknown tracker"):
        transcribe(np.zeros(SR, np.float32), SR, tracker="crepe")


def test_viterbi_keeps_a_wobbling_note_whole_and_follows_real_changes():
    frames = 60
    sal = np.full((frames, 3), 0.05)
    sal[:30, 0] = 0.9
    sal[10:12, 0], sal[10:12, 1] = 0.4, 0.6  # a two-frame slip to the neighbour (vibrato)
    sal[30:, 2] = 0.9
    path = viterbi_path(sal, sal.max(axis=1), enter=2.0, change=3.0)
    assert segments(path) == [(0, 30, 1), (30, 60, 3)]


def test_viterbi_silence_between_notes():
    sal = np.zeros((40, 2))
    sal[:15, 0] = 0.95
    sal[25:, 1] = 0.95
    assert segments(viterbi_path(sal, sal.max(axis=1), enter=2.0, change=3.0)) == [(0, 15, 1), (25, 40, 2)]


def test_grid_snaps_to_sixteenths_of_the_real_beats_and_starts_bars_on_downbeats():
    beats = [0.5 + 0.5 * k for k in range(16)]  # 120 bpm from 0.5 s
    grid = make_grid(beats, [1.0, 3.0], "4/4")
    assert grid.first_bar_beat == 1 and grid.steps_per_bar == 16
    placed = to_grid([Note(1.01, 1.49, 60), Note(1.5, 1.63, 62), Note(0.74, 0.99, 59)], grid)
    assert placed == [GridNote(-2, 2, 59), GridNote(0, 4, 60), GridNote(4, 1, 62)]
    assert grid.time_of_step(0) == pytest.approx(1.0) and grid.time_of_step(-2) == pytest.approx(0.75)


def test_grid_without_beats_uses_the_tempo_and_x8_meters_count_dotted_quarters():
    grid = make_grid(None, None, "6/8", bpm=60.0, duration_s=10.0)
    assert grid.steps_per_bar == 12 and grid.time_of_step(6) == pytest.approx(1.0)
    assert make_grid([], None, "7/4").time_signature == "4/4"  # unknown meters fall back


def test_overlapping_and_simultaneous_notes_are_resolved():
    grid = make_grid([0.0, 1.0, 2.0, 3.0], None, "4/4")
    placed = to_grid([Note(0.0, 1.0, 60, 0.9), Note(0.5, 1.0, 62, 0.8), Note(0.51, 0.9, 64, 0.2)], grid)
    assert placed == [GridNote(0, 2, 60), GridNote(2, 2, 62)]


def test_key_snap_moves_only_out_of_tune_out_of_key_notes():
    notes = [Note(0, 1, 61, cents=-40), Note(1, 2, 61, cents=10), Note(2, 3, 66, cents=35), Note(3, 4, 64, cents=45)]
    assert [n.pitch for n in snap_to_key(notes, 0, "major")] == [60, 61, 67, 64]
    assert [n.pitch for n in snap_to_key([Note(0, 1, 64, cents=-30)], 9, "minor")] == [64]


def _triads(chords: list[tuple[int, ...]], bar_s: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(bar_s * sr)) / sr
    bars = [sum(np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * t) for m in chord) * np.exp(-t) for chord in chords]
    return np.concatenate(bars).astype(np.float32) * 0.2


def test_chords_per_bar_from_the_instrumental():
    x = _triads([(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)], 2.0)
    grid = make_grid([0.5 * k for k in range(17)], [0.0], "4/4")
    chords = chords_per_bar(x, SR, grid, tonic_pc=0, mode="major", bars=range(0, 4))
    assert [c.symbol for c in chords] == ["C", "Am", "F", "G"]
    assert [c.bar for c in chords] == [0, 1, 2, 3]
    silent = chords_per_bar(np.concatenate([x[: SR * 2], np.zeros(SR * 2, np.float32)]), SR, grid, bars=range(0, 2))
    assert [c.symbol for c in silent] == ["C"]  # no symbol for a silent bar


def _midi_events(data: bytes) -> list[tuple[int, bytes]]:
    assert data[:4] == b"MThd" and struct.unpack(">IHHH", data[4:14]) == (6, 0, 1, 480)
    assert data[14:18] == b"MTrk"
    (length,) = struct.unpack(">I", data[18:22])
    body, i, now, out = data[22:22 + length], 0, 0, []
    while i < len(body):
        delta = 0
        while True:
            byte = body[i]
            i += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        now += delta
        if body[i] == 0xFF:
            size = body[i + 2]
            out.append((now, body[i:i + 3 + size]))
            i += 3 + size
        else:
            out.append((now, body[i:i + 3]))
            i += 3
    return out


def test_midi_file_has_tempo_meter_key_and_the_notes_in_ticks():
    notes = [GridNote(0, 4, 60), GridNote(4, 2, 64), GridNote(8, 8, 67)]
    events = _midi_events(midi_bytes(notes, steps_per_quarter=4, bpm=100.0, time_signature="3/4", key_fifths=-3,
                                     minor=True))
    metas = {e[1][1]: e[1] for e in events if e[1][0] == 0xFF}
    assert int.from_bytes(metas[0x51][3:6], "big") == 600_000
    assert metas[0x58][3:5] == bytes([3, 2])
    assert struct.unpack(">bB", metas[0x59][3:5]) == (-3, 1)
    ons = [(t, e[1]) for t, e in events if e[0] == 0x90]
    offs = [(t, e[1]) for t, e in events if e[0] == 0x80]
    assert ons == [(0, 60), (480, 64), (960, 67)] and offs == [(480, 60), (720, 64), (1920, 67)]
    assert events[-1][1] == b"\xff\x2f\x00"


def test_key_signatures_and_spelling():
    assert [key_fifths(pc, "major") for pc in (0, 7, 5, 10, 6)] == [0, 1, -1, -2, 6]
    assert key_fifths(9, "minor") == 0 and key_fifths(2, "minor") == -1 and key_fifths(4, "minor") == 1
    assert spell(61, 2) == ("C", 1, 4) and spell(61, -4) == ("D", -1, 4) and spell(60, 0) == ("C", 0, 4)


def _measures(xml: bytes) -> list[ET.Element]:
    root = ET.fromstring(xml.split(b"\n", 2)[2])  # after the declaration and doctype
    return root.findall("./part/measure")


def test_musicxml_bars_ties_rests_and_chord_symbols():
    from melody_audio.melody.harmony import Chord

    notes = [GridNote(-2, 2, 59), GridNote(0, 4, 60), GridNote(12, 6, 62), GridNote(20, 5, 63)]
    xml = musicxml_bytes(notes, [Chord(0, 0, "major"), Chord(1, 9, "minor")], steps_per_bar=16, time_signature="4/4",
                         tonic_pc=0, mode="major", bpm=90.0, first_bar=-1, last_bar=1)
    measures = _measures(xml)
    assert len(measures) == 3
    for m in measures:  # every bar is full
        assert sum(int(d.text) for d in m.findall("./note/duration")) == 16
    first = measures[0]
    assert first.find("./attributes/key/fifths").text == "0" and first.find("./attributes/time/beats").text == "4"
    assert [h.find("root/root-step").text + h.find("kind").text for h in measures[1].findall("harmony")] == ["Cmajor"]
    assert measures[2].find("harmony/kind").text == "minor"
    # D (6 steps) crosses into bar 3 tied: 4 steps in bar 2, 2 in bar 3; D# (5 steps) is a quarter tied to a 16th
    tied = [n for m in measures[1:] for n in m.findall("note") if n.find("tie") is not None]
    assert [(n.find("pitch/step").text + "#" * len(n.findall("pitch/alter")), n.find("duration").text)
            for n in tied] == [("D", "4"), ("D", "2"), ("D#", "4"), ("D#", "1")]
    # E flat spelled with a sharp in C (sharps by default): D#
    last = [n for n in measures[2].findall("note") if n.find("pitch") is not None][-1]
    assert (last.find("pitch/step").text, last.find("pitch/alter").text) == ("D", "1")


@pytest.mark.parametrize("tracker", TRACKERS)
def test_lead_sheet_of_a_generated_song_is_in_its_key(tracker):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    import io
    import wave

    from tests.support.songs import song_wav

    with wave.open(io.BytesIO(song_wav(8.0, bpm=120.0)), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2).T.astype(np.float32) / 32768
    analysis = {"tempo": {"bpm": 120.0, "beats": [0.5 * k for k in range(16)], "downbeats": [0.0, 2.0, 4.0, 6.0],
                          "time_signature": "4/4"}, "key": {"tonic": "C", "mode": "major"}}
    # the full mix (chords, bass, kick under the lead), not a vocal stem
    sheet = lead_sheet(pcm, 44100, analysis, instrumental=pcm, tracker=tracker)
    summary = sheet.summary()
    assert summary["key"] == {"tonic": "C", "mode": "major"} and summary["time_signature"] == "4/4"
    assert summary["in_key_ratio"] == 1.0
    # C Am F G, but the mix stands in for the instrumental here: bar 2's lead (G F E D) outweighs A
    chords = summary["chords"][:4]
    assert (chords[0], chords[2], chords[3]) == ("C", "F", "G") and chords[1] in ("Am", "C")
    if tracker == "nmp":  # the note model hears the lead through the accompaniment, note for note
        assert [n.pitch for n in sheet.grid_notes] == [72, 74, 76, 77, 79, 77, 76, 74] * 2
        assert [n.start for n in sheet.grid_notes] == [4 * k for k in range(16)]
    else:  # YIN follows the lead only where it dominates the chords (it is meant for a vocal stem)
        assert summary["notes_count"] >= 6
    assert sheet.midi.startswith(b"MThd") and b"<score-partwise" in sheet.musicxml
    assert sheet.extra["first_bar_s"] == pytest.approx(0.0, abs=0.01)


@pytest.mark.skipif(importlib.util.find_spec("music21") is None, reason="music21 not installed")
def test_music21_reads_both_files_with_the_same_notes():
    import music21

    analysis = {"tempo": {"beats": [0.5 * k for k in range(12)], "downbeats": [0.5], "time_signature": "3/4"},
                "key": {"tonic": "D", "mode": "major"}}
    sheet = lead_sheet(sung([(0.5, 0.95, 62), (1.0, 1.95, 66), (2.0, 2.45, 69), (2.5, 3.5, 73)], 5.0), SR, analysis,
                       tracker="yin")
    score = music21.converter.parseData(sheet.musicxml.decode(), format="musicxml")
    assert score.flatten().getElementsByClass("KeySignature")[0].sharps == 2
    pitches = [n.pitch.midi for n in score.stripTies().flatten().notes]
    assert pitches == [62, 66, 69, 73]
    midi = music21.converter.parseData(sheet.midi, format="midi")
    assert [n.pitch.midi for n in midi.flatten().notes] == pitches


def test_the_vendored_model_is_the_basic_pitch_file_with_its_licence():
    import hashlib

    from melody_audio.melody import nmp

    assert hashlib.sha256(nmp.MODEL_PATH.read_bytes()).hexdigest() == nmp.MODEL_SHA256
    folder = nmp.MODEL_PATH.parent
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "Spotify AB" in (folder / "NOTICE").read_text()
