"""Notes in seconds → notes on the song's beat grid (16th-note steps), in the song's key.

The grid is the analysis' beat times subdivided evenly (so a song that drifts keeps its notes on
its own beats), extended before the first and after the last beat at the median beat period, and
bars start on the analysis' downbeats. Key: a note outside the scale that was sung towards a
neighbouring scale tone (its mean pitch ≥ 25 cents that way) is read as that scale tone sung out of
tune; a chromatic note sung in tune is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .notes import GridNote, Note

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
SNAP_CENTS = 25.0
# time signature → (beats per bar, 16th steps per beat, beat type shown)
METERS = {"4/4": (4, 4), "3/4": (3, 4), "2/4": (2, 4), "6/8": (2, 6), "12/8": (4, 6), "9/8": (3, 6)}
DEFAULT_BPM = 120.0


@dataclass(frozen=True)
class Grid:
    beats: np.ndarray  # beat times (s), at least two
    beats_per_bar: int
    steps_per_beat: int
    first_bar_beat: int  # index into ``beats`` (may be negative) where bar 1 starts
    time_signature: str

    @property
    def steps_per_bar(self) -> int:
        return self.beats_per_bar * self.steps_per_beat

    def beat_position(self, t: float | np.ndarray) -> np.ndarray:
        """Fractional beat index of time ``t`` (linear extrapolation outside the beats)."""
        b = self.beats
        idx = np.arange(b.size, dtype=float)
        t = np.asarray(t, dtype=float)
        pos = np.interp(t, b, idx)
        period = float(np.median(np.diff(b)))
        pos = np.where(t < b[0], (t - b[0]) / period, pos)
        return np.where(t > b[-1], b.size - 1 + (t - b[-1]) / period, pos)

    def step(self, t: float) -> int:
        """The grid step of time ``t`` counted from the start of bar 1."""
        pos = float(self.beat_position(t)) - self.first_bar_beat
        return int(round(pos * self.steps_per_beat))

    def time_of_step(self, step: int) -> float:
        beat = self.first_bar_beat + step / self.steps_per_beat
        b = self.beats
        period = float(np.median(np.diff(b)))
        if beat < 0:
            return float(b[0] + beat * period)
        if beat > b.size - 1:
            return float(b[-1] + (beat - b.size + 1) * period)
        return float(np.interp(beat, np.arange(b.size), b))


def make_grid(beats: list[float] | None, downbeats: list[float] | None, time_signature: str | None,
              *, bpm: float | None = None, duration_s: float = 0.0) -> Grid:
    signature = time_signature if time_signature in METERS else "4/4"
    per_bar, spb = METERS[signature]
    b = np.asarray(sorted(beats or []), dtype=float)
    if b.size < 2:
        period = 60.0 / (bpm if bpm and bpm > 0 else DEFAULT_BPM)
        b = np.arange(0.0, max(duration_s, 2 * period) + period, period)
    first = 0
    if downbeats:
        first_db = int(np.argmin(np.abs(b - float(downbeats[0]))))
        first = first_db % per_bar
    return Grid(beats=b, beats_per_bar=per_bar, steps_per_beat=spb, first_bar_beat=first,
                time_signature=signature)


def scale_of(tonic_pc: int, mode: str) -> set[int]:
    steps = MINOR if mode == "minor" else MAJOR
    return {(tonic_pc + s) % 12 for s in steps}


def snap_to_key(notes: list[Note], tonic_pc: int, mode: str) -> list[Note]:
    scale = scale_of(tonic_pc, mode)
    out = []
    for n in notes:
        pitch = n.pitch
        if pitch % 12 not in scale and abs(n.cents) >= SNAP_CENTS:
            target = pitch + (1 if n.cents > 0 else -1)
            if target % 12 in scale:
                pitch = target
        out.append(Note(n.onset_s, n.offset_s, pitch, n.confidence, n.cents))
    return out


def to_grid(notes: list[Note], grid: Grid) -> list[GridNote]:
    """Onsets and offsets to the nearest step; every note at least one step; no overlaps (a later
    note cuts the earlier one short; two notes on one step keep the more confident). Steps count
    from bar 1's downbeat: a pickup before it has negative steps."""
    placed: list[tuple[int, int, int, float]] = []
    for n in sorted(notes, key=lambda n: n.onset_s):
        start, end = grid.step(n.onset_s), grid.step(n.offset_s)
        end = max(end, start + 1)
        if placed and placed[-1][0] == start:
            if placed[-1][3] >= n.confidence:
                continue
            placed.pop()
        placed.append((start, end, n.pitch, n.confidence))
    out: list[GridNote] = []
    for i, (start, end, pitch, _conf) in enumerate(placed):
        if i + 1 < len(placed):
            end = min(end, placed[i + 1][0])
        out.append(GridNote(start=start, length=max(1, end - start), pitch=pitch))
    return out
