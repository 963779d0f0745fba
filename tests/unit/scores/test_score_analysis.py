"""Each part of the score analysis on small scores built here (music21), one behaviour per test."""

from __future__ import annotations

import pytest

pytest.importorskip("music21")

from music21 import pitch  # noqa: E402

from melody_scores import analyse, analyse_score, load, render  # noqa: E402
from melody_scores.analysis import classify_cadence, rhythmic_density, top_voice  # noqa: E402

from .builders import C, melody, satb, write  # noqa: E402


def transpose(voicing: list[str], semitones: int) -> list[str]:
    return [pitch.Pitch(p).transpose(semitones).nameWithOctave for p in voicing]


CADENCE_PIECE = [C[n] for n in ("I", "IV", "V", "I", "vi", "ii", "V7", "I")]


def test_a_c_major_progression_gives_key_chords_and_an_authentic_cadence(tmp_path):
    path = write(satb(CADENCE_PIECE, bpm=60, title="Little cadence", composer="Test Composer"), tmp_path / "piece.musicxml")
    result = analyse(path)
    assert (result.key.tonic, result.key.mode) == ("C", "major")
    assert 0 < result.key.confidence <= 1
    assert len(result.key_alternatives) == 3 and all(a.name != "C major" for a in result.key_alternatives)
    assert [c.roman for c in result.chords] == ["I", "IV", "V", "I", "vi", "ii", "V7", "I"]
    assert [c.measure for c in result.chords] == [1, 1, 1, 1, 2, 2, 2, 2]
    assert result.cadences[-1].type == "authentic" and result.cadences[-1].progression == ["V7", "I"]
    assert result.measures == 2
    assert result.time_signatures == [{"measure": 1, "signature": "4/4"}]
    assert result.title == "Little cadence" and result.composer == "Test Composer"


def test_duration_follows_the_marked_tempo_and_says_when_none_is_marked(tmp_path):
    marked = analyse_score(satb(CADENCE_PIECE, bpm=60))
    assert marked.tempo_marks == [{"measure": 1, "quarter_bpm": 60.0, "text": None}]
    assert marked.duration_s == pytest.approx(8.0) and not marked.tempo_assumed
    unmarked = analyse_score(satb(CADENCE_PIECE))
    assert unmarked.tempo_assumed and unmarked.duration_s == pytest.approx(4.0)  # quarter = 120
    assert unmarked.duration_quarters == 8


def test_phrase_ends_marked_by_fermatas_give_half_plagal_and_deceptive_cadences():
    half = [C["I"], C["IV"], C["I"], C["V"]]
    plagal = [C["I"], C["V"], C["IV"], C["I"]]
    deceptive = [C["I"], C["IV"], C["V"], C["vi"]]
    final = [C["ii"], C["V7"], C["I"], C["I"]]
    score = satb(half + plagal + deceptive + final, fermatas={3, 7, 11})
    result = analyse_score(score)
    assert [(c.measure, c.type) for c in result.cadences] == [(1, "half"), (2, "plagal"), (3, "deceptive"), (4, "authentic")]


def test_classify_cadence_needs_a_dominant_before_the_tonic():
    from music21 import key, roman

    k = key.Key("C")
    rn = {f: roman.RomanNumeral(f, k) for f in ("I", "V", "V7", "IV", "vi", "ii", "viio6")}
    assert classify_cadence(rn["V7"], rn["I"]) == "authentic"
    assert classify_cadence(rn["viio6"], rn["I"]) == "authentic"
    assert classify_cadence(rn["IV"], rn["I"]) == "plagal"
    assert classify_cadence(rn["ii"], rn["V"]) == "half"
    assert classify_cadence(rn["V"], rn["vi"]) == "deceptive"
    assert classify_cadence(rn["ii"], rn["I"]) is None
    assert classify_cadence(rn["I"], rn["ii"]) is None


def test_a_modulation_shows_in_the_key_timeline():
    in_c = [C[n] for n in ("I", "IV", "V7", "I")] * 4
    in_e_flat = [transpose(C[n], 3) for n in ("I", "IV", "V7", "I")] * 4
    result = analyse_score(satb(in_c + in_e_flat))
    keys = [(seg.tonic, seg.mode) for seg in result.key_timeline]
    assert keys[0] == ("C", "major") and keys[-1] == ("E-", "major")
    assert result.key_timeline[0].start_measure == 1 and result.key_timeline[-1].end_measure == 8
    assert len(result.modulations) == 1 and result.modulations[0]["to"] == "E- major"
    assert 4 <= result.modulations[0]["measure"] <= 6
    # Chords are named in their local key: the E-flat tonic is "I" there, not "bIII".
    last = [c for c in result.chords if c.measure == 8]
    assert last[-1].roman == "I" and last[-1].key == "E- major"


