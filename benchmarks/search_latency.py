"""Search latency on a grown catalogue: p50/p95 of the catalog search vs a plain ILIKE baseline.

Creates a scratch schema in ``DATABASE_URL`` (default: the local test server), loads the seed
catalogue plus generated songs (Hinglish/Tamil/English-like titles, some in Devanagari) up to
``--songs`` (default 100 000) through the normal upsert path (same keys as production), runs the
relevance queries plus generated prefix/typo queries, prints latency percentiles, drops the schema.

    .venv/bin/python benchmarks/search_latency.py [--songs 100000] [--keep SCHEMA]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
sys.path.insert(0, str(ROOT))

WORDS = (
    "dil pyaar ishq mohabbat tera mera tum hum zindagi sapna raat din chand sitare baarish saawan yaad "
    "dooriyan jaana aaja mahi sajna sanam yaara dosti khwab nazar jaadu rang gulabi naina aankhen "
    "kadhal nenjam uyire vaanam mazhai kanne anbe en un naan nee pudhu paattu kaalam "
    "love night heart fire summer dream light dance baby forever girl boy rain stars golden wild "
    "prema manasu chinuku gunde nuvvu nenu vela jeevitham sooryan kanavu nilave thendral"
).split()
DEVANAGARI = {"dil": "दिल", "pyaar": "प्यार", "ishq": "इश्क़", "tera": "तेरा", "mera": "मेरा", "tum": "तुम",
              "hum": "हम", "zindagi": "ज़िंदगी", "sapna": "सपना", "raat": "रात", "chand": "चाँद", "yaad": "याद"}
ARTISTS = [f"{a} {b}" for a in ("Arjun", "Priya", "Karthik", "Neha", "Vijay", "Sunidhi", "Rahul", "Anu", "Dev", "Meera")
           for b in ("Sharma", "Iyer", "Reddy", "Kapoor", "Nair", "Singh", "Das", "Rao", "Menon", "Gill")]
LANGS = ["hi", "hi", "hi", "ta", "te", "pa", "en", "en", "bn", "mr"]


def generated_songs(n: int, seed: int = 7):
    from melody.catalog.models import SongIn

    rng = random.Random(seed)
    for i in range(n):
        words = rng.sample(WORDS, rng.randint(1, 4))
        lang = rng.choice(LANGS)
        latin = " ".join(w.capitalize() for w in words)
        native = None
        if lang == "hi" and all(w in DEVANAGARI for w in words):
            native = " ".join(DEVANAGARI[w] for w in words)
        yield SongIn(
            id=f"trk_gen{i:08d}",
            title=native or latin,
            title_latin=latin if native is None or rng.random() < 0.5 else None,
            artists=rng.sample(ARTISTS, rng.randint(1, 2)),
            album=" ".join(rng.sample(WORDS, 2)).title(),
            language=lang,
            year=rng.randint(1960, 2025),
            duration_s=rng.randint(120, 420),
            popularity=int(rng.betavariate(2, 5) * 100),
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    import psycopg

    from benchmarks.search_relevance import QUERIES, SEED
    from melody.catalog.postgres.loader import ensure_catalog
    from melody.catalog.postgres.repository import CatalogRepository
    from melody.catalog.search import search_catalog
    from melody.core.sql.executor import PsycopgExecutor

    parser = argparse.ArgumentParser()
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--keep", help="reuse (and keep) this schema if it is already loaded")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    schema = args.keep or "bench_lat_" + uuid.uuid4().hex[:8]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    executor = PsycopgExecutor(url, schema=schema, pool_size=1)
    try:
        ensure_catalog(executor, SEED)
        repo = CatalogRepository(executor, batch_size=1000)
        have = repo.count()
        if have < args.songs:
            started = time.perf_counter()
            repo.upsert_songs(generated_songs(args.songs - have))
            print(f"loaded {args.songs - have} generated songs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        executor.execute("ANALYZE")
        total = repo.count()
        rng = random.Random(11)
        queries = [q for q, _, _ in QUERIES]
        queries += [" ".join(rng.sample(WORDS, 2)) for _ in range(40)]  # multi-word titles
        queries += [w[: rng.randint(2, 4)] for w in rng.sample(WORDS, 30)]  # 2-4 char prefixes
        queries += [w[:-1] + "x" for w in rng.sample([w for w in WORDS if len(w) > 5], 20)]  # typos
        for q in queries[:10]:  # warm caches
            search_catalog(repo, q, language=None)
            repo.ilike_baseline(q, language=None, limit=10)

        def timed(fn) -> list[float]:
            out = []
            for q in queries:
                t = time.perf_counter()
                fn(q)
                out.append((time.perf_counter() - t) * 1000)
            return out

        ours = timed(lambda q: search_catalog(repo, q, language=None))
        base = timed(lambda q: repo.ilike_baseline(q, language=None, limit=10))
        ours_lang = timed(lambda q: search_catalog(repo, q, language="hi"))
        print(f"catalog: {total} songs, {len(queries)} queries, PostgreSQL {executor.query('SHOW server_version')[0]['server_version']}")
        print(f"{'system':<28}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}")
        for name, values in (("melody search", ours), ("melody search language=hi", ours_lang), ("ILIKE baseline", base)):
            print(f"{name:<28}{statistics.median(values):>8.1f}{percentile(values, 0.95):>8.1f}{max(values):>8.1f}")
        return 0
    finally:
        executor.close()
        if not args.keep:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    sys.exit(main())
