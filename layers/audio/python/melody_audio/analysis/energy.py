"""Perceived energy 0–1 (a documented heuristic, no trained model).

``energy = 0.55·L + 0.30·A + 0.15·T`` where L maps integrated loudness -40…-6 LUFS to 0…1,
A is onset activity (mean rectified spectral flux relative to a dense mix, 0…1) and T maps
the tempo 60…180 BPM to 0…1.  Loud, busy, fast music scores high; quiet sparse slow music low.
"""

from __future__ import annotations

import numpy as np


def energy(integrated_lufs: float | None, onset_env: np.ndarray | None, bpm: float | None) -> float:
    loud = 0.0 if integrated_lufs is None else float(np.clip((integrated_lufs + 40.0) / 34.0, 0.0, 1.0))
    if onset_env is not None and onset_env.size:
        # onset_env is std-normalised; the fraction of frames with a clear onset measures activity
        act = float(np.clip(np.mean(onset_env > 1.0) / 0.15, 0.0, 1.0))
    else:
        act = 0.0
    tempo_term = 0.0 if not bpm else float(np.clip((bpm - 60.0) / 120.0, 0.0, 1.0))
    return round(float(np.clip(0.55 * loud + 0.30 * act + 0.15 * tempo_term, 0.0, 1.0)), 3)