def test_ambitus_per_part_and_instruments():
    result = analyse_score(satb(CADENCE_PIECE))
    by_name = {p.name: p for p in result.parts}
    assert set(by_name) == {"Soprano", "Alto", "Tenor", "Bass"}
    assert (by_name["Soprano"].lowest, by_name["Soprano"].highest, by_name["Soprano"].ambitus_semitones) == ("B4", "D5", 3)
    assert (by_name["Bass"].lowest, by_name["Bass"].highest) == ("C3", "A3")
    violin = analyse_score(melody(["G3", "E6"]))
    assert violin.parts[0].instrument == "Violin" and violin.parts[0].ambitus_semitones == 33


def test_top_voice_intervals_and_contour():
    score = melody(["C4", "D4", "E4", "C4", "C4", "G4"])
    voice = top_voice(score)
    assert voice["intervals"] == {"-4": 1, "0": 1, "2": 2, "7": 1}
    assert voice["contour"] == "UUDRU"
    assert (voice["steps"], voice["leaps"], voice["repeats"]) == (2, 2, 1)
    # In a score with several parts, the highest part is the top voice.
    assert top_voice(satb(CADENCE_PIECE))["part"] == 0


def test_rhythmic_density_per_measure():
    score = melody(["C4"] * 4 + ["D4"] * 8, quarter=1.0)
    # 4 quarters in measure 1; measure 2-3: quarters too; then make eighths explicitly
    eighths = melody(["C4"] * 4, quarter=1.0)
    density = rhythmic_density(score)
    assert [d["onsets"] for d in density] == [4, 4, 4]
    fast = melody(["C4", "D4"] * 4, quarter=0.5)
    assert rhythmic_density(fast)[0] == {"measure": 1, "notes": 8, "onsets": 8, "onsets_per_quarter": 2.0}
    assert rhythmic_density(eighths)[0]["onsets_per_quarter"] == 1.0


def test_a_minor_piece_is_minor():
    a_minor = {
        "i": ["A2", "E3", "C4", "A4"],
        "iv": ["D3", "F3", "D4", "A4"],
        "V": ["E3", "E3", "B3", "G#4"],
    }
    result = analyse_score(satb([a_minor[n] for n in ("i", "iv", "V", "i", "iv", "i", "V", "i")]))
    assert (result.key.tonic, result.key.mode) == ("A", "minor")
    assert result.chords[2].roman == "V"


def test_midi_and_abc_files_are_analysed(tmp_path):
    midi = analyse(write(satb(CADENCE_PIECE, bpm=90), tmp_path / "piece.mid"))
    assert midi.format == "midi" and (midi.key.tonic, midi.key.mode) == ("C", "major")
    assert midi.measures == 2 and midi.tempo_marks[0]["quarter_bpm"] == 90.0
    abc = tmp_path / "tune.abc"
    abc.write_text("X:1\nT:Scale Tune\nC:Anon\nM:3/4\nL:1/4\nQ:1/4=100\nK:G\nG A B | c d e | d B G | A F# G |]\n")
    result = analyse(abc)
    assert result.format == "abc" and result.title == "Scale Tune"
    assert (result.key.tonic, result.key.mode) == ("G", "major")
    assert result.measures == 4 and result.time_signatures[0]["signature"] == "3/4"


def test_render_writes_musicxml_and_midi_that_read_back(tmp_path):
    score = load(write(satb(CADENCE_PIECE), tmp_path / "in.musicxml"))
    paths = render(score, tmp_path / "out")
    assert paths["musicxml"].read_bytes().lstrip().startswith(b"<?xml")
    assert paths["midi"].read_bytes().startswith(b"MThd")
    assert analyse(paths["midi"]).key.name == "C major"


def test_to_dict_is_json():
    import json

    data = analyse_score(satb(CADENCE_PIECE)).to_dict()
    assert json.loads(json.dumps(data))["key"]["name"] == "C major"
    assert {"parts", "measures", "key_timeline", "chords", "cadences", "top_voice", "rhythmic_density", "duration_s"} <= set(data)
