"""Imports a JSON Lines catalogue (shaped like ``songs.jsonl``). Idempotent: upserts by track id."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from melody.catalog.models import TRACK_ID, SongIn
from melody.catalog.postgres.repository import CatalogRepository

if TYPE_CHECKING:
    from collections.abc import Iterable

    from melody.core.sql.executor import SqlExecutor


@dataclass
class LoadReport:
    loaded: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def parse_lines(lines: Iterable[str]) -> tuple[list[SongIn], list[tuple[int, str]]]:
    songs: list[SongIn] = []
    rejected: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            song = SongIn.model_validate(json.loads(line))
        except (ValueError, ValidationError) as exc:
            rejected.append((number, str(exc).splitlines()[0][:200]))
            continue
        if not song.id or not TRACK_ID.match(song.id):
            rejected.append((number, "missing or malformed `id` (expected trk_…)"))
            continue
        songs.append(song)
    return songs, rejected


def load_file(path: Path, repo: CatalogRepository) -> LoadReport:
    with Path(path).open(encoding="utf-8") as handle:
        songs, rejected = parse_lines(handle)
    return LoadReport(loaded=repo.upsert_songs(songs), rejected=rejected)


def ensure_catalog(executor: SqlExecutor, seed: Path | None) -> tuple[list[int], LoadReport | None]:
    """``melody dev``'s first-start step: migrate, then load the seed catalogue into an empty catalog."""
    from melody.catalog.postgres.migrations import migrate

    applied = migrate(executor)
    repo = CatalogRepository(executor)
    if seed is None or not Path(seed).is_file() or repo.count() > 0:
        return applied, None
    return applied, load_file(Path(seed), repo)
