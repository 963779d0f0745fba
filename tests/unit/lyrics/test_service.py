"""The lyrics service on fakes: attached first, provider cached, failures reported, owners only."""

from __future__ import annotations

import asyncio

import pytest

from melody.catalog.service import ProviderFailure
from melody.core.errors import InvalidInput, NotFound
from melody.lyrics.ports import FoundLyrics, LyricsQuery, SongRef
from melody.lyrics.service import LyricsService, transliterate


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def now(self) -> float:
        return self.t


class MemoryStore:
    def __init__(self) -> None:
        self.cache: dict[str, tuple[dict, float]] = {}
        self.attached: dict[tuple[str, str], dict] = {}

    def get_cached(self, key, *, now):
        value = self.cache.get(key)
        return dict(value[0]) if value and value[1] > now else None

    def put_cached(self, key, value, *, expires_at):
        self.cache[key] = (dict(value), expires_at)

    def get_attached(self, user_id, track_id):
        return self.attached.get((user_id, track_id))

    def put_attached(self, user_id, track_id, value):
        self.attached[(user_id, track_id)] = dict(value)

    def delete_attached(self, user_id, track_id):
        return self.attached.pop((user_id, track_id), None) is not None


class Songs:
    """trk_tumhiho in the catalog; job_mine belongs to usr_a."""

    def song(self, user_id, track_id):
        if track_id == "trk_tumhiho":
            return SongRef(track_id, "Tum Hi Ho", ["Arijit Singh"], "Aashiqui 2", 262.0)
        if track_id == "job_mine" and user_id == "usr_a":
            return SongRef(track_id, "My take", ["Me"], None, 30.0)
        if track_id == "job_untagged" and user_id == "usr_a":
            return SongRef(track_id, None, [], None, 30.0)
        return None


class FakeProvider:
    name = "lrclib"

    def __init__(self, answer=None, error: Exception | None = None, delay: float = 0.0) -> None:
        self.answer = answer
        self.error = error
        self.delay = delay
        self.calls: list[LyricsQuery] = []

    async def lyrics(self, query):
        self.calls.append(query)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error:
            raise self.error
        return self.answer


SYNCED = FoundLyrics(synced="[00:01.00]तुम ही हो\n[00:03.50]Plain English", plain="तुम ही हो\nPlain English")


def service(provider=None, store=None, **kw) -> tuple[LyricsService, MemoryStore, FakeClock]:
    store = store or MemoryStore()
    clock = FakeClock()
    return LyricsService(store, Songs(), provider=lambda: provider, clock=clock, **kw), store, clock


def test_indic_lines_carry_a_latin_transliteration_and_latin_lines_none():
    assert transliterate("तुम ही हो") == "tum hee ho"
    assert transliterate("Plain English") is None
    assert transliterate("கண்ணே") and transliterate("கண்ணே").isascii()


def test_provider_lyrics_are_synced_transliterated_and_cached():
    provider = FakeProvider(SYNCED)
    svc, store, clock = service(provider)
    first = svc.get("usr_a", "trk_tumhiho")
    assert first.source == "lrclib" and first.synced and first.provider_status == "ok"
    assert [(line.t, line.text, line.latin) for line in first.lines] == [
        (1.0, "तुम ही हो", "tum hee ho"), (3.5, "Plain English", None),
    ]  # fmt: skip
    assert provider.calls == [LyricsQuery("Tum Hi Ho", "Arijit Singh", "Aashiqui 2", 262.0)]
    again = svc.get("usr_b", "trk_tumhiho")  # another user: the same cached answer, no second call
    assert again.lines == first.lines and len(provider.calls) == 1
    clock.t += 8 * 24 * 3600  # past the week's TTL: asked again
    svc.get("usr_a", "trk_tumhiho")
    assert len(provider.calls) == 2


