import numpy as np
import pytest

import melody_audio as ma
from melody_audio.analysis import key as keymod
from melody_audio.analysis import loudness as loudmod
from melody_audio.audio import Audio

SR = 44100

# (tonic, mode) -> (Camelot, Open Key), from the published wheels
WHEEL = {
    ("C", "major"): ("8B", "1d"), ("G", "major"): ("9B", "2d"), ("D", "major"): ("10B", "3d"),
    ("A", "major"): ("11B", "4d"), ("E", "major"): ("12B", "5d"), ("B", "major"): ("1B", "6d"),
    ("F#", "major"): ("2B", "7d"), ("C#", "major"): ("3B", "8d"), ("Ab", "major"): ("4B", "9d"),
    ("Eb", "major"): ("5B", "10d"), ("Bb", "major"): ("6B", "11d"), ("F", "major"): ("7B", "12d"),
    ("A", "minor"): ("8A", "1m"), ("E", "minor"): ("9A", "2m"), ("B", "minor"): ("10A", "3m"),
    ("F#", "minor"): ("11A", "4m"), ("C#", "minor"): ("12A", "5m"), ("Ab", "minor"): ("1A", "6m"),
    ("Eb", "minor"): ("2A", "7m"), ("Bb", "minor"): ("3A", "8m"), ("F", "minor"): ("4A", "9m"),
    ("C", "minor"): ("5A", "10m"), ("G", "minor"): ("6A", "11m"), ("D", "minor"): ("7A", "12m"),
}


@pytest.mark.parametrize("tonic,mode", sorted(WHEEL))
def test_camelot_and_open_key_for_all_24_keys(tonic, mode):
    assert (keymod.camelot(tonic, mode), keymod.open_key(tonic, mode)) == WHEEL[(tonic, mode)]


def test_enharmonic_names_map_to_the_same_code():
    assert keymod.camelot("Db", "major") == keymod.camelot("C#", "major") == "3B"
    assert keymod.open_key("G#", "minor") == "6m"


@pytest.mark.parametrize("bpm", [90.0, 120.0, 140.0])
def test_tempo_and_beats_of_a_click_track(synth, bpm):
    a = ma.analyse(Audio(synth.click_track(bpm, seconds=10.0), SR))
    assert abs(a.tempo.bpm - bpm) / bpm < 0.02
    beats = np.array(a.tempo.beats)
    assert len(beats) >= 10
    assert abs(np.median(np.diff(beats)) - 60.0 / bpm) < 0.02
    # beats fall on the clicks (within 50 ms)
    period = 60.0 / bpm
    phase = np.abs(((beats + period / 2) % period) - period / 2)
    assert np.median(phase) < 0.05
    assert 0.0 <= a.tempo.confidence <= 1.0


@pytest.mark.parametrize("tonic,mode", [("G", "major"), ("D", "major"), ("E", "minor"), ("F", "minor")])
def test_key_of_a_chord_progression(synth, tonic, mode):
    x = synth.chord_progression(keymod.pitch_class(tonic), mode, seconds=6.0)
    k = ma.analyse(Audio(x, SR)).key
    assert (k.tonic, k.mode) == (tonic, mode)
    assert k.camelot == keymod.camelot(tonic, mode) and 0.0 <= k.confidence <= 1.0


