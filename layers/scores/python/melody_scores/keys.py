"""Key finding: music21's key-profile correlations, then the score's own evidence.

Global key: music21's Aarden-Essen analysis (the profile that measures best on the Bach chorales,
``benchmarks/score_analysis.py``) gives a correlation for each of the 24 keys; the written key
signature narrows them to its major key and relative minor, and since a piece almost always ends
on its tonic, a key whose tonic is the lowest final note gets ``ENDING_BONUS`` and one whose tonic
sounds in the final sonority ``FINAL_CHORD_BONUS`` (see :func:`rank_keys`). The windowed timeline
uses the same profiles on per-measure pitch-class histograms (duration-weighted, as music21 weights
them) so it costs one pass over the score.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .model import KeyEstimate, KeySegment

if TYPE_CHECKING:
    from collections.abc import Sequence

    from music21 import stream

METHOD = "key.aarden"
# Measured on the chorales (benchmarks/score_analysis.py, with a two-fold check of the choice).
ENDING_BONUS = 0.3
FINAL_CHORD_BONUS = 0.3
WINDOW_MEASURES = 4
MIN_SEGMENT_MEASURES = 2
TONICS = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")


def _profiles() -> dict[str, list[float]]:
    from music21 import analysis

    weights = analysis.discrete.AardenEssen()
    return {"major": list(weights.getWeights("major")), "minor": list(weights.getWeights("minor"))}


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def correlate(histogram: Sequence[float], profiles: dict[str, list[float]]) -> list[tuple[float, int, str]]:
    """(r, tonic pitch class, mode) for the 24 keys, best first."""
    out = []
    for mode, profile in profiles.items():
        for tonic in range(12):
            rotated = [profile[(pc - tonic) % 12] for pc in range(12)]
            out.append((_pearson(histogram, rotated), tonic, mode))
    return sorted(out, key=lambda item: -item[0])


def confidence_of(best: float, runner_up: float) -> float:
    """A 0..1 confidence: the best score's margin over the runner-up, scaled (0.2 apart ≈ certain)."""
    return round(max(0.0, min(1.0, (best - runner_up) / 0.2)), 3)


def _key_name(tonic: str, mode: str) -> str:
    return f"{tonic.lower() if mode == 'minor' else tonic} {mode}"


def rank_keys(
    candidates: Sequence[tuple[str, str, float]],
    *,
    final_bass_pc: int | None,
    final_pcs: frozenset[int] | set[int],
    signature_sharps: int | None,
    ending_bonus: float = ENDING_BONUS,
    final_chord_bonus: float = FINAL_CHORD_BONUS,
) -> list[tuple[str, str, float, float]]:
    """(tonic, mode, score, profile r), best first. ``candidates``: (tonic, mode, r) for the 24 keys.

    With a written key signature, only its major key and relative minor compete (the composer's
    declaration: a tonal piece is almost always in one of them); the profile correlation decides
    between them, helped by the ending (the lowest final note, the final sonority) on the tonic.
    Without one (a MIDI file without a key event), all 24 keys compete the same way.
    """
    from music21 import key as m21key
    from music21 import pitch

    allowed: set[tuple[int, str]] | None = None
    if signature_sharps is not None:
        sig = m21key.KeySignature(signature_sharps)
        allowed = {(sig.asKey("major").tonic.pitchClass, "major"), (sig.asKey("minor").tonic.pitchClass, "minor")}
    ranked = []
    for tonic, mode, r in candidates:
        pc = pitch.Pitch(tonic).pitchClass
        score = r
        score += ending_bonus if final_bass_pc is not None and pc == final_bass_pc else 0.0
        score += final_chord_bonus if pc in final_pcs else 0.0
        if allowed is not None and (pc, mode) not in allowed:
            score -= 10.0  # outside the signature: ranked after its two keys, kept as alternatives
        ranked.append((tonic, mode, score, r))
    return sorted(ranked, key=lambda item: -item[2])


def profile_candidates(score: stream.Score) -> list[tuple[str, str, float]]:
    """music21's Aarden-Essen correlations for the 24 keys: (tonic, mode, r)."""
    found = score.analyze(METHOD)
    return [(k.tonic.name, k.mode, float(k.correlationCoefficient or 0.0)) for k in [found, *found.alternateInterpretations]]


def global_key(
    score: stream.Score, *, final_bass_pc: int | None, final_pcs: frozenset[int] | set[int], signature_sharps: int | None
) -> tuple[KeyEstimate, list[KeyEstimate]]:
    ranked = rank_keys(profile_candidates(score), final_bass_pc=final_bass_pc, final_pcs=final_pcs, signature_sharps=signature_sharps)
    best, runner_up = ranked[0], ranked[1]
    # Confidence: the margin over the runner-up (whichever key that is), scaled; alternatives: their r.
    estimates = [KeyEstimate(best[0], best[1], _key_name(best[0], best[1]), confidence_of(best[2], runner_up[2]))]
    for tonic, mode, _, r in ranked[1:4]:
        estimates.append(KeyEstimate(tonic, mode, _key_name(tonic, mode), round(max(0.0, r), 3)))
    return estimates[0], estimates[1:]


class _Run:
    """Consecutive measures labelled with one key (indices into the measure list)."""

    def __init__(self, start: int, end: int, pc: int, mode: str, confidence: float) -> None:
        self.start, self.end, self.pc, self.mode, self.confidence = start, end, pc, mode, confidence

    def extend(self, end: int, confidence: float) -> None:
        self.end = end
        self.confidence += confidence


def timeline(
    measures: Sequence[int], histograms: dict[int, list[float]], window: int = WINDOW_MEASURES
) -> list[KeySegment]:
    """Key segments over the measures: each measure gets the key of the window centred on it;
    a key must hold for ``MIN_SEGMENT_MEASURES`` to count as a modulation (else it merges back)."""
    profiles = _profiles()
    labels: list[tuple[int, str, float]] = []
    half = window // 2
    for i, _number in enumerate(measures):
        span = measures[max(0, i - half) : i - half + window] if i - half >= 0 else measures[:window]
        hist = [0.0] * 12
        for m in span:
            for pc, weight in enumerate(histograms.get(m, ())):
                hist[pc] += weight
        if not any(hist):
            labels.append(labels[-1] if labels else (0, "major", 0.0))
            continue
        ranked = correlate(hist, profiles)
        labels.append((ranked[0][1], ranked[0][2], confidence_of(ranked[0][0], ranked[1][0])))
    runs: list[_Run] = []
    for i, (pc, mode, conf) in enumerate(labels):
        if runs and (runs[-1].pc, runs[-1].mode) == (pc, mode):
            runs[-1].extend(i, conf)
        else:
            runs.append(_Run(i, i, pc, mode, conf))
    # Short runs merge into the previous one (a passing tonicisation is not a modulation).
    merged: list[_Run] = []
    for run in runs:
        if merged and (run.end - run.start + 1 < MIN_SEGMENT_MEASURES or (merged[-1].pc, merged[-1].mode) == (run.pc, run.mode)):
            merged[-1].extend(run.end, run.confidence)
        else:
            merged.append(run)
    out = []
    for run in merged:
        tonic = TONICS[run.pc]
        out.append(
            KeySegment(
                start_measure=measures[run.start],
                end_measure=measures[run.end],
                key=_key_name(tonic, run.mode),
                tonic=tonic,
                mode=run.mode,
                confidence=round(run.confidence / (run.end - run.start + 1), 3),
            )
        )
    return out
