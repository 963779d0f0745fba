"""Synthetic songs with exact ground truth for the audio-engine benchmark.

Each track is built from separately rendered stems, so the separation reference, the tempo
and the key are known by construction:

* drums: kick (pitch-swept sine), snare (tone + band-passed noise), closed hi-hat (high-passed
  noise) on 8ths, a few pattern variants, slight stereo spread;
* bass: root/fifth lines in octave 1–2 (a few harmonics), centred;
* chords: a pad (detuned saw-like partials, slow attack) and a plucked arpeggio (decaying
  partials), panned apart, one chord per bar from common progressions in the key;
* voice: a sung-like line on the key's scale — harmonic source with spectral tilt, three vowel
  formants changing per note, vibrato (5–6.5 Hz, 20–60 cents, delayed onset), glides between
  notes, jitter, short noisy consonant onsets, phrases with rests; random pan (±0.35) and level
  (vocal-to-accompaniment ratio -4…+2 dB).

Tempo 70–160 BPM, all 24 keys, seeded (``make_track(seed)`` is deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import butter, sosfilt

SR = 44100
MAJOR_STEPS = [0, 2, 4, 5, 7, 9, 11]
MINOR_STEPS = [0, 2, 3, 5, 7, 8, 10]
# progressions as scale-degree roots (0-based), chord quality from the scale
MAJOR_PROGS = [[0, 4, 5, 3], [0, 3, 4, 0], [5, 3, 0, 4], [0, 5, 3, 4], [0, 3, 0, 4]]
MINOR_PROGS = [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 5, 3, 4], [0, 3, 6, 0]]
VOWELS = {  # F1, F2, F3 (Hz)
    "a": (800, 1200, 2600), "e": (450, 2000, 2700), "i": (300, 2300, 3000),
    "o": (500, 900, 2500), "u": (330, 800, 2300),
}


@dataclass
class Track:
    mix: np.ndarray
    vocals: np.ndarray
    instrumental: np.ndarray
    sr: int
    bpm: float
    tonic: int
    mode: str
    seed: int
    # the sung notes as written: (onset_s, offset_s, midi), in order (benchmarks/melody.py)
    vocal_notes: list = field(default_factory=list)
    # the chord of each bar: (start_s, end_s, root pitch class, "major" | "minor") (benchmarks/melody.py)
    chords: list = field(default_factory=list)


def _pan(x, p):
    # constant-power pan, p in [-1, 1]
    a = (p + 1) * np.pi / 4
    return np.stack([np.cos(a) * x, np.sin(a) * x])


def _midi_hz(m):
    return 440.0 * 2 ** ((np.asarray(m, dtype=float) - 69) / 12)


def _chord_pcs(tonic, steps, degree):
    return [(tonic + steps[(degree + k) % 7] + 12 * ((degree + k) // 7)) for k in (0, 2, 4)]


def _partials(f, dur, sr, n_harm, decay, rng, attack=0.005, detune=0.0, tilt=1.0):
    n = int(dur * sr)
    t = np.arange(n) / sr
    out = np.zeros(n)
    for h in range(1, n_harm + 1):
        fh = f * h * (1 + detune * rng.uniform(-1, 1))
        if fh > sr / 2 - 1000:
            break
        out += np.sin(2 * np.pi * fh * t + rng.uniform(0, 2 * np.pi)) / h ** tilt * np.exp(-t * decay * (1 + 0.3 * h))
    env = np.minimum(1.0, t / attack) * np.minimum(1.0, (dur - t) / 0.02).clip(0)
    return out * env


def _drums(n, sr, beat, rng, variant):
    L = np.zeros(n)
    R = np.zeros(n)
    t_k = np.arange(int(0.35 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 * t_k + 120 / 30 * (1 - np.exp(-30 * t_k)))) * np.exp(-t_k * 9)
    t_s = np.arange(int(0.25 * sr)) / sr
    sos_s = butter(2, [1000, 7000], btype="band", fs=sr, output="sos")
    snare = (0.6 * sosfilt(sos_s, rng.standard_normal(t_s.size)) * np.exp(-t_s * 18)
             + 0.5 * np.sin(2 * np.pi * 190 * t_s) * np.exp(-t_s * 25))
    t_h = np.arange(int(0.06 * sr)) / sr
    sos_h = butter(2, 7000, btype="high", fs=sr, output="sos")
    hat = sosfilt(sos_h, rng.standard_normal(t_h.size)) * np.exp(-t_h * 70)
    kick_pos = {0: [0, 2], 1: [0, 2.5], 2: [0, 1.5, 2]}[variant]
    n_beats = int(n / sr / beat) + 1
    for b in range(n_beats):
        bar_pos = b % 4
        for kp in kick_pos:
            if int(kp) == bar_pos:
                i = int((b + kp - int(kp)) * beat * sr)
                if i < n:
                    m = min(kick.size, n - i)
                    L[i:i + m] += 0.9 * kick[:m]
                    R[i:i + m] += 0.9 * kick[:m]
        if bar_pos in (1, 3):
            i = int(b * beat * sr)
            if i < n:
                m = min(snare.size, n - i)
                L[i:i + m] += 0.55 * snare[:m]
                R[i:i + m] += 0.45 * snare[:m]
        for half in (0, 0.5):
            i = int((b + half) * beat * sr)
            if i < n:
                m = min(hat.size, n - i)
                g = 0.18 if half == 0 else 0.12
                L[i:i + m] += g * 0.7 * hat[:m]
                R[i:i + m] += g * hat[:m]
    return np.stack([L, R])


def _voice(n, sr, beat, tonic, steps, rng, notes_out=None):
    """A sung-like line; returns mono signal."""
    base = rng.choice([57, 60, 64, 67])  # A3..G4 region, female/male-ish
    scale = [base + s + 12 * o for o in (-1, 0, 1) for s in steps]
    scale = [m for m in scale if base - 7 <= m <= base + 12]
    scale = [m for m in scale if (m - tonic) % 12 in steps] or [base]
    f0 = np.zeros(n)
    amp = np.zeros(n)
    cons = np.zeros(n)
    vowel_track = []
    t = 0.5 * beat * rng.integers(0, 3)
    idx = int(rng.integers(0, len(scale)))
    while t < n / sr:
        # a phrase of 4-10 notes, then a rest
        for _ in range(int(rng.integers(4, 11))):
            dur = beat * rng.choice([0.5, 1, 1, 1.5, 2])
            idx = int(np.clip(idx + rng.choice([-2, -1, -1, 0, 1, 1, 2]), 0, len(scale) - 1))
            a, b = int(t * sr), min(n, int((t + dur) * sr))
            if a >= n:
                break
            f0[a:b] = scale[idx]
            amp[a:b] = 1.0
            vowel_track.append((a, b, rng.choice(list(VOWELS))))
            if notes_out is not None:
                notes_out.append((a / sr, b / sr, int(scale[idx])))
            if rng.random() < 0.5 and a < n:
                m = min(int(0.04 * sr), n - a)
                cons[a:a + m] = 1.0
            t += dur
        t += beat * rng.choice([1, 2, 3])
    # glides: smooth the MIDI track (only where voiced)
    voiced = amp > 0
    midi = f0.copy()
    k = int(0.04 * sr)
    if voiced.any():
        fill = np.interp(np.arange(n), np.nonzero(voiced)[0], midi[voiced])
        midi = np.convolve(fill, np.ones(k) / k, mode="same")
    # vibrato with delayed onset per note
    vib_rate = rng.uniform(5.0, 6.5)
    vib_depth = rng.uniform(0.2, 0.6)  # semitones peak
    note_age = np.zeros(n)
    for a, b, _ in vowel_track:
        note_age[a:b] = np.arange(b - a) / sr
    vib = vib_depth * np.minimum(1.0, note_age / 0.3) * np.sin(2 * np.pi * vib_rate * np.arange(n) / sr)
    jitter = np.convolve(rng.standard_normal(n), np.ones(400) / 400, mode="same") * 0.3
    hz = _midi_hz(midi + vib + jitter)
    phase = 2 * np.pi * np.cumsum(hz) / sr
    # amplitude envelope: attack/release per note, phrase-level smoothing
    env = np.convolve(amp, np.ones(int(0.03 * sr)) / int(0.03 * sr), mode="same")
    F = np.zeros((3, n))
    for a, b, v in vowel_track:
        F[:, a:b] = np.array(VOWELS[v])[:, None]
    for i in range(3):
        F[i] = np.convolve(np.where(F[i] > 0, F[i], np.nan_to_num(F[i].mean())), np.ones(2000) / 2000, mode="same")
    out = np.zeros(n)
    bw = np.array([80.0, 100.0, 140.0])
    gains = np.array([1.0, 0.6, 0.35])
    for h in range(1, 60):
        fh = h * hz
        if np.median(fh[voiced]) > 10000 if voiced.any() else True:
            break
        form = np.zeros(n)
        for i in range(3):
            form += gains[i] / (1 + ((fh - F[i]) / bw[i]) ** 2)
        a_h = (0.15 + form) / h ** 0.8 * (fh < sr / 2 - 500)
        out += a_h * np.sin(h * phase)
    out *= env
    # consonants / breath: short band-passed noise bursts
    sos = butter(2, [2500, 9000], btype="band", fs=sr, output="sos")
    out += 0.3 * sosfilt(sos, rng.standard_normal(n)) * np.convolve(cons, np.ones(200) / 200, mode="same")
    return out


def _rms(x):
    return float(np.sqrt(np.mean(x ** 2)) + 1e-12)


def make_track(seed: int, duration: float = 20.0, sr: int = SR) -> Track:
    rng = np.random.default_rng(seed)
    bpm = float(rng.uniform(70, 160))
    beat = 60.0 / bpm
    tonic = int(rng.integers(0, 12))
    mode = "major" if rng.random() < 0.5 else "minor"
    steps = MAJOR_STEPS if mode == "major" else MINOR_STEPS
    prog = (MAJOR_PROGS if mode == "major" else MINOR_PROGS)[int(rng.integers(0, 5))]
    n = int(duration * sr)
    bar = 4 * beat
    pad = np.zeros(n)
    arp = np.zeros(n)
    bass = np.zeros(n)
    n_bars = int(np.ceil(duration / bar))
    chords: list = []
    for b in range(n_bars):
        degree = prog[b % len(prog)]
        pcs = _chord_pcs(tonic, steps, degree)
        if mode == "minor" and degree == 4 and rng.random() < 0.5:
            pcs[1] += 1  # harmonic-minor dominant (major V)
        a = int(b * bar * sr)
        third = (pcs[1] - pcs[0]) % 12
        chords.append((b * bar, (b + 1) * bar, pcs[0] % 12, "major" if third == 4 else "minor"))
        for p in pcs:
            note = _partials(_midi_hz(48 + p), bar, sr, 12, 0.4, rng, attack=0.15, detune=0.002)
            m = min(note.size, n - a)
            if m > 0:
                pad[a:a + m] += 0.25 * note[:m]
        for k in range(8):  # 8th-note arpeggio
            p = pcs[k % 3] + 12 * (k // 3 % 2)
            s = int(a + k * beat / 2 * sr)
            note = _partials(_midi_hz(60 + p), beat, sr, 8, 6.0, rng, tilt=1.5)
            m = min(note.size, n - s)
            if m > 0:
                arp[s:s + m] += 0.22 * note[:m]
        root = pcs[0] % 12
        for k in range(4):
            p = root if k % 2 == 0 or rng.random() < 0.5 else (root + 7) % 12
            s = int(a + k * beat * sr)
            note = _partials(_midi_hz(36 + p), beat * 0.95, sr, 5, 2.0, rng, tilt=1.8)
            m = min(note.size, n - s)
            if m > 0:
                bass[s:s + m] += 0.5 * note[:m]
    drums = _drums(n, sr, beat, rng, int(rng.integers(0, 3)))
    inst = (_pan(pad, rng.uniform(-0.7, -0.3)) + _pan(arp, rng.uniform(0.3, 0.7)) + _pan(bass, 0.0)
            + 0.9 * drums)
    notes: list = []
    voice = _voice(n, sr, beat, tonic, steps, rng, notes)
    vox = _pan(voice, rng.uniform(-0.35, 0.35))
    var_db = rng.uniform(-4.0, 2.0)
    vox *= _rms(inst) / _rms(vox) * 10 ** (var_db / 20)
    mix = inst + vox
    g = 0.89 / max(np.abs(mix).max(), 1e-9)
    return Track((mix * g).astype(np.float32), (vox * g).astype(np.float32), (inst * g).astype(np.float32),
                 sr, bpm, tonic, mode, seed, notes, chords)
