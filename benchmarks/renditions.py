"""Renditions benchmark: key and tempo changes (``melody_audio.transform``) with baselines, in one run.

    .venv/bin/python benchmarks/renditions.py            # full run (~3 min on 2 cores)
    .venv/bin/python benchmarks/renditions.py --quick    # fewer songs and shifts, smoke test

What is measured, for ours and, in the same run, for the baselines:

* Pitch error (cents) of ±1…±6-semitone renditions (at tempo 1.0, 0.75 and 1.25) against the
  target ``100 * semitones``: on test tones (a sine and a harmonic tone; the frequency of the
  strongest partial by a 2^20-point FFT with parabolic interpolation) and on synthetic songs
  (``audio_fixtures.make_track``; the shift that best aligns the long-term log-frequency spectra
  of the original and the rendition, at 1-cent resolution, 100 Hz…5 kHz). Target: within ±5 cents.
* Duration error: the rendition's length against ``n / tempo``. Target: ≤ 0.5 %.
* Transient smearing: the drum stem of the synthetic songs (kick, snare, hi-hat); at each hit
  found in the original, the attack time (10 % → 90 % of the hit's peak of a 1 ms RMS envelope)
  and the pre-echo (energy in the 20 ms before the hit, relative to the hit's first 20 ms, dB),
  medians over hits, for the original and each rendition. Lower is sharper.
* Cost: CPU seconds (process time) per minute of stereo 44.1 kHz audio. Target: ≤ 2 s.

Baselines: librosa 0.11 (``librosa.effects.time_stretch`` / ``pitch_shift``: a plain phase
vocoder without phase locking, then soxr resampling) when installed (``bench`` extra), and plain
resampling (the "chipmunk" change: right pitch, wrong duration, or right duration, wrong pitch).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "audio" / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audio_fixtures import SR, _drums, make_track  # noqa: E402

from melody_audio.transform import pitch_ratio, render, resample_chunked  # noqa: E402

TARGET_CENTS = 5.0
TARGET_DURATION_PCT = 0.5
TARGET_CPU = 2.0


# ---------------------------------------------------------------- methods
def ours(x: np.ndarray, semitones: int, tempo: float) -> np.ndarray:
    return render(x, SR, semitones=semitones, tempo=tempo)


def plain_resampling(x: np.ndarray, semitones: int, tempo: float) -> np.ndarray:
    """Resampling alone by ``tempo / ratio``: the pitch moves with the speed."""
    ratio = pitch_ratio(semitones) * _fraction(tempo)
    return resample_chunked(x, ratio.denominator, ratio.numerator)


def _fraction(value: float):
    from fractions import Fraction

    return Fraction(value).limit_denominator(100)


def librosa_method(x: np.ndarray, semitones: int, tempo: float) -> np.ndarray:
    import librosa

    y = np.asarray(x, dtype=np.float32)
    if semitones:
        y = librosa.effects.pitch_shift(y, sr=SR, n_steps=semitones)
    if tempo != 1.0:
        y = librosa.effects.time_stretch(y, rate=tempo)
    return np.atleast_2d(y)


def methods() -> dict:
    found = {"ours (PV + identity phase locking + resets)": ours}
    try:
        import librosa  # noqa: F401

        found["librosa 0.11 (plain PV + soxr)"] = librosa_method
    except ImportError:
        print("librosa is not installed (pip install -e '.[bench]'): that baseline is skipped", flush=True)
    found["plain resampling"] = plain_resampling
    return found


# ---------------------------------------------------------------- measures
def tone_hz(y: np.ndarray, sr: int = SR) -> float:
    """The frequency of the strongest partial of the middle half (2^20-point FFT, parabolic peak)."""
    m = np.atleast_2d(y).mean(axis=0)
    seg = m[len(m) // 4 : 3 * len(m) // 4]
    size = 1 << 20
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(seg.size), size)) + 1e-12
    k = int(np.argmax(spectrum[1:-1])) + 1
    a, b, c = np.log(spectrum[k - 1 : k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * sr / size


def _log_spectrum(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """The long-term magnitude spectrum on a 1-cent grid from 100 Hz to 5 kHz (log, centred)."""
    m = np.atleast_2d(y).mean(axis=0)
    size = 1 << 16
    hop = size // 2
    window = np.hanning(size)
    total = np.zeros(size // 2 + 1)
    for start in range(0, max(1, m.size - size), hop):
        total += np.abs(np.fft.rfft(m[start : start + size] * window))
    freqs = np.fft.rfftfreq(size, 1 / sr)
    grid = 100.0 * 2 ** (np.arange(0, 1200 * np.log2(5000 / 100)) / 1200)
    values = np.log(np.interp(grid, freqs, total) + 1e-9)
    return values - values.mean()


def song_shift_cents(original: np.ndarray, rendition: np.ndarray, expected: float) -> float:
    """The pitch shift that best aligns the two long-term log-frequency spectra (cents), searched
    within ±100 cents of ``expected``: harmonic spectra also align at a fifth or an octave, which
    would be ambiguity of the measure, not an error of the rendition."""
    a, b = _log_spectrum(original), _log_spectrum(rendition)
    lags = np.arange(int(expected) - 100, int(expected) + 101)
    n = a.size
    scores = np.array([np.dot(a[max(0, -lag) : n - max(0, lag)], b[max(0, lag) : n - max(0, -lag)]) / (n - abs(lag)) for lag in lags])
    k = int(np.argmax(scores[1:-1])) + 1
    s0, s1, s2 = scores[k - 1 : k + 2]
    return float(lags[k] + 0.5 * (s0 - s2) / (s0 - 2 * s1 + s2))


def _envelope(y: np.ndarray, sr: int = SR) -> np.ndarray:
    m = np.atleast_2d(y).mean(axis=0)
    hop = sr // 1000
    frames = m[: m.size // hop * hop].reshape(-1, hop)
    return np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))  # 1 ms RMS


def hits(drums: np.ndarray, sr: int = SR) -> list[float]:
    """Onset times (s) of the drum hits: a rise of the 1 ms envelope above 4x its 30 ms past."""
    env = _envelope(drums, sr)
    found: list[float] = []
    last = -1000
    for i in range(30, env.size):
        if env[i] > 4 * env[i - 30 : i].mean() + 1e-4 and i - last > 60:
            found.append(i / 1000.0)
            last = i
    return found


def sharpness(y: np.ndarray, onsets: list[float], scale: float) -> tuple[float, float]:
    """(median attack ms, median pre-echo dB) of ``y`` at ``onsets`` (original seconds) x ``scale``."""
    env = _envelope(y)
    attacks, echoes = [], []
    for t in onsets:
        centre = int(round(t * scale * 1000))
        lo, hi = centre - 25, centre + 25
        if lo < 25 or hi >= env.size:
            continue
        seg = env[lo:hi]
        peak_i = int(np.argmax(seg))
        peak = seg[peak_i]
        if peak <= 0:
            continue
        rise = seg[: peak_i + 1]
        below10 = np.flatnonzero(rise < 0.1 * peak)
        start = int(below10[-1]) if below10.size else 0
        reach90 = start + int(np.argmax(rise[start:] >= 0.9 * peak))
        attacks.append(reach90 - start)
        onset = lo + start
        before = np.sum(env[onset - 20 : onset] ** 2)
        after = np.sum(env[onset : onset + 20] ** 2) + 1e-12
        echoes.append(10 * np.log10(before / after + 1e-12))
    return float(np.median(attacks)), float(np.median(echoes))


# ---------------------------------------------------------------- runs
SHIFTS = [s for s in range(-6, 7) if s]
TEMPOS = (1.0, 0.75, 1.25)


def test_tones(seconds: float = 4.0) -> dict[str, np.ndarray]:
    t = np.arange(int(SR * seconds)) / SR
    sine = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    harmonic = sum(0.5 / k * np.sin(2 * np.pi * 220.0 * k * t + k) for k in range(1, 9))
    harmonic = 0.6 * harmonic / np.max(np.abs(harmonic))
    return {"sine 440 Hz (mono)": sine[None, :].astype(np.float32),
            "harmonic 220 Hz (stereo)": np.stack([harmonic, 0.7 * harmonic]).astype(np.float32)}  # fmt: skip


def run_pitch(method, signals: dict[str, np.ndarray], cases, measure) -> tuple[list[float], list[float]]:
    """(pitch errors in cents, duration errors in %) over every signal and (semitones, tempo) case."""
    cents, durations = [], []
    for x in signals.values():
        base = measure(x, None, 0)
        for semitones, tempo in cases:
            y = method(x, semitones, tempo)
            cents.append(measure(y, base, 100 * semitones) - 100 * semitones)
            durations.append(100 * abs(y.shape[1] / (x.shape[1] / tempo) - 1))
    return cents, durations


def tone_measure(y, base, expected):
    hz = tone_hz(y)
    return hz if base is None else 1200 * np.log2(hz / base)


def song_measure(y, base, expected):
    return y if base is None else song_shift_cents(base, y, expected)


def cpu_per_minute(method, minute: np.ndarray, cases) -> float:
    worst = 0.0
    for semitones, tempo in cases:
        start = time.process_time()
        method(minute, semitones, tempo)
        worst = max(worst, time.process_time() - start)
    return worst / (minute.shape[1] / SR / 60)


PEAK_SCRIPT = r"""
import sys, time
sys.path.insert(0, sys.argv[1])


