"""The basic-pitch note model (Spotify, Apache-2.0; ``models/nmp.onnx`` with its LICENSE and NOTICE)
run with onnxruntime, without TensorFlow or the basic-pitch package.

The model's CQT front end is inside the ONNX graph: it takes raw 22.05 kHz mono audio in windows
of 43 844 samples and returns, per window, 172 frames (hop 256 samples, ~86 fps) of note and onset
posteriors over the 88 piano keys (A0…C8) and a contour at three bins per semitone. Windowing,
overlap trimming and stitching below reimplement basic-pitch's ``inference.py`` (0.4.0): a half
overlap of zeros in front, windows every 43 844 − 30·256 samples, 15 frames cut from both ends of
each window's output.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 22050
HOP = 256
WINDOW = 2 * SAMPLE_RATE - HOP  # 43 844 samples
WINDOW_FRAMES = 172  # output frames per window
OVERLAP_FRAMES = 30
OVERLAP = OVERLAP_FRAMES * HOP
# A window advances WINDOW - OVERLAP samples but keeps WINDOW_FRAMES - OVERLAP_FRAMES frames, so a
# stitched frame is 254.7 samples, not HOP: timing frames at HOP drifts 0.5 % (100 ms after 20 s;
# basic-pitch corrects the same drift with a per-window offset in ``model_frames_to_time``).
FPS = SAMPLE_RATE * (WINDOW_FRAMES - OVERLAP_FRAMES) / (WINDOW - OVERLAP)
LOWEST_MIDI = 21  # A0: column 0 of the note/onset outputs
CONTOUR_BINS_PER_SEMITONE = 3
BATCH = 8  # windows per model call: bounded memory on long songs
MODEL_PATH = Path(__file__).resolve().parent / "models" / "nmp.onnx"
MODEL_SHA256 = "2c3c1d144bfa61ad236e92e169c13535c880469a12a047d4e73451f2c059a0ec"
_OUTPUTS = ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:0")


def available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return MODEL_PATH.is_file()


@lru_cache(maxsize=1)
def _session() -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Lambda gives a step a few vCPUs; the model is small, so two threads are as fast as more.
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(MODEL_PATH), sess_options=options, providers=["CPUExecutionProvider"])


def posteriors(x: np.ndarray, batch_size: int = BATCH) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(note, onset, contour)`` for mono audio at 22.05 kHz: (frames × 88), (frames × 88), (frames × 264).
    ``batch_size``: windows per model call (the model's activations grow with it)."""
    x = np.asarray(x, dtype=np.float32).ravel()
    n_frames = int(np.ceil(x.size * FPS / SAMPLE_RATE))
    if n_frames == 0:
        return np.zeros((0, 88), np.float32), np.zeros((0, 88), np.float32), np.zeros((0, 264), np.float32)
    padded = np.concatenate([np.zeros(OVERLAP // 2, np.float32), x])
    step = WINDOW - OVERLAP
    starts = range(0, padded.size, step)
    session = _session()
    name = session.get_inputs()[0].name
    parts: dict[int, list[np.ndarray]] = {0: [], 1: [], 2: []}
    batch: list[np.ndarray] = []

    def flush() -> None:
        if not batch:
            return
        outs = session.run(list(_OUTPUTS), {name: np.stack(batch)[:, :, None]})
        for i, out in enumerate(outs):
            trim = OVERLAP_FRAMES // 2
            parts[i].append(out[:, trim:-trim, :].reshape(-1, out.shape[-1]))
        batch.clear()

    for s in starts:
        window = padded[s:s + WINDOW]
        if window.size < WINDOW:
            window = np.pad(window, (0, WINDOW - window.size))
        batch.append(window)
        if len(batch) >= batch_size:
            flush()
    flush()
    note, onset, contour = (np.concatenate(parts[i])[:n_frames] for i in range(3))
    return note, onset, contour


def fine_pitch(contour: np.ndarray, a: int, b: int, midi: int) -> float:
    """The contour's weighted mean pitch (MIDI, fractional) over frames ``a:b`` within ±1 semitone of ``midi``."""
    centre = (midi - LOWEST_MIDI) * CONTOUR_BINS_PER_SEMITONE
    lo, hi = max(0, centre - 3), min(contour.shape[1], centre + 4)
    block = contour[a:b, lo:hi]
    weight = float(block.sum())
    if weight <= 1e-9:
        return float(midi)
    bins = np.arange(lo, hi)
    return LOWEST_MIDI + float((block.sum(axis=0) * bins).sum() / weight) / CONTOUR_BINS_PER_SEMITONE
