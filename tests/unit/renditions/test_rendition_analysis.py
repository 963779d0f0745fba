from __future__ import annotations

import pytest

from melody.renditions.analysis import shift_analysis
from melody_audio.analysis import key as notation
from tests.unit.renditions.fakes import ANALYSIS


def test_key_moves_by_the_semitones_with_camelot_and_open_key_recomputed():
    out = shift_analysis(ANALYSIS, semitones=-2, tempo=1.0, notation=notation)
    assert (out["key"]["tonic"], out["key"]["mode"]) == ("G", "minor")
    assert out["key"]["camelot"] == notation.camelot("G", "minor") == "6A"
    assert out["key"]["open_key"] == notation.open_key("G", "minor") == "11m"
    assert out["key"]["confidence"] == 0.7 and out["key"]["tuning_hz"] == 440.0
    assert out["key"]["runner_up"]["tonic"] == "Bb" and out["key"]["runner_up"]["camelot"] == "6B"


@pytest.mark.parametrize("semitones", range(-6, 7))
def test_a_shift_round_the_circle_lands_on_the_right_pitch_class(semitones):
    out = shift_analysis(ANALYSIS, semitones=semitones, tempo=1.0, notation=notation)
    assert (notation.pitch_class(out["key"]["tonic"]) - notation.pitch_class("A")) % 12 == semitones % 12


def test_tempo_scales_bpm_beats_downbeats_and_duration():
    out = shift_analysis(ANALYSIS, semitones=0, tempo=0.8, notation=notation)
    assert out["tempo"]["bpm"] == 80.0
    assert out["tempo"]["beats"] == [0.75, 1.5, 2.25, 3.0]
    assert out["tempo"]["downbeats"] == [0.75, 3.0]
    assert out["tempo"]["time_signature"] == "4/4"
    assert out["duration_s"] == 150.0
    assert out["key"]["tonic"] == "A"
    # What describes the original only is not carried over as if it were measured.
    assert "loudness" not in out and "energy" not in out


def test_an_analysis_without_a_key_or_tempo_is_passed_through():
    out = shift_analysis({"duration_s": 10.0, "key": {"tonic": None}}, semitones=3, tempo=1.25, notation=notation)
    assert out["key"] == {"tonic": None}
    assert "tempo" not in out and out["duration_s"] == 8.0
