"""Frame-wise pitch salience → monophonic notes: a Viterbi path over {silence, each semitone}.

Both trackers (the basic-pitch model and the YIN tracker) end here, so they are compared on their
front ends only. The path cost is the salience's log-likelihood plus a constant penalty for
starting, ending or changing a note: vibrato (±60 cents in the test songs, more in real singing)
and one-frame octave slips then cost more than staying on the note, which is what turns a
wobbling pitch track into the notes a singer would read.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-4


def viterbi_path(salience: np.ndarray, voicing: np.ndarray, *, enter: float, change: float) -> np.ndarray:
    """Best state per frame: 0 = silence, k = column k-1 of ``salience`` (frames × pitches).

    ``salience`` and ``voicing`` are probabilities (0–1). ``enter`` is the log-penalty for silence
    ↔ note, ``change`` for note → another note (a constant: O(pitches) per frame, not O(pitches²)).
    """
    n_frames, n_pitch = salience.shape
    if n_frames == 0:
        return np.zeros(0, dtype=np.int64)
    log_note = np.log(np.clip(salience, EPS, 1.0))
    log_sil = np.log(np.clip(1.0 - voicing, EPS, 1.0))
    back = np.zeros((n_frames, n_pitch + 1), dtype=np.int64)
    delta = np.concatenate([[log_sil[0]], log_note[0] - enter])
    idx = np.arange(1, n_pitch + 1)
    for t in range(1, n_frames):
        notes = delta[1:]
        best = int(np.argmax(notes))
        best_note = notes[best]
        # into silence: stay silent, or leave the best note
        from_note = best_note - enter
        sil_prev = 0 if delta[0] >= from_note else best + 1
        sil_score = max(delta[0], from_note)
        # into note k: stay on k, come from silence, or change from the best other note
        stay = notes
        enter_from_sil = delta[0] - enter
        # the best *other* note: for k == best use the second best
        second = np.partition(notes, -2)[-2] if n_pitch > 1 else -np.inf
        other = np.full(n_pitch, best_note)
        other[best] = second
        second_idx = int(np.argsort(notes)[-2]) if n_pitch > 1 else best
        other_idx = np.full(n_pitch, best + 1)
        other_idx[best] = second_idx + 1
        change_score = other - change
        cand = np.stack([stay, np.full(n_pitch, enter_from_sil), change_score])
        choice = np.argmax(cand, axis=0)
        prev = np.where(choice == 0, idx, np.where(choice == 1, 0, other_idx))
        back[t, 0] = sil_prev
        back[t, 1:] = prev
        delta = np.concatenate([[sil_score], cand[choice, np.arange(n_pitch)]]) + np.concatenate([[log_sil[t]], log_note[t]])
    path = np.zeros(n_frames, dtype=np.int64)
    path[-1] = int(np.argmax(delta))
    for t in range(n_frames - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def segments(path: np.ndarray) -> list[tuple[int, int, int]]:
    """``(start_frame, end_frame_exclusive, state)`` for each run of a non-silent state."""
    runs: list[tuple[int, int, int]] = []
    if path.size == 0:
        return runs
    change = np.flatnonzero(np.diff(path)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [path.size]])
    for a, b in zip(starts, ends, strict=True):
        state = int(path[a])
        if state:
            runs.append((int(a), int(b), state))
    return runs


def split_at_onsets(run: tuple[int, int, int], onset: np.ndarray | None, *, threshold: float,
                    min_frames: int) -> list[tuple[int, int, int]]:
    """Split a run where the onset salience of its pitch peaks (a re-sung note of the same pitch)."""
    a, b, state = run
    if onset is None or b - a < 2 * min_frames:
        return [run]
    o = onset[a:b, state - 1]
    cuts = [k for k in range(min_frames, b - a - min_frames)
            if o[k] >= threshold and o[k] >= o[k - 1] and o[k] > o[k + 1]]
    bounds = [a] + [a + k for k in cuts] + [b]
    return [(bounds[i], bounds[i + 1], state) for i in range(len(bounds) - 1)]
