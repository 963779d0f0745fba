"""The search use case: catalog search, plus (``source=all``) a provider fan-out merged into it.

Provider hits are upserted into the catalog (de-duplicated by ISRC, else phonetic title key + a
shared artist + a duration within a few seconds), then the catalog search runs once more, so merged
results are ranked by one ranking and each song appears once. A slow or failing provider only changes its
entry in ``sources``; a search never fails because of one.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from melody.catalog.keys import dedup_keys, dedup_match
from melody.catalog.models import SearchPage, SongIn, SourceStatus
from melody.catalog.search import MAX_RECALL_CAP, search_catalog
from melody.core.observability import logger

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from melody.core.clock import Clock

_T = TypeVar("_T")


class ProviderFailure(Exception):
    def __init__(self, status: str, detail: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after_s = retry_after_s


class Provider(Protocol):
    """A music provider. One with a ``timeout`` attribute (seconds) gets that long for a search,
    else the service's shared ``provider_timeout_s``."""

    name: str

    async def search(self, query: str, *, language: str | None, limit: int) -> list[SongIn]: ...


class SearchCache(Protocol):
    def get(self, key: str, *, now: float) -> list[dict[str, Any]] | None: ...

    def put(self, key: str, value: list[dict[str, Any]], *, expires_at: float) -> None: ...


def cache_key(provider: str, query: str, language: str | None) -> str:
    basis = f"{provider}|{language or '-'}|{' '.join(query.lower().split())}"
    return f"search#{provider}#" + hashlib.sha256(basis.encode()).hexdigest()[:32]


class MusicSearchService:
    def __init__(
        self,
        catalog: Any,
        *,
        providers: Callable[[], list[Provider]],
        cache: Callable[[], SearchCache | None],
        clock: Clock,
        cache_ttl_s: int = 6 * 3600,
        provider_timeout_s: float = 2.5,
    ) -> None:
        self.catalog = catalog
        self._providers = providers
        self._cache = cache
        self.clock = clock
        self.cache_ttl_s = cache_ttl_s
        self.provider_timeout_s = provider_timeout_s

    def search(self, query: str, *, language: str | None, limit: int, offset: int, source: str) -> SearchPage:
        sources: dict[str, SourceStatus] = {}
        if source == "all":
            sources.update(self._fan_out(query, language, limit=max(10, limit)))
        # Deep pages (past the first recall window) recall up to MAX_RECALL_CAP candidates; the first
        # pages keep the default cost. ``need`` is one more than the page's end, to know of a next page.
        result = search_catalog(
            self.catalog, query, language=language, cap=MAX_RECALL_CAP, need=offset + limit + 1
        )
        sources = {"catalog": SourceStatus(status="ok", count=result.total), **sources}
        page = result.hits[offset : offset + limit]
        next_offset = offset + limit if offset + limit < result.total else None
        return SearchPage(hits=page, next_offset=next_offset, sources=sources)

    # --- providers -------------------------------------------------------------------------

    def _fan_out(self, query: str, language: str | None, *, limit: int) -> dict[str, SourceStatus]:
        providers = self._providers()
        if not providers:
            return {}
        cache = self._cache() if self.cache_ttl_s > 0 else None
        now = self.clock.now()
        statuses: dict[str, SourceStatus] = {}
        songs: list[SongIn] = []
        pending: list[Provider] = []
        for provider in providers:
            cached = None
            if cache is not None:
                try:
                    cached = cache.get(cache_key(provider.name, query, language), now=now)
                except Exception:  # a cache outage must not fail a search
                    logger.warning("search cache read failed", extra={"provider": provider.name})
            if cached is not None:
                hits = [SongIn.model_validate(h) for h in cached]
                songs.extend(hits)
                statuses[provider.name] = SourceStatus(status="cached", count=len(hits))
            else:
                pending.append(provider)
        if pending:
            results = _run(self._gather(pending, query, language, limit))
            for provider, outcome in zip(pending, results, strict=True):
                if isinstance(outcome, ProviderFailure):
                    statuses[provider.name] = SourceStatus(
                        status=outcome.status, detail=outcome.detail, retry_after_s=outcome.retry_after_s
                    )
                    continue
                songs.extend(outcome)
                statuses[provider.name] = SourceStatus(status="ok", count=len(outcome))
                if cache is not None:
                    try:
                        cache.put(
                            cache_key(provider.name, query, language),
                            [s.model_dump(mode="json") for s in outcome],
                            expires_at=now + self.cache_ttl_s,
                        )
                    except Exception:
                        logger.warning("search cache write failed", extra={"provider": provider.name})
        if songs:
            self._merge_into_catalog(songs)
        return statuses

    async def _gather(
        self, providers: list[Provider], query: str, language: str | None, limit: int
    ) -> list[list[SongIn] | ProviderFailure]:
        async def one(provider: Provider) -> list[SongIn] | ProviderFailure:
            timeout = self.timeout_of(provider)
            try:
                return await asyncio.wait_for(provider.search(query, language=language, limit=limit), timeout=timeout)
            except ProviderFailure as exc:
                return exc
            except TimeoutError:
                return ProviderFailure("timeout", f"no answer within {timeout:g} s")
            except Exception as exc:  # a provider bug or outage is a status, not a failed search
                logger.warning("provider failed", extra={"provider": provider.name, "error": type(exc).__name__})
                return ProviderFailure("error", type(exc).__name__)

        return await asyncio.gather(*(one(p) for p in providers))

    def timeout_of(self, provider: Provider) -> float:
        """The provider's own timeout (``build_providers`` sets it from the settings), else the shared one."""
        own = getattr(provider, "timeout", None)
        if isinstance(own, (int, float)) and not isinstance(own, bool) and own > 0:
            return float(own)
        return self.provider_timeout_s

    def _merge_into_catalog(self, songs: list[SongIn]) -> None:
        new: list[SongIn] = []
        for song in songs:
            existing = self.catalog.find_duplicate(song)
            if existing:
                for provider, ext in song.external_ids.items():
                    self.catalog.add_external_id(existing, provider, ext, song.external_urls.get(provider))
                continue
            kept = next((k for k in new if same_song(k, song)), None)
            if kept is not None:  # the same song from two providers: keep one, remember both ids
                kept.external_ids.update(song.external_ids)
                kept.external_urls.update(song.external_urls)
                kept.isrc = kept.isrc or song.isrc
                kept.duration_s = kept.duration_s or song.duration_s
                kept.language = kept.language or song.language
                continue
            new.append(song)
        if new:
            self.catalog.upsert_songs(new)


def same_song(a: SongIn, b: SongIn) -> bool:
    """Two provider hits for one song: same ISRC, else a shared title key, artist and close duration."""
    if a.isrc and a.isrc == b.isrc:
        return True
    if not set(dedup_keys(a.title, a.title_latin)) & set(dedup_keys(b.title, b.title_latin)):
        return False
    return dedup_match(a.artists, a.duration_s, b.artists, b.duration_s)


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
