"""Score analysis (issue 12): global-key accuracy on the Bach chorales, and the cost of a 2 MB
orchestral MusicXML against the Lambda limits, each next to a baseline measured in the same run.

1. Key accuracy. Every chorale in music21's corpus whose file documents its key (a MusicXML ``<key>``
   with ``<mode>``: music21 reads it as a ``Key``, not a bare ``KeySignature``) is analysed without
   that annotation being read: the estimators see the notes, the written key signature (sharps or
   flats only) and the ending. Compared in one run:
   - baseline "signature major": the major key of the written key signature;
   - baselines music21 ``key.krumhansl``, ``key.temperley``, ``key.aarden`` (profile correlation only);
   - shipped: ``melody_scores`` (Aarden-Essen profiles within the signature's two keys, plus the
     ending on the tonic); and a two-fold check of its two bonus weights: chosen on one half of the
     chorales from a small grid, scored on the other half (and the reverse).
2. Cost. A 2 MB MusicXML of an orchestral movement (Beethoven's op. 59 no. 1 first movement from the
   corpus, its four parts doubled into 14 orchestral parts, cut to ~2 MB): ``melody_scores`` parse + analyse +
   render (what the ``analyse`` step runs) in a fresh process, wall/CPU seconds and peak memory,
   next to the baseline music21 parse alone, against the step's 600 s timeout and 3008 MB.

    .venv/bin/python benchmarks/score_analysis.py              # ~10 min on 2 busy cores
    .venv/bin/python benchmarks/score_analysis.py --quick      # 60 chorales, no orchestral run
    .venv/bin/python benchmarks/score_analysis.py --cost-only  # the orchestral run only
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "scores" / "python"), str(ROOT / "layers" / "shared" / "python")]

STEP_TIMEOUT_S = 600
STEP_MEMORY_MB = 3008
TARGET_ACCURACY = 0.95
GRID = (0.0, 0.1, 0.2, 0.3)


def chorale_rows(limit: int | None) -> list[dict]:
    from music21 import corpus, key
    from music21.corpus import chorales

    from melody_scores import keys
    from melody_scores.analysis import ending

    rows = []
    for path in itertools.islice(chorales.Iterator(returnType="filename"), limit):
        score = corpus.parse(path)
        documented = [k for k in score.parts[0].recurse().getElementsByClass(key.Key)]
        if not documented:
            continue  # no <mode> in the file: no documented key to score against
        truth = (documented[0].tonic.pitchClass, documented[0].mode)
        sharps = documented[0].sharps  # the written signature only (a Key is also a KeySignature)
        final_bass_pc, final_pcs = ending(score)
        found = {}
        for method in ("key.krumhansl", "key.temperley", "key.aarden"):
            k = score.analyze(method)
            found[method] = (k.tonic.pitchClass, k.mode)
        rows.append(
            {
                "file": str(path),
                "truth": truth,
                "sharps": sharps,
                "final_bass_pc": final_bass_pc,
                "final_pcs": final_pcs,
                "candidates": keys.profile_candidates(score),
                "found": found,
            }
        )
    return rows


def shipped_key(row: dict, ending_bonus: float | None = None, chord_bonus: float | None = None) -> tuple[int, str]:
    from music21 import pitch

    from melody_scores import keys

    options = {}
    if ending_bonus is not None:
        options = {"ending_bonus": ending_bonus, "final_chord_bonus": chord_bonus}
    tonic, mode, _, _ = keys.rank_keys(
        row["candidates"], final_bass_pc=row["final_bass_pc"], final_pcs=row["final_pcs"], signature_sharps=row["sharps"], **options
    )[0]
    return pitch.Pitch(tonic).pitchClass, mode


def accuracy(rows: list[dict], estimate) -> float:
    return sum(estimate(r) == r["truth"] for r in rows) / max(1, len(rows))


def key_benchmark(limit: int | None) -> dict:
    from music21 import key

    started = time.perf_counter()
    rows = chorale_rows(limit)
    results = {
        "baseline: signature major": accuracy(rows, lambda r: (key.KeySignature(r["sharps"]).asKey("major").tonic.pitchClass, "major")),
        "baseline: music21 key.krumhansl": accuracy(rows, lambda r: r["found"]["key.krumhansl"]),
        "baseline: music21 key.temperley": accuracy(rows, lambda r: r["found"]["key.temperley"]),
        "baseline: music21 key.aarden": accuracy(rows, lambda r: r["found"]["key.aarden"]),
        "shipped: melody_scores": accuracy(rows, shipped_key),
    }
    # Two-fold check of the two weights (a choice made on the same chorales would flatter itself).
    folds = (rows[0::2], rows[1::2])
    correct = 0
    chosen = []
    for train, test in (folds, folds[::-1]):
        best = max(itertools.product(GRID, GRID), key=lambda w: accuracy(train, lambda r, w=w: shipped_key(r, *w)))
        chosen.append(best)
        correct += sum(shipped_key(r, *best) == r["truth"] for r in test)
    results["shipped, weights chosen on the other half (2-fold)"] = correct / max(1, len(rows))
    return {"chorales": len(rows), "accuracy": results, "fold_weights": chosen, "seconds": time.perf_counter() - started}


ORCHESTRA = ["Flute", "Oboe", "Clarinet", "Bassoon", "Horn", "Trumpet", "Timpani", "Violin I", "Violin II", "Viola",
             "Violoncello", "Contrabass", "Piccolo", "English Horn", "Trombone", "Harp"]  # fmt: skip


def orchestral_file(folder: Path, target_bytes: int = 2 * 1024 * 1024, n_parts: int = 14) -> Path:
    """Beethoven op. 59 no. 1/i, its four parts doubled into ``n_parts`` orchestral parts (octave
    doublings, as an orchestra doubles), cut to the number of bars that makes ~``target_bytes``."""
    import copy

    from music21 import corpus, stream

    source = corpus.parse("beethoven/opus59no1", 1)
    path = folder / "orchestral.musicxml"

    def build(bars: int) -> stream.Score:
        score = stream.Score()
        score.metadata = copy.deepcopy(source.metadata)
        for i in range(n_parts):
            part = source.parts[i % 4].measures(1, bars)
            octave = (i // 4) % 3 - 1  # the copies sound an octave up, as written, an octave down
            if octave:
                part = part.transpose(12 * octave)
            part.partName = ORCHESTRA[i % len(ORCHESTRA)]
            score.insert(0, part)
        return score

    bars = 20
    for _ in range(4):  # size is not linear in bars (dense passages): scale until it reaches the target
        build(bars).write("musicxml", fp=str(path))
        if path.stat().st_size >= target_bytes:
            break
        bars = min(len(source.parts[0].getElementsByClass("Measure")), int(bars * 1.05 * target_bytes / path.stat().st_size) + 1)
    return path


CHILD = r"""
import json, resource, sys, time
sys.path[:0] = {paths!r}
mode, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
phases = {{}}
def timed(name, fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    phases[name] = {{"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}}
    return value
if mode == "parse":
    from music21 import converter
    score = timed("parse", lambda: converter.parse(path, forceSource=True))
    info = {{"measures": len(score.parts[0].getElementsByClass("Measure")), "parts": len(score.parts)}}
else:
    from melody_scores import analyse_score, load, render
    score = timed("parse", lambda: load(path))
    result = timed("analyse", lambda: analyse_score(score))
    timed("render", lambda: render(score, out))
    info = {{"measures": result.measures, "parts": len(result.parts), "key": result.key.name, "chords": len(result.chords),
             "modulations": len(result.modulations), "cadences": len(result.cadences)}}
# ru_maxrss survives exec (Linux keeps the parent's high-water mark): VmHWM is this process's own.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
info.update(phases=phases, wall_s=sum(p["wall_s"] for p in phases.values()), cpu_s=sum(p["cpu_s"] for p in phases.values()),
            peak_mb=hwm / 1024)
print(json.dumps(info))
"""


def cost_benchmark(folder: Path) -> dict:
    path = orchestral_file(folder)
    code = CHILD.format(paths=sys.path[:2])
    out = {"file_mb": path.stat().st_size / 2**20}
    for mode in ("parse", "analyse"):
        command = [sys.executable, "-c", code, mode, str(path), str(folder / "out")]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        out[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def cost_report() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cost = cost_benchmark(Path(tmp))
    p, a = cost["parse"], cost["analyse"]
    print(f"\n{cost['file_mb']:.2f} MB orchestral MusicXML ({a['parts']} parts, {a['measures']} measures; key {a['key']}, "
          f"{a['chords']} chords, {a['modulations']} modulations, {a['cadences']} cadences):")  # fmt: skip
    print(f"  baseline: music21 parse only   wall {p['wall_s']:6.1f} s  cpu {p['cpu_s']:6.1f} s  peak {p['peak_mb']:6.0f} MB")
    print(f"  shipped: parse+analyse+render  wall {a['wall_s']:6.1f} s  cpu {a['cpu_s']:6.1f} s  peak {a['peak_mb']:6.0f} MB")
    print("    phases (cpu s): " + ", ".join(f"{k} {v['cpu_s']:.1f}" for k, v in a["phases"].items()))
    fits = a["wall_s"] < STEP_TIMEOUT_S and a["peak_mb"] < STEP_MEMORY_MB
    print(f"  Lambda analyse step: timeout {STEP_TIMEOUT_S} s, {STEP_MEMORY_MB} MB: {'PASS' if fits else 'FAIL'}")
    return 0 if fits else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="60 chorales, no orchestral run")
    parser.add_argument("--cost-only", action="store_true", help="the orchestral run only")
    args = parser.parse_args()

    if args.cost_only:
        return cost_report()
    keys_result = key_benchmark(60 if args.quick else None)
    print(f"Global key on {keys_result['chorales']} Bach chorales with a documented key ({keys_result['seconds']:.0f} s):")
    for name, value in keys_result["accuracy"].items():
        print(f"  {name:<55} {value:.3f}")
    print(f"  two-fold weights (ending, final chord) chosen per half: {keys_result['fold_weights']}")
    shipped = keys_result["accuracy"]["shipped: melody_scores"]
    ok = shipped >= TARGET_ACCURACY
    print(f"  target >= {TARGET_ACCURACY}: {'PASS' if ok else 'FAIL'}")

    if not args.quick:
        ok = cost_report() == 0 and ok
    print(f"\n(peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
