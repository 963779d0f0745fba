"""Note evidence for the key: pitch-class histograms of the basic-pitch note model's posteriors.

The STFT chroma of :mod:`.key` counts every harmonic of every note (the 3rd harmonic of a C is a
G, the 5th an E) and every drum resonance; the note model (:mod:`melody_audio.melody.nmp`,
Apache-2.0, run with onnxruntime) outputs the *notes* themselves.  On the GTZAN dev split the
literature key profile read 0.61 (MIREX) on the note histogram against 0.50 on the chroma.

Cost: the model costs ~2.4 s CPU per minute of audio, more than the analysis may spend, so it runs
on every :data:`NOTE_EVERY`-th model hop of 1.64 s (a third of the song: ~0.8 s CPU per minute,
linear in length).  A global key histogram needs a sample of the song, not all of it.

The audio is retuned to A440 first (played :func:`retune` faster or slower by the estimated
tuning offset): the model's CQT assumes A440, and a clip 40 cents sharp would otherwise spread
its notes over two keys.
"""

from __future__ import annotations

import numpy as np

from .._dsp import resample

NOTE_EVERY = 3  # run the model on one model hop in NOTE_EVERY
NOTE_THRESHOLD = 0.3  # a note posterior counts above this (fewer ghost harmonics)
NOTE_BASS_MIDI = 55  # notes below G3 also go to the bass histogram
GROUP = 16  # sampled chunks (of 1.64 s) per call of the note model
BATCH = 2  # model windows per onnxruntime run: its activations (and arena) grow with the batch

__all__ = ["NOTE_EVERY", "available", "note_histograms", "retune", "sample_chunks"]


def available() -> bool:
    """The note model can run (onnxruntime installed and the vendored model present)."""
    from ..melody import nmp

    return nmp.available()


def retune(x: np.ndarray, tuning: float) -> np.ndarray:
    """``x`` resampled so that a signal tuned ``tuning`` semitones off A440 sounds at A440."""
    if abs(tuning) < 1e-3 or x.size < 2:
        return np.asarray(x, dtype=np.float32)
    r = 2.0 ** (tuning / 12.0)  # > 1: sharp, so read the samples more slowly (lower pitch)
    pos = np.arange(int(x.size * r)) / r
    return np.interp(pos, np.arange(x.size), x).astype(np.float32)


def sample_chunks(x: np.ndarray, chunk: int, every: int = NOTE_EVERY) -> np.ndarray:
    """Every ``every``-th chunk of ``chunk`` samples, concatenated (all of ``x`` when it is short)."""
    n = x.size // chunk
    if every <= 1 or n < every:
        return x
    keep = np.arange(0, n, every)
    return x[: n * chunk].reshape(n, chunk)[keep].ravel()


def note_histograms(x: np.ndarray, sr: int, tuning: float, every: int = NOTE_EVERY) -> dict[str, list[float]] | None:
    """``{"gn": 12 pitch-class note weights, "gnb": the same below G3}`` of mono ``x`` at ``sr``,
    tuning-compensated; ``None`` when the note model is not available or ``x`` is silent."""
    if not available():
        return None
    from ..melody import nmp

    step = nmp.WINDOW - nmp.OVERLAP  # samples per model hop at 22.05 kHz
    chunk = int(round(step * sr / nmp.SAMPLE_RATE))
    part = sample_chunks(np.asarray(x, dtype=np.float32), chunk, every)
    n_notes = 88
    midi = np.arange(n_notes) + nmp.LOWEST_MIDI
    fold = np.zeros((n_notes, 12))
    fold[np.arange(n_notes), midi % 12] = 1.0
    acc = np.zeros(n_notes)
    # GROUP chunks per model call and BATCH windows per onnxruntime run bound the memory on long
    # songs (6-minute song, separation + analysis: peak RSS 946 MiB; 1037 MiB in one call at batch
    # 8, over the 1 GB target), for one extra model window per group
    span = GROUP * chunk
    for a in range(0, part.size, span):
        y = retune(resample(part[a:a + span], sr, nmp.SAMPLE_RATE), tuning)
        if y.size == 0 or not np.any(y):
            continue
        note, _, _ = nmp.posteriors(y, batch_size=BATCH)
        note = np.where(note > NOTE_THRESHOLD, note, 0.0)
        acc += note.sum(axis=0)
    if not np.any(acc):
        return None
    return {"gn": (acc @ fold).tolist(), "gnb": ((acc * (midi < NOTE_BASS_MIDI)) @ fold).tolist()}
