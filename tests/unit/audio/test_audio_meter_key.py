"""Meter, downbeats, tuning and relative-key tests on synthetic signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

import melody_audio as ma
from melody_audio.analysis import key as keymod
from melody_audio.analysis import tempo as tempomod
from melody_audio.audio import Audio

SR = 22050


def meter_song(bpm: float, per_bar: int, sub: int, seconds: float = 16.0, seed: int = 0) -> np.ndarray:
    """Kick on every beat (strong on the downbeat), hats on every subdivision (``sub`` per beat,
    accented on the beat), and a chord + bass note that changes every bar (I-IV-V-I)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    x = np.zeros(n)
    beat = 60.0 / bpm
    step = beat / sub
    tk = np.arange(int(0.25 * SR)) / SR
    kick = np.sin(2 * np.pi * (50 + 60 * np.exp(-tk * 30)) * tk) * np.exp(-tk * 12)
    hat = rng.standard_normal(int(0.03 * SR)) * np.exp(-np.arange(int(0.03 * SR)) / SR * 150)

    def add(sig, a, gain):
        m = max(0, min(sig.size, n - a))
        x[a:a + m] += gain * sig[:m]

    i, t = 0, 0.0
    while t < seconds - 0.3:
        a = int(t * SR)
        pos = i % (per_bar * sub)
        add(hat, a, 0.5 if pos % sub == 0 else 0.25)
        if pos == 0:
            r = (0, 5, 7, 0)[(i // (per_bar * sub)) % 4]
            tt = np.arange(min(int(per_bar * beat * SR), n - a)) / SR
            for m in (48 + r, 52 + r, 55 + r, 36 + r):
                x[a:a + tt.size] += 0.15 * np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * tt) * np.exp(-tt * 1.5)
            add(kick, a, 1.0)
        elif pos % sub == 0:
            add(kick, a, 0.35)
        i += 1
        t = i * step
    return (x / np.abs(x).max() * 0.5).astype(np.float32)


@pytest.mark.parametrize(("bpm", "per_bar", "sub", "signature"), [
    (100.0, 3, 2, "3/4"), (90.0, 3, 2, "3/4"),  # waltz: quarter-note beat, binary eighths
    (66.0, 2, 3, "6/8"), (60.0, 2, 3, "6/8"),   # compound duple: the dotted quarter is the beat
    (120.0, 4, 2, "4/4"),
])
def test_tempo_time_signature_and_downbeats(bpm, per_bar, sub, signature):
    t = ma.analyse(Audio(meter_song(bpm, per_bar, sub), SR)).tempo
    assert abs(t.bpm - bpm) / bpm < 0.02
    assert t.time_signature == signature
    bar = 60.0 / bpm * per_bar
    down = np.array(t.downbeats)
    assert len(down) >= 4
    assert np.allclose(np.diff(down), bar, atol=0.05)
    # downbeats fall on the bar starts (multiples of the bar length), within 70 ms
    phase = np.abs(((down + bar / 2) % bar) - bar / 2)
    assert np.all(phase < 0.07)
    assert 0.0 <= t.confidence <= 1.0


def _triads(chords, cents: float = 0.0, seconds: float = 12.0, seg: float = 2.0, sr: int = SR) -> np.ndarray:
    """Block triads with the root in the bass, ``seg`` s each, detuned by ``cents``."""
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.zeros(n)
    for i in range(int(seconds / seg)):
        root, minor = chords[i % len(chords)]
        a, b = int(i * seg * sr), int((i + 1) * seg * sr)
        tt = t[a:b] - t[a]
        env = np.exp(-tt * 1.2) * np.minimum(1, tt / 0.01)
        for m in (60 + root, 60 + root + (3 if minor else 4), 60 + root + 7, 36 + root):
            f = 440 * 2 ** ((m - 69 + cents / 100) / 12)
            for h in range(1, 5):
                out[a:b] += env * np.sin(2 * np.pi * f * h * tt) / h ** 1.5
    return (out / np.abs(out).max() * 0.6).astype(np.float32)


@pytest.mark.parametrize("cents", [-30.0, 30.0])
def test_tuning_offset_is_recovered_and_compensated(cents):
    # E major: I-IV-V-I played 30 cents flat/sharp must still read E major (not Eb / F)
    d = ma.analyse(Audio(_triads([(4, False), (9, False), (11, False), (4, False)], cents), SR)).to_dict()
    assert abs(d["key"]["tuning_cents"] - cents) < 5
    assert abs(d["key"]["tuning_hz"] - 440 * 2 ** (cents / 1200)) < 1.0
    assert (d["key"]["tonic"], d["key"]["mode"]) == ("E", "major")


@pytest.mark.parametrize(("chords", "expected"), [
    # relative pairs share every pitch class: C major (I-IV-V-I) vs A minor (i-iv-v-i in Aeolian)
    ([(0, False), (5, False), (7, False), (0, False)], ("C", "major")),
    ([(9, True), (2, True), (4, True), (9, True)], ("A", "minor")),
    # F major vs D minor
    ([(5, False), (10, False), (0, False), (5, False)], ("F", "major")),
    ([(2, True), (7, True), (9, True), (2, True)], ("D", "minor")),
])
def test_relative_major_and_minor_are_told_apart(chords, expected):
    k = ma.analyse(Audio(_triads(chords), SR)).key
    assert (k.tonic, k.mode) == expected
    assert 0.0 <= k.confidence <= 1.0
    assert k.runner_up is not None and (k.runner_up["tonic"], k.runner_up["mode"]) != expected


def test_confidences_are_probabilities_and_follow_the_evidence():
    clear = ma.analyse(Audio(meter_song(120.0, 4, 2), SR))
    noise = np.random.default_rng(1).standard_normal(SR * 10).astype(np.float32) * 0.1
    vague = ma.analyse(Audio(noise, SR))
    for a in (clear, vague):
        assert 0.0 <= a.tempo.confidence <= 1.0 and 0.0 <= a.key.confidence <= 1.0
    assert clear.tempo.confidence > vague.tempo.confidence


def test_fitted_models_match_their_feature_layouts():
    from melody_audio.analysis import _fitted

    assert len(_fitted.TEMPO_WEIGHTS) == len(tempomod.FEATURES)
    assert len(_fitted.KEY["weights"]) == len(keymod.KEY_TERMS)
    assert np.asarray(_fitted.KEY["profiles"]).shape == (2, 12) == np.asarray(_fitted.KEY["bass"]).shape


def test_analysis_dict_carries_meter_tuning_and_runner_up():
    d = ma.analyse(Audio(meter_song(100.0, 3, 2), SR)).to_dict()
    t, k = d["tempo"], d["key"]
    assert isinstance(t["beats"], list) and isinstance(t["downbeats"], list)
    assert set(t["downbeats"]) <= set(t["beats"])
    assert t["time_signature"] == "3/4" and t["beats_per_bar"] == 3
    assert isinstance(k["tuning_hz"], float) and isinstance(k["tuning_cents"], float)
    assert set(k["runner_up"]) == {"tonic", "mode", "camelot", "open_key", "probability"}
    import json

    json.dumps(d)


def _pulse_env(onsets: list[tuple[float, float]], bar_pulses: int, bpm: float = 120.0, seconds: float = 16.0):
    """An onset envelope with impulses at (pulse position, amplitude) in every bar of ``bar_pulses``."""
    period = 60.0 * tempomod.FPS / bpm
    n = int(tempomod.FPS * seconds)
    env = np.zeros(n)
    bar = bar_pulses * period
    k = 0
    while (k + 1) * bar < n:
        for pos, amp in onsets:
            env[int(round(k * bar + pos * period))] += amp
        k += 1
    return env + 0.01 * np.random.default_rng(0).random(n)


def test_compound_check_needs_a_compound_bar():
    # 4/4 with a 3+3+2 figure: the 1.5-pulse lag is strong, but the bar repeats every 4 pulses
    # (GTZAN pop-00005 / pop-00009 were read at 2/3 tempo before the bar guard)
    four = _pulse_env([(0, 1.0), (1.5, 0.8), (3.0, 0.6)], 4)
    assert tempomod._compound_check(four, 120.0) == 120.0
    # 6/8 counted in eighth-note pairs: dotted beats every 1.5 pulses, bar every 3
    six = _pulse_env([(0, 1.0), (1.5, 0.8)], 3)
    assert tempomod._compound_check(six, 120.0) == pytest.approx(80.0)


def test_beat_tracker_defaults_to_the_fitted_tightness():
    env = _pulse_env([(0, 1.0), (1, 1.0), (2, 1.0), (3, 1.0)], 4)
    a = tempomod.track_beats(env, 120.0)
    b = tempomod.track_beats(env, 120.0, tempomod.BEAT_TIGHTNESS)
    assert np.array_equal(a, b)
    assert np.allclose(np.diff(a) / tempomod.FPS, 0.5, atol=0.02)


def test_downbeats_follow_the_bass_line_not_a_one_drop_kick_or_the_backbeat():
    # 4/4 at 120 BPM: the kick lands on beat 3 (a reggae one-drop), the snare (mid band) on 2 and 4,
    # and the bass note and the chord change on beat 1 of every bar. The earlier hand-set accents
    # (bass onset 1.0, chord change 1.0) put the downbeat on the kick; the fitted ones on the change.
    fps, period, n_beats = tempomod.FPS, 60.0 * tempomod.FPS / 120.0, 32
    beats = np.round(np.arange(n_beats) * period).astype(int) + 10
    n = int(beats[-1] + period) + 10
    low, mid, env = (np.full(n, 0.01) for _ in range(3))
    for i, b in enumerate(beats):
        low[b] += 2.0 if i % 4 == 2 else 0.2
        mid[b] += 1.0 if i % 2 == 1 else 0.1
        env[b] += 1.0
    chroma_fps = 10.0
    frames = int(n / fps * chroma_fps) + 1
    roots = [0, 5, 7, 9]
    chroma = np.full((frames, 12), 0.05)
    bass = np.full((frames, 12), 0.05)
    for f in range(frames):
        bar = int(f / chroma_fps * fps // (4 * period))
        r = roots[bar % 4]
        chroma[f, [r, (r + 4) % 12, (r + 7) % 12]] += 1.0
        bass[f, r] += 1.0
    sig, per_bar, down = tempomod.meter(env, low, beats, 120.0, chroma, chroma_fps, mid_env=mid, bass_chroma=bass)
    assert (sig, per_bar) == ("4/4", 4)
    bar_starts = set(beats[0::4].tolist())
    assert set(down.tolist()) <= bar_starts and len(down) >= 6
