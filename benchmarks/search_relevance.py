"""Search relevance: MRR@10 and recall@10 of the catalog search vs a plain ILIKE baseline.

Loads the seed catalogue into a scratch schema of ``DATABASE_URL`` (default: the local test
server), runs every query of QUERIES through both, prints a table and the two figures, and drops
the schema. Each query names the expected song by its catalogue title (unique in the seed).

    .venv/bin/python benchmarks/search_relevance.py [--verbose]
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
SEED = Path(os.environ.get("MELODY_SEED_CATALOG", ROOT.parent / "shared" / "catalog" / "songs.jsonl"))

# (query, expected catalogue title, kind)
QUERIES: list[tuple[str, str, str]] = [
    # romanised (Hinglish and other spellings) for native-script titles
    ("tum hee ho", "तुम ही हो", "roman→native"),
    ("tum hi ho", "तुम ही हो", "roman→native"),
    ("chahun main ya na", "चाहूँ मैं या ना", "roman→native"),
    ("chaahun mai ya naa", "चाहूँ मैं या ना", "roman→native"),
    ("channa mereya", "चन्ना मेरेया", "roman→native"),
    ("kesariya", "केसरिया", "roman→native"),
    ("kesaria", "केसरिया", "roman→native"),
    ("ilahi", "इलाही", "roman→native"),
    ("lag ja gale", "लग जा गले", "roman→native"),
    ("bekhayali", "बेख़याली", "roman→native"),
    ("naadan parinde", "नादान परिंदे", "roman→native"),
    ("kya hua tera wada", "क्या हुआ तेरा वादा", "roman→native"),
    ("tere sang yara", "तेरे संग यारा", "roman→native"),
    ("pyar hua ikrar hua", "प्यार हुआ इक़रार हुआ", "roman→native"),
    ("sheela ki jawani", "शीला की जवानी", "roman→native"),
    ("ranjha", "रांझा", "roman→native"),
    ("enjoy enjaami", "எஞ்சாய் எஞ்சாமி", "roman→native"),
    ("kaavaalaa", "காவாலா", "roman→native"),
    ("chinna chinna aasai", "சின்ன சின்ன ஆசை", "roman→native"),
    ("mannipaaya", "மன்னிப்பாயா", "roman→native"),
    ("naatu naatu", "నాటు నాటు", "roman→native"),
    ("saranga dariya", "సారంగ దరియా", "roman→native"),
    ("samajavaragamana", "సామజవరగమన", "roman→native"),
    ("laung laachi", "ਲੌਂਗ ਲਾਚੀ", "roman→native"),
    ("lahore", "ਲਾਹੌਰ", "roman→native"),
    ("tomake chai", "তোমাকে চাই", "roman→native"),
    ("coffee house er sei addata", "কফি হাউসের সেই আড্ডাটা", "roman→native"),
    ("zingaat", "झिंगाट", "roman→native"),
    ("varaha roopam", "ವರಾಹ ರೂಪಂ", "roman→native"),
    ("harimuraleeravam", "ഹരിമുരളീരവം", "roman→native"),
    ("gangnam style", "강남스타일", "roman→native"),
    ("senbonzakura", "千本桜", "roman→native"),
    ("tamally maak", "تملي معاك", "roman→native"),
    # native script for Latin (or native) titles
    ("सुन रहा है", "Sun Raha Hai", "native→roman"),
    ("तुम ही हो", "तुम ही हो", "native"),
    ("कबीरा", "Kabira", "native→roman"),
    ("केसरिया", "केसरिया", "native"),
    ("गेरुआ", "Gerua", "native→roman"),
    ("ஹுகும்", "Hukum", "native→roman"),
    ("ਕਿਸਮਤ", "ਕਿਸਮਤ", "native"),
    ("千本桜", "千本桜", "native"),
    ("강남스타일", "강남스타일", "native"),
    # typos
    ("kolavari di", "Why This Kolaveri Di", "typo"),
    ("despasito", "Despacito", "typo"),
    ("levitatin", "Levitating", "typo"),
    ("wonderwal", "Wonderwall", "typo"),
    ("shape of yu", "Shape of You", "typo"),
    ("chandelir", "Chandelier", "typo"),
    ("kesareeya", "केसरिया", "typo"),
    ("srivali", "Srivalli", "typo"),
    ("raatan lambiya", "Raataan Lambiyan", "typo"),
    # partial titles / prefixes
    ("kolaveri", "Why This Kolaveri Di", "partial"),
    ("ae dil hai", "Ae Dil Hai Mushkil", "partial"),
    ("dil chahta", "दिल चाहता है", "partial"),
    ("kuch kuch", "कुछ कुछ होता है", "partial"),
    ("bohemian", "Bohemian Rhapsody", "partial"),
    ("waka waka", "Waka Waka (Esto es África)", "partial"),
    ("naatu", "నాటు నాటు", "partial"),
    ("kes", "केसरिया", "prefix"),
    ("wonderw", "Wonderwall", "prefix"),
    ("desp", "Despacito", "prefix"),
    # artist + title
    ("arijit tum hi ho", "तुम ही हो", "artist+title"),
    ("arijit singh kesariya", "केसरिया", "artist+title"),
    ("dhanush kolaveri", "Why This Kolaveri Di", "artist+title"),
    ("ed sheeran shape of you", "Shape of You", "artist+title"),
    ("queen bohemian rhapsody", "Bohemian Rhapsody", "artist+title"),
    ("psy gangnam", "강남스타일", "artist+title"),
    ("lata lag ja gale", "लग जा गले", "artist+title"),
    ("sid sriram srivalli", "Srivalli", "artist+title"),
]


def main(verbose: bool = False) -> int:
    import psycopg

    from melody.catalog.postgres.loader import ensure_catalog
    from melody.catalog.postgres.repository import CatalogRepository
    from melody.catalog.search import search_catalog
    from melody.core.sql.executor import PsycopgExecutor

    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    schema = "bench_rel_" + uuid.uuid4().hex[:8]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    executor = PsycopgExecutor(url, schema=schema)
    try:
        ensure_catalog(executor, SEED)
        repo = CatalogRepository(executor)
        by_title: dict[str, str] = {}
        for line in SEED.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            by_title.setdefault(row["title"], row["id"])
        missing = [title for _, title, _ in QUERIES if title not in by_title]
        if missing:
            print(f"expected titles absent from the seed: {missing}", file=sys.stderr)
            return 2

        def metrics(ranked_for) -> tuple[float, float, list]:
            rr, hits, misses = 0.0, 0, []
            for query, title, kind in QUERIES:
                ranked = ranked_for(query)[:10]
                expected = by_title[title]
                if expected in ranked:
                    hits += 1
                    rr += 1 / (ranked.index(expected) + 1)
                    if ranked.index(expected) > 0:
                        misses.append((query, kind, f"rank {ranked.index(expected) + 1}"))
                else:
                    misses.append((query, kind, "not in top 10"))
            return rr / len(QUERIES), hits / len(QUERIES), misses

        ours = metrics(lambda q: [h.track.id for h in search_catalog(repo, q, language=None).hits])
        base = metrics(lambda q: repo.ilike_baseline(q, language=None, limit=10))
        kinds = sorted({k for _, _, k in QUERIES})
        print(f"queries: {len(QUERIES)} ({', '.join(f'{k}: {sum(1 for *_, x in QUERIES if x == k)}' for k in kinds)})")
        print(f"{'system':<22}{'MRR@10':>8}{'recall@10':>11}")
        print(f"{'melody search':<22}{ours[0]:>8.3f}{ours[1]:>11.3f}")
        print(f"{'ILIKE baseline':<22}{base[0]:>8.3f}{base[1]:>11.3f}")
        if verbose or ours[2]:
            for query, kind, what in ours[2]:
                print(f"  melody: {query!r} ({kind}): {what}")
        return 0
    finally:
        executor.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    sys.exit(main("--verbose" in sys.argv))
