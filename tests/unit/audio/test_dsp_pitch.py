"""The dsp engine's predominant-pitch tracker and the MIR-1K-fitted defaults (issue 10)."""

import numpy as np

from melody_audio._dsp import stft
from melody_audio.separate import dsp
from melody_audio.separate.pitch import PitchParams, track_f0

SR = 16000
N_FFT, HOP = 2048, 512


def _vibrato_voice_over_chords(seconds=4.0):
    """A harmonic 'voice' (notes with 6 Hz, 40-cent vibrato) over louder-than-usual sustained chords."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    notes = 196.0 * 2 ** (np.array([0, 4, 7, 5, 2, 0, 9, 7]) / 12)
    f0 = np.repeat(notes, int(np.ceil(n / len(notes))))[:n]
    f0 = np.convolve(f0, np.ones(400) / 400, mode="same")  # 25 ms glides
    f0 = f0 * 2 ** (0.4 / 12 * np.sin(2 * np.pi * 6.0 * t))
    ph = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(h * ph) * 0.8 ** h for h in range(1, 16))
    roots = np.repeat([130.81, 174.61, 196.0, 130.81], n // 4 + 1)[:n]
    chords = sum(np.sin(2 * np.pi * np.cumsum(roots * r * h) / SR) / h ** 1.5
                 for r in (1, 1.26, 1.5) for h in range(1, 8))
    return (0.1 * voice).astype(np.float32), (0.06 * chords).astype(np.float32), f0


def _front_end(x):
    """The engine's own voice-emphasising spectrogram, built as in dsp._vocal_block."""
    from scipy.ndimage import maximum_filter1d, minimum_filter1d

    Mc = np.sqrt(np.abs(stft(x, N_FFT, HOP)))
    L = max(3, int(round(0.35 * SR / HOP)))
    R = np.maximum(Mc - maximum_filter1d(minimum_filter1d(Mc, L, axis=0), L, axis=0), 0.0)
    return np.maximum(R - maximum_filter1d(minimum_filter1d(R, 5, axis=1), 5, axis=1), 0.0)


def test_pitch_track_follows_a_vibrato_voice_over_chords_within_50_cents():
    voice, band, f0 = _vibrato_voice_over_chords()
    est = track_f0(_front_end(voice + band), SR / N_FFT, PitchParams(jump_cost=0.2))
    ref = f0[np.minimum(np.arange(est.size) * HOP, f0.size - 1)]
    inner = slice(4, est.size - 4)  # the padded edge frames carry half a window
    voiced = est[inner] > 0
    assert voiced.mean() > 0.9
    cents = 1200 * np.abs(np.log2(est[inner][voiced] / ref[inner][voiced]))
    assert np.mean(cents < 50) > 0.9


def test_defaults_separate_a_mono_16k_voice_better_than_the_previous_parameters():
    # issue 10: on mono mixtures (no stereo cue) the steady-accompaniment model weighted 1.0 ate the
    # voice's held notes and a cheap pitch jump let the track hop onto chord partials.
    voice, band, _ = _vibrato_voice_over_chords()
    mix = voice + band

    def sdr(params):
        v = dsp.DspEngine(**params).separate(dsp.Audio(mix, SR)).vocals[0]
        return 10 * np.log10(np.sum(voice ** 2) / np.sum((voice - v) ** 2))

    assert sdr({}) > sdr({"accomp_weight": 1.0, "jump_cost": 0.05}) + 0.5