def test_not_found_is_cached_for_a_day_only():
    provider = FakeProvider(None)
    svc, _, clock = service(provider)
    lyrics = svc.get("usr_a", "trk_tumhiho")
    assert lyrics.source == "none" and lyrics.lines == [] and lyrics.provider_status == "not_found"
    svc.get("usr_a", "trk_tumhiho")
    assert len(provider.calls) == 1
    clock.t += 24 * 3600 + 1
    svc.get("usr_a", "trk_tumhiho")
    assert len(provider.calls) == 2


@pytest.mark.parametrize(
    ("provider", "status"),
    [
        (FakeProvider(error=ProviderFailure("error", "lrclib: ConnectError")), "error"),
        (FakeProvider(error=ProviderFailure("rate_limited", "slow down", retry_after_s=30)), "rate_limited"),
        (FakeProvider(SYNCED, delay=1.0), "timeout"),
        (None, "skipped"),
    ],
)
def test_offline_and_failing_providers_answer_no_lyrics_and_are_not_cached(provider, status):
    svc, store, _ = service(provider, provider_timeout_s=0.05)
    lyrics = svc.get("usr_a", "trk_tumhiho")
    assert (lyrics.source, lyrics.lines, lyrics.provider_status) == ("none", [], status)
    assert store.cache == {}


def test_plain_lyrics_when_the_synced_ones_are_malformed():
    svc, _, _ = service(FakeProvider(FoundLyrics(synced="[99:99]broken", plain="line one\n\nline two")))
    lyrics = svc.get("usr_a", "trk_tumhiho")
    assert lyrics.source == "lrclib" and not lyrics.synced
    assert [(line.t, line.text) for line in lyrics.lines] == [(None, "line one"), (None, "line two")]


def test_an_untagged_upload_asks_no_provider():
    provider = FakeProvider(SYNCED)
    svc, _, _ = service(provider)
    assert svc.get("usr_a", "job_untagged").provider_status == "not_found"
    assert provider.calls == []


def test_attached_lyrics_win_and_are_the_owners_only():
    provider = FakeProvider(SYNCED)
    svc, store, _ = service(provider)
    attached = svc.attach("usr_a", "trk_tumhiho", "[offset:100]\n[00:02.00]मेरी आशिक़ी\n[00:04.00]mine")
    assert attached.source == "user" and attached.offset_ms == 100 and attached.lines[0].t == 1.9
    assert attached.lines[0].latin and attached.lines[0].latin.isascii()
    mine = svc.get("usr_a", "trk_tumhiho")
    assert mine.source == "user" and [line.text for line in mine.lines] == ["मेरी आशिक़ी", "mine"]
    assert provider.calls == []
    theirs = svc.get("usr_b", "trk_tumhiho")  # usr_b sees the provider's, never usr_a's
    assert theirs.source == "lrclib"
    svc.detach("usr_a", "trk_tumhiho")
    assert svc.get("usr_a", "trk_tumhiho").source == "lrclib"
    with pytest.raises(NotFound) as info:
        svc.detach("usr_a", "trk_tumhiho")
    assert info.value.code == "lyrics_not_attached"


def test_another_users_upload_is_no_such_song():
    svc, store, _ = service(FakeProvider(SYNCED))
    svc.attach("usr_a", "job_mine", "[00:01.00]la")
    for call in (lambda: svc.get("usr_b", "job_mine"), lambda: svc.attach("usr_b", "job_mine", "[00:01.00]x"),
                 lambda: svc.detach("usr_b", "job_mine"), lambda: svc.get("usr_a", "trk_unknown")):  # fmt: skip
        with pytest.raises(NotFound) as info:
            call()
        assert info.value.code == "track_not_found"
    assert list(store.attached) == [("usr_a", "job_mine")]


def test_invalid_lrc_is_a_422_with_the_line():
    svc, store, _ = service(None)
    with pytest.raises(InvalidInput) as info:
        svc.attach("usr_a", "trk_tumhiho", "[00:01.00]ok\n[00:99.00]bad")
    assert info.value.code == "invalid_lrc" and info.value.details == {"line": 2}
    with pytest.raises(InvalidInput) as info:
        svc.attach("usr_a", "trk_tumhiho", "no times at all")
    assert info.value.code == "lrc_not_synced"
    assert store.attached == {}
