"""Uploads as songs: titles, download names, the catalog match, success bookkeeping, quota, retry."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from melody.catalog.models import SearchHit, SearchPage, Track
from melody.conversions.completion import CompletionRecorder
from melody.conversions.matching import CatalogTrackMatcher
from melody.conversions.models import Job, execution_name
from melody.conversions.service import display_title, download_name
from melody.conversions.steps import song_tags
from melody.core.errors import Conflict, InvalidInput
from tests.unit.conversions.test_job_service import MemoryJobs, make


def test_titles_keep_the_users_characters_and_download_names_drop_only_unsafe_ones():
    assert display_title("C:\\music\\मेरा गाना: draft?.MP3") == "मेरा गाना: draft?"
    assert display_title(".wav") == "Untitled"
    assert download_name('तुम / "Final"*') == "तुम Final"
    assert download_name("...") == "song"


def test_tags_are_read_from_the_container_or_the_stream_in_any_case():
    info = {"format": {"tags": {"TITLE": "  Tum  Hi Ho "}}, "audio_stream": {"tags": {"Artist": "Arijit Singh", "title": "x"}}}
    assert song_tags(info) == {"title": "Tum Hi Ho", "artist": "Arijit Singh"}
    assert song_tags({}) == {}


def _track(track_id, title, artists, duration):
    return Track(id=track_id, title=title, title_latin=None, artists=artists, album=None, language=None, duration_s=duration)


class FakeSearch:
    def __init__(self, tracks):
        self.tracks, self.queries = tracks, []

    def search(self, query, *, language, limit, offset, source):
        self.queries.append((query, source))
        return SearchPage(hits=[SearchHit(track=t, score=1.0, matched=[]) for t in self.tracks], next_offset=None, sources={})


def test_the_match_needs_the_title_artist_and_a_close_duration_and_searches_the_catalog_only():
    search = FakeSearch([_track("trk_long", "Tum Hi Ho", ["Arijit Singh"], 400), _track("trk_good", "Tum Hi Ho", ["Arijit Singh"], 262)])
    found = CatalogTrackMatcher(search).match(title="tum hi ho", artist="Arijit Singh", duration_s=260.5)
    assert found is not None and found.track_id == "trk_good"
    assert all(source == "catalog" for _, source in search.queries)
    assert CatalogTrackMatcher(search).match(title="tum hi ho", artist="Someone Else", duration_s=None) is None
    assert CatalogTrackMatcher(search).match(title="Other Song", artist=None, duration_s=None) is None


def _job(**kw):
    base = {"job_id": "job_a1", "user_id": "usr_a1", "status": "processing", "bucket": "b", "key": "k"}
    base.update(created_at=1.0, updated_at=1.0)
    return Job.model_validate({**base, **kw})


class Refs:
    def __init__(self):
        self.refs = set()

    def add_ref(self, result_key, job_id):
        self.refs.add((result_key, job_id))


class Library:
    def __init__(self):
        self.put = []

    def put_upload(self, job, *, now):
        self.put.append(job.job_id)


def test_success_counts_the_reference_and_adds_an_upload_to_the_library_even_on_a_retried_step():
    jobs, refs, lib = MemoryJobs(), Refs(), Library()
    jobs.create(_job())
    recorder = CompletionRecorder(jobs, refs, lib, SimpleNamespace(now=lambda: 5.0))
    done = {"status": "succeeded", "result_key": "h#dsp"}
    assert recorder.transition("job_a1", allowed_from={"processing"}, changes=done)
    assert not recorder.transition("job_a1", allowed_from={"processing"}, changes=done)  # a retried persist
    assert refs.refs == {("h#dsp", "job_a1")} and lib.put == ["job_a1", "job_a1"]  # idempotent writes


def test_execution_names_of_retries_differ():
    assert execution_name(_job()) == "job_a1" and execution_name(_job(attempt=2)) == "job_a1-r2"


def test_the_quota_counts_stored_bytes_and_names_the_limit():
    service, jobs, *_ = make(max_bytes=10_000, storage_quota_bytes=15_000)
    jobs.stored_bytes = lambda user_id, *, pending_since: 9_000
    with pytest.raises(InvalidInput) as refused:
        service.create_upload("usr_a1", filename="a.mp3", content_type="audio/mpeg", size_bytes=7_000, engine=None)
    assert refused.value.code == "storage_quota_exceeded" and refused.value.details["limit_bytes"] == 15_000
    service.create_upload("usr_a1", filename="a.mp3", content_type="audio/mpeg", size_bytes=6_000, engine=None)


def test_only_failed_jobs_with_a_kept_original_and_no_input_error_are_retried():
    service, jobs, *_ = make()
    jobs.create(_job(status="failed", source="upload", error={"code": "not_audio", "message": "x"}, original_key="o"))
    with pytest.raises(Conflict) as refused:
        service.retry("usr_a1", "job_a1")
    assert refused.value.code == "not_retryable"
    jobs.items["job_a1"] = _job(status="succeeded")
    with pytest.raises(Conflict):
        service.retry("usr_a1", "job_a1")