def _loop(chords, seconds=16.0, seg=2.0):
    """Block triads (C4 octave) with the root in the bass (C2 octave), ``seg`` seconds each."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    out = np.zeros(n)
    for i in range(int(seconds / seg)):
        root, minor = chords[i % len(chords)]
        a, b = int(i * seg * SR), int((i + 1) * seg * SR)
        tt = t[a:b] - t[a]
        env = np.exp(-tt * 1.2) * np.minimum(1, tt / 0.01)
        for m in (60 + root, 60 + root + (3 if minor else 4), 60 + root + 7, 36 + root):
            f = 440 * 2 ** ((m - 69) / 12)
            for h in range(1, 5):
                out[a:b] += env * np.sin(2 * np.pi * f * h * tt) / h ** 1.5
    out = out / np.abs(out).max() * 0.6
    return np.stack([out, out]).astype(np.float32)


def test_key_of_an_aeolian_loop_is_the_minor_key_not_its_relative_major():
    # i-VII-VI-VII in E minor (Em D C D), one chord per 2 s bar: the scale is G major's and D is
    # the most frequent chord, but the loop opens on (and keeps returning to) Em
    k = ma.analyse(Audio(_loop([(4, True), (2, False), (0, False), (2, False)]), SR)).key
    assert (k.tonic, k.mode, k.camelot) == ("E", "minor", "9A")


def test_key_scores_cover_24_keys_and_silence_is_neutral():
    x = _loop([(7, False), (0, False), (2, False), (7, False)]).mean(axis=0)
    from melody_audio._dsp import resample
    k = keymod.key(resample(x, SR, keymod.SR), keymod.SR)
    assert k.scores.shape == (24,) and (k.tonic, k.mode) == ("G", "major") and 0.0 <= k.confidence <= 1.0
    silent = keymod.key(np.zeros(keymod.SR * 3, dtype=np.float32), keymod.SR)
    assert (silent.tonic, silent.mode, silent.confidence) == ("C", "major", 0.0)


def test_loudness_of_a_stereo_sine_matches_bs1770(synth):
    # a 1 kHz sine of peak A in both channels reads 20*log10(A) LUFS (K-weighting ~0 dB at 1 kHz)
    x = synth.tone(997.0, seconds=5.0, amp=0.1)
    lo = loudmod.loudness(x, SR)
    assert abs(lo.integrated_lufs - (-20.0)) < 0.15
    assert lo.range_lu is not None and lo.range_lu < 0.5
    assert abs(lo.true_peak_dbtp - (-20.0)) < 0.1


def test_integrated_loudness_agrees_with_pyloudnorm():
    import pyloudnorm

    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, SR * 4)) * 0.05).astype(np.float32)
    ref = pyloudnorm.Meter(SR).integrated_loudness(x.T.astype(np.float64))
    assert abs(loudmod.loudness(x, SR).integrated_lufs - ref) < 0.1


def test_true_peak_finds_inter_sample_peaks():
    # fs/4 sine at 45 degrees: samples reach only 0.707 of the true amplitude (-3 dB)
    n = np.arange(SR)
    x = (0.5 * np.sin(2 * np.pi * (SR / 4) * n / SR + np.pi / 4)).astype(np.float32)[None]
    sample_peak_db = 20 * np.log10(np.abs(x).max())
    tp = loudmod.true_peak(x, SR)
    assert tp > sample_peak_db + 2.5
    assert abs(tp - 20 * np.log10(0.5)) < 0.3


def test_loudness_range_of_two_levels():
    rng = np.random.default_rng(4)
    loud = rng.standard_normal(SR * 8) * 0.1
    quiet = rng.standard_normal(SR * 8) * 0.1 * 10 ** (-10 / 20)
    x = np.stack([np.concatenate([loud, quiet])] * 2).astype(np.float32)
    lra = loudmod.loudness(x, SR).range_lu
    assert 8.5 < lra < 11.0


def test_energy_orders_loud_busy_over_quiet_sparse(synth):
    busy = ma.analyse(Audio(synth.click_track(150, seconds=4.0) * 1.6 + synth.tone(220, 4.0, amp=0.2), SR)).energy
    calm = ma.analyse(Audio(synth.tone(220, 4.0, amp=0.02), SR)).energy
    assert 0.0 <= calm < busy <= 1.0


def test_analysis_dict_shape(synth):
    d = ma.analyse(Audio(synth.click_track(120, seconds=5.0), SR), engine={"name": "dsp", "version": "1"}).to_dict()
    assert set(d) == {"duration_s", "sample_rate", "channels", "tempo", "key", "loudness", "energy", "engine"}
    assert set(d["tempo"]) == {"bpm", "confidence", "beats", "downbeats", "time_signature", "beats_per_bar"}
    assert set(d["key"]) == {"tonic", "mode", "confidence", "camelot", "open_key", "tuning_hz", "tuning_cents",
                             "runner_up"}
    assert set(d["loudness"]) == {"integrated_lufs", "range_lu", "true_peak_dbtp"}
    assert d["engine"] == {"name": "dsp", "version": "1"}
    assert d["channels"] == 2 and d["sample_rate"] == SR and abs(d["duration_s"] - 5.0) < 1e-6
    import json

    json.dumps(d)  # plain JSON types only
