"""Natural-language query interpretation: field-level precision/recall, fully correct share, parse time.

The labelled set is ``benchmarks/nl_query_set.jsonl`` (English, Hinglish, native and mixed script;
``split``: train and test were written before the parser, but by the same hand that then wrote its
lexicon, so they overstate; ``fresh`` was written after the parser was frozen and never tuned on: the
honest figure). Compared in the same
run with a keyword-only baseline (single words looked up in the same lexicon, no tokens rules, no
phrases, no tempo/key/era parsing, no transliteration).

    .venv/bin/python benchmarks/nl_query.py [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))

SET = Path(__file__).resolve().parent / "nl_query_set.jsonl"
FIELDS = ("language", "bpm", "key", "camelot", "energy", "mood", "era", "artists", "similar_to", "genre")


def _norm(name: str, value: Any) -> Any:
    if value in (None, [], {}):
        return None
    if name == "artists":
        return tuple(sorted(value))
    if isinstance(value, dict):
        return tuple(sorted((k, None if v is None else round(float(v), 3)) for k, v in value.items()))
    return value


def interpretation_fields(interpretation: dict[str, Any]) -> dict[str, Any]:
    return {f: v for f in FIELDS if (v := _norm(f, interpretation.get(f))) is not None}


class KeywordBaseline:
    """One word at a time against the same lexicon (exact spelling): what a keyword lookup gets."""

    def __init__(self) -> None:
        from melody.developer.interpret.lexicon import LANGUAGES, PHRASES

        self.words = {w: {"language": c} for w, c in LANGUAGES.items()} | {w: e for w, e in PHRASES.items() if " " not in w}

    def interpret(self, text: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for word in text.lower().split():
            for name, value in self.words.get(word.strip(".,!?"), {}).items():
                name = {"weak_genre": "genre", "weak_era": "era"}.get(name, name)
                if name == "default_language":
                    continue
                if name in ("bpm", "energy"):
                    value = {"min": value[0], "max": value[1]}
                out.setdefault(name, value)
        return out


def score(items: list[dict[str, Any]], predict: Any) -> dict[str, Any]:
    tp = {f: 0 for f in FIELDS}
    fp = {f: 0 for f in FIELDS}
    fn = {f: 0 for f in FIELDS}
    correct, misses = 0, []
    for item in items:
        got = interpretation_fields(predict(item["text"]))
        want = interpretation_fields(item["expected"])
        for f in FIELDS:
            if f in got and got.get(f) == want.get(f):
                tp[f] += 1
            else:
                if f in got:
                    fp[f] += 1
                if f in want:
                    fn[f] += 1
        if got == want:
            correct += 1
        else:
            misses.append((item["text"], want, got))
    p = sum(tp.values()) / max(1, sum(tp.values()) + sum(fp.values()))
    r = sum(tp.values()) / max(1, sum(tp.values()) + sum(fn.values()))
    per_field = {f: (tp[f] / max(1, tp[f] + fp[f]), tp[f] / max(1, tp[f] + fn[f]), tp[f] + fn[f]) for f in FIELDS}
    return {"n": len(items), "precision": p, "recall": r, "correct": correct / max(1, len(items)),
            "per_field": per_field, "misses": misses}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    from melody.developer.interpret.rules import RulesInterpreter

    parser = argparse.ArgumentParser()
    parser.add_argument("--show-misses", choices=["train", "test", "fresh"], help="print the misses of one split")
    args = parser.parse_args()
    items = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    rules = RulesInterpreter()
    baseline = KeywordBaseline()

    def parse(text: str) -> dict[str, Any]:
        return rules.interpret(text).interpretation.model_dump()

    print(f"{len(items)} labelled queries: " + ", ".join(
        f"{k} {sum(1 for i in items if i['kind'] == k)}" for k in ("en", "hinglish", "native", "mixed")))
    print(f"{'split':<8} {'interpreter':<18} {'n':>4} {'precision':>9} {'recall':>7} {'fully correct':>14}")
    results = {}
    for split in ("train", "test", "fresh", "all"):
        subset = [i for i in items if split == "all" or i["split"] == split]
        for name, fn in (("keyword baseline", baseline.interpret), ("rules", parse)):
            s = score(subset, fn)
            results[(split, name)] = s
            print(f"{split:<8} {name:<18} {s['n']:>4} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['correct']:>14.3f}")
    print("\nper field (all, rules): precision / recall / labelled")
    for f, (p, r, n) in results[("all", "rules")]["per_field"].items():
        print(f"  {f:<11} {p:5.2f} {r:5.2f} {n:4d}")
    for level in ("easy", "hard"):
        subset = [i for i in items if i["level"] == level]
        print(f"{level}: fully correct {score(subset, parse)['correct']:.3f} (n={len(subset)})")

    texts = [i["text"] for i in items]
    for text in texts * 3:  # warm up
        rules.interpret(text)
    timings: dict[str, list[float]] = {"rules": [], "keyword baseline": []}
    runners: tuple[tuple[str, Any], ...] = (("rules", rules.interpret), ("keyword baseline", baseline.interpret))
    for _ in range(20):
        for text in texts:
            for name, fn in runners:
                t0 = time.perf_counter()
                fn(text)
                timings[name].append((time.perf_counter() - t0) * 1000)
    for name, values in timings.items():
        print(f"parse time {name:<17} p50 {percentile(values, 0.5):.3f} ms  p95 {percentile(values, 0.95):.3f} ms"
              f"  max {max(values):.3f} ms  ({len(values)} parses)")
    if args.show_misses:
        print(f"\nmisses ({args.show_misses}):")
        for text, want, got in results[(args.show_misses, "rules")]["misses"]:
            print(f"  {text!r}\n     want {want}\n     got  {got}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