def hwm():  # this process's own peak RSS (ru_maxrss would carry the parent's across fork + exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0


import numpy as np
from melody_audio.transform import render
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 44100 * 360), dtype=np.float32) * np.float32(0.1)  # 6 minutes, stereo
base = hwm()
c0 = time.process_time()
y = render(x, 44100, semitones=-3, tempo=0.75)  # the longest output: 8 minutes
print(base, hwm(), time.process_time() - c0, x.nbytes / 2**20, y.nbytes / 2**20)
"""


def peak_memory_6min() -> tuple[float, float, float, float, float]:
    """(RSS before, peak RSS, CPU s, input MiB, output MiB) of a fresh process rendering 6 minutes."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(ROOT / "layers" / "audio" / "python")],
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    return tuple(float(v) for v in out)  # type: ignore[return-value]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 songs, fewer transient tracks")
    ap.add_argument("--songs", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=12.0)
    args = ap.parse_args(argv)
    songs_n = 2 if args.quick else args.songs
    found = methods()
    tone_cases = [(s, t) for s in SHIFTS for t in TEMPOS]
    song_cases = [(s, TEMPOS[i % 3]) for i, s in enumerate(SHIFTS)]
    print(f"synthesising {songs_n} songs of {args.seconds:g} s ...", flush=True)
    tracks = [make_track(2000 + i, args.seconds) for i in range(songs_n)]
    songs = {f"song {t.seed}": t.instrumental for t in tracks}
    tones = test_tones()

    print("\n## Pitch and duration (target: |pitch error| ≤ 5 cents, duration error ≤ 0.5 %)")
    print(f"tones: ±1…±6 semitones × tempo {TEMPOS} ({len(tone_cases)} cases each); songs: ±1…±6 semitones, "
          f"tempo cycling {TEMPOS} ({len(song_cases)} cases each, {songs_n} instrumentals)")  # fmt: skip
    print("| method | tones: max abs cents | tones: mean abs cents | songs: max abs cents | songs: mean abs cents "
          "| max duration error % |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    ours_ok = True
    for name, method in found.items():
        tc, td = run_pitch(method, tones, tone_cases, tone_measure)
        sc, sd = run_pitch(method, songs, song_cases, song_measure)
        worst_d = max(td + sd)
        print(f"| {name} | {np.max(np.abs(tc)):.2f} | {np.mean(np.abs(tc)):.2f} | {np.max(np.abs(sc)):.2f} "
              f"| {np.mean(np.abs(sc)):.2f} | {worst_d:.3f} |", flush=True)  # fmt: skip
        if method is ours:
            ours_ok = max(np.max(np.abs(tc)), np.max(np.abs(sc))) <= TARGET_CENTS and worst_d <= TARGET_DURATION_PCT

    print("\n## Transient smearing: drum stems (kick, snare, hi-hat); medians over hits (lower = sharper)")
    drum_tracks = []
    for i in range(2 if args.quick else 4):
        rng = np.random.default_rng(3000 + i)
        drum_tracks.append(_drums(int(SR * args.seconds), SR, 60.0 / float(rng.uniform(80, 150)), rng, i % 3).astype(np.float32))
    onsets = [hits(d) for d in drum_tracks]
    original = [sharpness(d, o, 1.0) for d, o in zip(drum_tracks, onsets, strict=True)]
    print(f"original: attack {np.median([a for a, _ in original]):.1f} ms, pre-echo {np.median([e for _, e in original]):.1f} dB "
          f"({sum(len(o) for o in onsets)} hits)")  # fmt: skip
    cases = [(0, 0.75), (0, 1.25), (-3, 1.0), (4, 0.9)]
    print("| method | " + " | ".join(f"{s:+d} st, {t:.2f}x: attack ms / pre-echo dB" for s, t in cases) + " |")
    print("|---|" + "---:|" * len(cases))
    from melody_audio.transform import vocoder

    variants = dict(found)
    variants["ours without transient resets (ablation)"] = "no-reset"
    for name, method in variants.items():
        cells = []
        for semitones, tempo in cases:
            if method == "no-reset":
                saved, vocoder.ONSET_FLUX = vocoder.ONSET_FLUX, float("inf")
                try:
                    outs = [ours(d, semitones, tempo) for d in drum_tracks]
                finally:
                    vocoder.ONSET_FLUX = saved
            else:
                outs = [method(d, semitones, tempo) for d in drum_tracks]
            scale = 1.0 / tempo if method is not plain_resampling else float(1 / (pitch_ratio(semitones) * _fraction(tempo)))
            res = [sharpness(y, o, scale) for y, o in zip(outs, onsets, strict=True)]
            cells.append(f"{np.median([a for a, _ in res]):.1f} / {np.median([e for _, e in res]):.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)

    print("\n## Cost: CPU s per minute of stereo 44.1 kHz audio (worst of -2 st 0.90x, +6 st 0.75x, -6 st 1.25x; target ≤ 2 s)")
    minute = np.tile(tracks[0].mix, (1, int(np.ceil(60 / args.seconds))))[:, : 60 * SR]
    cost_cases = [(-2, 0.9), (6, 0.75), (-6, 1.25)]
    print("| method | CPU s / audio minute |")
    print("|---|---:|")
    ours_cpu = 0.0
    for name, method in found.items():
        cpu = cpu_per_minute(method, minute, cost_cases)
        if method is ours:
            ours_cpu = cpu
        print(f"| {name} | {cpu:.2f} |", flush=True)
    base, peak, cpu6, in_mib, out_mib = peak_memory_6min()
    print(f"6-minute stereo song, -3 st at 0.75x, fresh process: peak RSS {peak:.0f} MiB (numpy + the input alone: "
          f"{base:.0f} MiB; input {in_mib:.0f} MiB, output {out_mib:.0f} MiB float32), {cpu6 / 6:.2f} CPU s per audio minute")  # fmt: skip
    ok = ours_ok and ours_cpu <= TARGET_CPU
    print(f"\ntargets (pitch ±{TARGET_CENTS:g} cents, duration ≤ {TARGET_DURATION_PCT:g} %, CPU ≤ {TARGET_CPU:g} s/min): "
          f"{'met' if ok else 'NOT met'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
