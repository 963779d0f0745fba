"""The developer and B2B routes over fakes: auth both ways, headers on every answer, isolation, analyze."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Header
from fastapi.testclient import TestClient

from melody.conversions.models import Job
from melody.core.errors import NotFound
from melody.developer.search_schemas import Interpretation, NextPage, QueryResult, TrackHit, TrackPage
from tests.unit.developer.fakes_keys import MovableClock, developer_service

HIT = TrackHit(id="trk_000000000001", title="Song", bpm=120.0, key="A minor", camelot="8A", energy=0.7)


class FakeFinder:
    def __init__(self) -> None:
        self.filters: Any = None

    def query(self, text: str, limit: int) -> QueryResult:
        return QueryResult(
            interpretation=Interpretation(camelot="8A"), confidence=0.9, interpreter="rules", items=[HIT][:limit]
        )

    def tracks(self, filters: Any, limit: int, cursor: str | None) -> TrackPage:
        self.filters = filters
        return TrackPage(items=[HIT])

    def next_tracks(self, track_id: str, limit: int) -> NextPage:
        if track_id != HIT.id:
            raise NotFound("No such track.", code="track_not_found")
        return NextPage(track=HIT, items=[HIT.model_copy(update={"reasons": ["same key"], "score": 0.9})])


class FakeJobs:
    max_upload_bytes = 1000

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.created: list[dict[str, Any]] = []

    def create_upload(self, user_id: str, **kw: Any) -> tuple[Job, dict[str, Any]]:
        self.created.append(kw)
        job_id = f"job_{len(self.jobs):020d}"
        job = Job(job_id=job_id, user_id=user_id, status="awaiting_upload", bucket="b", key=f"uploads/{user_id}/{job_id}/x",
                  created_at=1, updated_at=1, client=kw.get("client", "app"), separate=kw.get("separate", True))  # fmt: skip
        self.jobs[job_id] = job
        return job, {"url": "http://s3/upload", "fields": {"key": job.key}, "expires_in": 900}

    def get_for_user(self, user_id: str, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.user_id != user_id:
            raise NotFound("No such job.", code="job_not_found")
        return job

    def result_links(self, job: Job) -> dict[str, Any] | None:
        if job.status != "succeeded":
            return None
        links = {
            "analysis": {"duration_s": 30.0, "tempo": {"bpm": 120.0}, "key": {"tonic": "A", "mode": "minor", "camelot": "8A"}},
            "waveform_url": "http://s3/wave", "instrumental_url": "http://s3/inst", "vocals_url": "http://s3/voc",
        }  # fmt: skip
        if not job.separate:  # as JobService.result_links: an analysis-only job has no stem links
            del links["instrumental_url"], links["vocals_url"]
        return links

    def succeed(self, job_id: str, content_hash: str) -> None:
        self.jobs[job_id] = self.jobs[job_id].model_copy(update={"status": "succeeded", "content_hash": content_hash})


@pytest.fixture()
def world():
    from melody.api.apps import developer_app
    from melody.api.deps import current_user_id
    from melody.core.services import Services
    from melody.core.settings import DeveloperSettings

    clock = MovableClock()
    service, store, meter = developer_service(clock=clock, free_rate=3, self_serve_plans=("free", "pro"))
    services = Services(DeveloperSettings(stage="test"), clock=clock)
    services.__dict__.update(developer=service, track_finder=FakeFinder(), jobs=FakeJobs())
    app = developer_app(services)

    def fake_user(x_test_user: Annotated[str, Header()]) -> str:
        return x_test_user

    app.dependency_overrides[current_user_id] = fake_user
    with TestClient(app) as client:
        yield client, services, clock, meter


def _key(client: TestClient, user: str = "usr_a", plan: str = "free") -> dict[str, Any]:
    r = client.post("/api/v1/developer/keys", json={"name": "app", "plan": plan}, headers={"x-test-user": user})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_shows_the_key_once_and_the_list_never(world):
    client, *_ = world
    created = _key(client)
    assert created["key"].startswith("mk_live_") and created["plan"]["name"] == "free"
    listed = client.get("/api/v1/developer/keys", headers={"x-test-user": "usr_a"}).json()["items"]
    assert [k["key_id"] for k in listed] == [created["key_id"]]
    assert "key" not in listed[0] and created["key"] not in str(listed)
    assert client.get("/api/v1/developer/keys", headers={"x-test-user": "usr_b"}).json()["items"] == []


def test_b2b_needs_a_key_and_accepts_both_headers(world):
    client, *_ = world
    key = _key(client)["key"]
    missing = client.post("/api/v1/b2b/query", json={"text": "chill"})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_api_key"
    assert missing.headers["www-authenticate"].startswith("ApiKey")
    bearer = client.post("/api/v1/b2b/query", json={"text": "chill"}, headers={"Authorization": "Bearer " + key})
    assert bearer.status_code == 401
    ok = client.post("/api/v1/b2b/query", json={"text": "chill"}, headers={"X-API-Key": key})
    assert ok.status_code == 200 and ok.json()["interpretation"]["camelot"] == "8A"
    ok2 = client.post("/api/v1/b2b/query", json={"text": "chill"}, headers={"Authorization": "ApiKey " + key})
    assert ok2.status_code == 200


def test_every_b2b_answer_carries_the_rate_headers_errors_included(world):
    client, _, clock, _ = world
    key = {"X-API-Key": _key(client)["key"]}
    ok = client.get("/api/v1/b2b/tracks", params={"compatible_with": "8a"}, headers=key)
    assert ok.status_code == 200 and ok.headers["ratelimit-limit"] == "3" and ok.headers["ratelimit-remaining"] == "2"
    missing = client.get("/api/v1/b2b/tracks/trk_999999999999/next", headers=key)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "track_not_found"
    assert missing.headers["ratelimit-remaining"] == "1" and "ratelimit-reset" in missing.headers
    invalid = client.get("/api/v1/b2b/tracks", params={"camelot": "13C"}, headers=key)
    assert invalid.status_code == 422 and invalid.headers["ratelimit-remaining"] == "0"
    limited = client.post("/api/v1/b2b/query", json={"text": "x"}, headers=key)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert limited.headers["retry-after"] == "1" and limited.headers["ratelimit-remaining"] == "0"
    clock.t += 1
    assert client.post("/api/v1/b2b/query", json={"text": "x"}, headers=key).status_code == 200


def test_filters_reach_the_finder_validated(world):
    client, services, _, _ = world
    key = {"X-API-Key": _key(client, plan="pro")["key"]}
    r = client.get("/api/v1/b2b/tracks", params={"bpm_min": 100, "bpm_max": 130, "compatible_with": "8a"}, headers=key)
    assert r.status_code == 200
    assert services.track_finder.filters.compatible_with == "8A" and services.track_finder.filters.bpm_max == 130
    nxt = client.get(f"/api/v1/b2b/tracks/{HIT.id}/next", headers=key).json()
    assert nxt["items"][0]["reasons"] == ["same key"]


def test_revoked_key_is_refused_at_once(world):
    client, *_ = world
    created = _key(client)
    key = {"X-API-Key": created["key"]}
    assert client.post("/api/v1/b2b/query", json={"text": "x"}, headers=key).status_code == 200
    other = client.delete(f"/api/v1/developer/keys/{created['key_id']}", headers={"x-test-user": "usr_b"})
    assert other.status_code == 404 and other.json()["error"]["code"] == "api_key_not_found"
    gone = client.delete(f"/api/v1/developer/keys/{created['key_id']}", headers={"x-test-user": "usr_a"})
    assert gone.status_code == 204
    refused = client.post("/api/v1/b2b/query", json={"text": "x"}, headers=key)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"


def test_usage_counts_per_day_and_only_the_callers_keys(world):
    client, *_ = world
    a = {"X-API-Key": _key(client, "usr_a", "pro")["key"]}
    _key(client, "usr_b", "pro")
    for _ in range(3):
        client.post("/api/v1/b2b/query", json={"text": "x"}, headers=a)
    mine = client.get("/api/v1/developer/usage", headers={"x-test-user": "usr_a"}).json()
    assert mine["calls"] == 3 and len(mine["days"]) == 30 and mine["days"][-1]["calls"] == 3
    theirs = client.get("/api/v1/developer/usage", headers={"x-test-user": "usr_b"}).json()
    assert theirs["calls"] == 0 and len(theirs["keys"]) == 1 and theirs["keys"][0]["calls"] == 0
    bad = client.get("/api/v1/developer/usage", params={"from": "2026-02-01", "to": "2026-01-01"}, headers={"x-test-user": "usr_a"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_date_range"
    # A number is not a date (pydantic alone reads 0 as 1970-01-01: found by contract fuzzing).
    for value in ("0", "1700000000", "2026-1-5"):
        odd = client.get("/api/v1/developer/usage", params={"to": value}, headers={"x-test-user": "usr_a"})
        assert odd.status_code == 422 and odd.json()["error"]["code"] == "invalid_date_range", (value, odd.text)
    notmine = client.get("/api/v1/developer/usage", params={"key_id": mine["keys"][0]["key_id"]}, headers={"x-test-user": "usr_b"})
    assert notmine.status_code == 404


def test_analyze_hides_stems_unless_asked_and_bills_each_audio_once_per_key(world):
    client, services, _, meter = world
    key = {"X-API-Key": _key(client, plan="pro")["key"]}
    body = {"filename": "a.mp3", "content_type": "audio/mpeg", "size_bytes": 100}
    plain = client.post("/api/v1/b2b/analyze", json=body, headers=key).json()
    stems = client.post("/api/v1/b2b/analyze", json={**body, "stems": True}, headers=key).json()
    assert plain["status"] == "awaiting_upload" and plain["upload"]["url"] and not plain["stems_requested"]
    pending = client.get(f"/api/v1/b2b/analyze/{plain['job_id']}", headers=key).json()
    assert pending["analysis"] is None and pending["billed"] is None
    services.jobs.succeed(plain["job_id"], "hash1")
    services.jobs.succeed(stems["job_id"], "hash1")  # the same audio again: shared, not billed again
    done = client.get(f"/api/v1/b2b/analyze/{plain['job_id']}", headers=key).json()
    assert done["analysis"]["key"]["camelot"] == "8A" and done["waveform_url"] and done["instrumental_url"] is None
    assert done["billed"] is True
    again = client.get(f"/api/v1/b2b/analyze/{stems['job_id']}", headers=key).json()
    assert again["billed"] is False and again["instrumental_url"] and again["vocals_url"]
    assert sum(row.analyses for row in meter.days_.values()) == 1
    # analysis only unless the stems are asked for (issue 11): the job says so, and is an API job
    assert [(c["client"], c["separate"]) for c in services.jobs.created] == [("api", False), ("api", True)]
    # another user's key cannot read it
    other = {"X-API-Key": _key(client, "usr_b", "pro")["key"]}
    assert client.get(f"/api/v1/b2b/analyze/{plain['job_id']}", headers=other).status_code == 404


def test_openapi_documents_the_api_key_scheme_on_b2b_only(world):
    client, *_ = world
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": doc["components"]["securitySchemes"]["ApiKey"]["description"],
    }  # fmt: skip
    for path, item in doc["paths"].items():
        for op in item.values():
            schemes = {name for req in op.get("security", []) for name in req}
            assert schemes == ({"ApiKey"} if path.startswith("/api/v1/b2b/") else {"HTTPBearer"}), path
    assert "RateLimit-Remaining" in doc["paths"]["/api/v1/b2b/query"]["post"]["responses"]["200"]["headers"]
