"""Vocal audio → notes, with either tracker: ``"nmp"`` (the basic-pitch model, the default when
onnxruntime is installed) or ``"yin"`` (numpy only). ``benchmarks/melody.py`` measures both."""

from __future__ import annotations

import numpy as np

from .._dsp import resample
from . import decode
from .notes import Note

LOW_MIDI, HIGH_MIDI = 40, 84  # E2…C6: the singing range
MIN_NOTE_S = 0.07
# Viterbi log-penalties and the onset split (see decode.py), set on the synthetic set's seeds
# 100–105, which the benchmark does not score (it uses seeds 0–19)
NMP_ENTER, NMP_CHANGE = 2.0, 3.0
YIN_ENTER, YIN_CHANGE = 2.0, 4.0
YIN_SIGMA = 0.5  # semitones: the spread of the YIN emission around each semitone
ONSET_SPLIT = 0.8  # onset peak that splits a held pitch into two notes (0.6 split sustained vowels)

TRACKERS = ("nmp", "yin")


def default_tracker() -> str:
    from . import nmp

    return "nmp" if nmp.available() else "yin"


def transcribe(samples: np.ndarray, sample_rate: int, *, tracker: str | None = None) -> list[Note]:
    """The sung line of ``samples`` ((channels, n) or (n,), any rate) as monophonic notes."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=0)
    name = tracker or default_tracker()
    if name == "nmp":
        from . import nmp

        audio = resample(x, sample_rate, nmp.SAMPLE_RATE)
        note, onset, contour = nmp.posteriors(audio)
        cols = slice(LOW_MIDI - nmp.LOWEST_MIDI, HIGH_MIDI - nmp.LOWEST_MIDI + 1)
        sal = note[:, cols].astype(np.float64)
        path = decode.viterbi_path(sal, sal.max(axis=1, initial=0.0), enter=NMP_ENTER, change=NMP_CHANGE)
        runs = [r for run in decode.segments(path)
                for r in decode.split_at_onsets(run, onset[:, cols], threshold=ONSET_SPLIT,
                                                min_frames=int(MIN_NOTE_S * nmp.FPS))]

        def fine(a: int, b: int, midi: int) -> float:
            return nmp.fine_pitch(contour, a, b, midi)

        return _notes(runs, sal, nmp.FPS, fine)
    if name == "yin":
        from . import yin

        audio = resample(x, sample_rate, yin.SAMPLE_RATE)
        midi, voicing = yin.track(audio)
        grid = np.arange(LOW_MIDI, HIGH_MIDI + 1)
        # a pitch track an octave outside the range folds into it (YIN's octave slips)
        m = np.where(np.isnan(midi), -100.0, midi)
        sal = voicing[:, None] * np.exp(-0.5 * ((m[:, None] - grid[None, :]) / YIN_SIGMA) ** 2)
        path = decode.viterbi_path(sal, voicing, enter=YIN_ENTER, change=YIN_CHANGE)
        runs = decode.segments(path)

        def fine_yin(a: int, b: int, pitch: int) -> float:
            seg = midi[a:b]
            seg = seg[np.abs(seg - pitch) < 1.0]
            return float(np.median(seg)) if seg.size else float(pitch)

        return _notes(runs, sal, yin.FPS, fine_yin)
    raise ValueError(f"unknown tracker {name!r}; one of {TRACKERS}")


def _notes(runs: list[tuple[int, int, int]], sal: np.ndarray, fps: float, fine: object) -> list[Note]:
    out: list[Note] = []
    for a, b, state in runs:
        if (b - a) / fps < MIN_NOTE_S:
            continue
        pitch = LOW_MIDI + state - 1
        exact = fine(a, b, pitch)  # type: ignore[operator]
        out.append(Note(onset_s=a / fps, offset_s=b / fps, pitch=pitch,
                        confidence=float(np.mean(sal[a:b, state - 1])),
                        cents=float(np.clip((exact - pitch) * 100.0, -50.0, 50.0))))
    return out
