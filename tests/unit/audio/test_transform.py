"""Key and tempo changes (melody_audio.transform): pitch, length, stereo, transients, chunking."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from melody_audio.transform import pitch_ratio, render, resample_chunked, time_stretch, vocoder

SR = 44100


def tone(hz: float, seconds: float = 4.0, amp: float = 0.4) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def peak_hz(y: np.ndarray) -> float:
    m = np.atleast_2d(y).mean(axis=0)
    seg = m[m.size // 4 : 3 * m.size // 4]
    size = 1 << 20
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(seg.size), size)) + 1e-12
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1 : k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * SR / size


@pytest.mark.parametrize("semitones", [-12, -6, -5, -1, 1, 2, 6, 7, 12])
def test_the_rational_pitch_ratio_is_within_a_tenth_of_a_cent(semitones):
    ratio = pitch_ratio(semitones)
    assert ratio.denominator <= 512
    # (-5 and +7 are the cases a small denominator gets wrong: 3/4 and 3/2 are 2 cents off.)
    assert abs(1200 * np.log2(float(ratio)) - 100 * semitones) < 0.05


@pytest.mark.parametrize(("semitones", "tempo"), [(-6, 1.0), (-2, 0.9), (1, 1.25), (4, 0.75), (6, 1.1), (0, 0.8), (-3, 1.0)])
def test_a_tone_lands_within_five_cents_of_the_target_and_its_length_on_n_over_tempo(semitones, tempo):
    x = tone(440.0)
    y = render(x, SR, semitones=semitones, tempo=tempo)
    assert y.shape[0] == 1 and y.dtype == np.float32
    assert abs(y.shape[1] / (x.size / tempo) - 1) < 0.005
    cents = 1200 * np.log2(peak_hz(y) / (440.0 * 2 ** (semitones / 12)))
    assert abs(cents) < 5
    # Steady in level: a stable sinusoid stays one (no phasiness beating), after the edges.
    body = y[0, SR // 2 : -SR // 2]
    frames = body[: body.size // 2048 * 2048].reshape(-1, 2048)
    rms = np.sqrt((frames**2).mean(axis=1))
    assert rms.std() / rms.mean() < 0.03


def test_tempo_alone_keeps_the_pitch_and_pitch_alone_keeps_the_length():
    x = tone(300.0)
    slow = render(x, SR, semitones=0, tempo=0.75)
    assert abs(1200 * np.log2(peak_hz(slow) / 300.0)) < 2
    assert abs(slow.shape[1] - round(x.size / 0.75)) <= 2
    up = render(x, SR, semitones=5, tempo=1.0)
    assert abs(up.shape[1] - x.size) <= 2


def test_stereo_keeps_each_channels_level_and_polarity():
    x = tone(500.0)
    stereo = np.stack([x, -0.5 * x])  # right: half as loud, inverted
    y = render(stereo, SR, semitones=-2, tempo=0.9)
    left, right = y[:, SR // 2 : -SR // 2]
    assert abs(np.sqrt(np.mean(right**2)) / np.sqrt(np.mean(left**2)) - 0.5) < 0.02
    assert np.corrcoef(left, right)[0, 1] < -0.99


def _click_train(seconds: float = 4.0, every: float = 0.5) -> tuple[np.ndarray, list[float]]:
    rng = np.random.default_rng(1)
    x = np.zeros(int(SR * seconds), dtype=np.float32)
    onsets = list(np.arange(0.25, seconds - 0.3, every))
    decay = np.exp(-np.arange(int(0.04 * SR)) / (0.006 * SR))
    for t in onsets:
        i = int(t * SR)
        x[i : i + decay.size] += (0.8 * rng.standard_normal(decay.size) * decay).astype(np.float32)
    return x, onsets


@pytest.mark.parametrize("tempo", [0.75, 1.25])
def test_drum_hits_stay_sharp_and_on_their_new_time(tempo):
    x, onsets = _click_train()
    y = render(x, SR, semitones=0, tempo=tempo)[0]
    env = np.sqrt(np.convolve(y.astype(np.float64) ** 2, np.ones(44) / 44, mode="same"))  # 1 ms RMS
    for t in onsets[1:-1]:
        at = int(t / tempo * SR)
        window = env[at - int(0.03 * SR) : at + int(0.03 * SR)]
        peak_at = at - int(0.03 * SR) + int(np.argmax(window))
        assert abs(peak_at - at) < 0.006 * SR  # the hit is where the tempo puts it (±6 ms)
        before = env[peak_at - int(0.030 * SR) : peak_at - int(0.010 * SR)]
        assert 20 * np.log10(before.max() / env[peak_at]) < -12  # little pre-echo 10-30 ms before it


def test_blocks_join_seamlessly_whatever_the_block_size(monkeypatch):
    rng = np.random.default_rng(2)
    x = (0.2 * rng.standard_normal((2, SR * 2))).astype(np.float32)
    whole = time_stretch(x, 1.3, SR)
    monkeypatch.setattr(vocoder, "BLOCK", 7)
    small = time_stretch(x, 1.3, SR)
    np.testing.assert_allclose(small, whole, atol=2e-5)


def test_chunked_resampling_equals_one_pass():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 100_003)).astype(np.float32)
    ours = resample_chunked(x, 84, 89, chunk=10_000)
    reference = resample_poly(x, 84, 89, axis=1)
    assert ours.shape == (2, -(-100_003 * 84 // 89))
    np.testing.assert_allclose(ours, reference[:, : ours.shape[1]], atol=1e-5)


def test_edge_cases_silence_short_and_mono_input():
    silent = render(np.zeros((2, SR), dtype=np.float32), SR, semitones=3, tempo=0.8)
    assert silent.shape[0] == 2 and not np.any(silent)
    short = render(tone(440.0, seconds=0.01), SR, semitones=-1, tempo=1.2)
    assert short.shape[1] == pytest.approx(441 / 1.2, abs=2)
    assert render(tone(440.0, 0.5)[:], SR, semitones=1).ndim == 2
    loud = render(np.ones(SR, dtype=np.float32), SR, semitones=2, tempo=0.9)
    assert np.max(np.abs(loud)) <= 1.0
    with pytest.raises(ValueError):
        render(tone(440.0, 0.1), SR, semitones=13)
    with pytest.raises(ValueError):
        render(tone(440.0, 0.1), SR, tempo=3.0)
