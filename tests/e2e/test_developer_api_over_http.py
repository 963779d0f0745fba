"""Issue 11's Done-when over HTTP against ``melody dev``: a user creates a key; the key calls query,
tracks, next and analyze; over the plan's rate is 429 with the headers; a revoked key is 401 at once;
another user's usage is invisible.

The session stack runs with ``MELODY_PLAN_FREE_RATE_PER_S=2`` and pro keys self-serve (tests/e2e/conftest.py).
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.songs import song_wav

pytestmark = pytest.mark.e2e


def signed_in(stack) -> httpx.Client:
    api = httpx.Client(base_url=f"{stack.base_url}/api/v1", timeout=30)
    phone = "9" + "".join(random.choice("0123456789") for _ in range(9))
    since = stack.mark()
    cid = api.post("/auth/request-otp", json={"phone_number": phone}).json()["challenge_id"]
    code = stack.otp_code("+91" + phone, since=since)
    token = api.post("/auth/verify-otp", json={"challenge_id": cid, "code": code}).json()["access_token"]
    api.headers["Authorization"] = f"Bearer {token}"
    return api


def key_client(stack, key: str) -> httpx.Client:
    return httpx.Client(base_url=f"{stack.base_url}/api/v1", timeout=30, headers={"X-API-Key": key})


def create_key(api: httpx.Client, plan: str, name: str = "e2e") -> dict:
    created = api.post("/developer/keys", json={"name": name, "plan": plan})
    assert created.status_code == 201, created.text
    return created.json()


def has_rate_headers(response: httpx.Response) -> bool:
    return all(h in response.headers for h in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"))


@pytest.fixture(scope="module")
def owner(dev_stack) -> httpx.Client:
    return signed_in(dev_stack)


def test_a_key_calls_query_tracks_next_and_analyze(dev_stack, owner):
    created = create_key(owner, "pro")
    assert created["key"].startswith("mk_live_") and created["plan"]["name"] == "pro"
    listed = owner.get("/developer/keys").json()["items"]
    assert [k["key_id"] for k in listed] == [created["key_id"]] and created["key"] not in str(listed)
    b2b = key_client(dev_stack, created["key"])

    query = b2b.post("/b2b/query", json={"text": "upbeat punjabi songs around 120 bpm in A minor", "limit": 5})
    assert query.status_code == 200, query.text
    assert query.json()["interpretation"]["bpm"] and has_rate_headers(query)
    assert query.headers["ratelimit-limit"] == "50"

    # The demo songs are converted on start and their analysis written back to the catalog.
    deadline = time.monotonic() + 240
    analysed: list[dict] = []
    while time.monotonic() < deadline and not analysed:
        page = b2b.get("/b2b/tracks", params={"bpm_min": 60, "bpm_max": 200, "limit": 50})
        assert page.status_code == 200, page.text
        analysed = [t for t in page.json()["items"] if t["id"].startswith("trk_melodydemo_")]
        time.sleep(1)
    assert analysed, "no demo track got its analysis"
    seed = analysed[0]
    harmonic = b2b.get("/b2b/tracks", params={"compatible_with": seed["camelot"]})
    assert harmonic.status_code == 200 and seed["id"] in [t["id"] for t in harmonic.json()["items"]]
    nxt = b2b.get(f"/b2b/tracks/{seed['id']}/next")
    assert nxt.status_code == 200, nxt.text
    assert nxt.json()["track"]["id"] == seed["id"] and has_rate_headers(nxt)
    missing = b2b.get("/b2b/tracks/trk_000000000000/next")
    assert missing.status_code == 404 and has_rate_headers(missing)

    song = song_wav(12, bpm=100, seed=1111)
    job_ids = []
    for stems in (False, True):  # the same audio twice: processed once, billed once
        started = b2b.post(
            "/b2b/analyze", json={"filename": "probe.wav", "content_type": "audio/wav", "size_bytes": len(song), "stems": stems}
        )
        assert started.status_code == 201, started.text
        form = started.json()["upload"]
        sent = httpx.post(form["url"], data=form["fields"], files={"file": ("probe.wav", song, "audio/wav")}, timeout=60)
        assert sent.status_code == 204, sent.text
        job_ids.append(started.json()["job_id"])
    results = []
    for job_id in job_ids:
        deadline = time.monotonic() + 240
        while True:
            result = b2b.get(f"/b2b/analyze/{job_id}").json()
            if result["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert result["status"] == "succeeded", result
        results.append(result)
    plain, with_stems = results
    assert plain["analysis"]["tempo"]["bpm"] and plain["analysis"]["key"]["camelot"] and plain["waveform_url"]
    assert plain["instrumental_url"] is None and with_stems["instrumental_url"] and with_stems["vocals_url"]
    # analysis only without `stems` (issue 11): no stem links, and the owner's consumer routes refuse them cleanly
    assert plain["vocals_url"] is None and plain["stems_requested"] is False
    status = owner.get(f"/audio/conversion-status/{job_ids[0]}")
    assert status.status_code == 200, status.text
    shown = status.json()["results"]
    assert shown["stems"] == [] and shown["instrumental_url"] is None and shown["analysis"]["tempo"]["bpm"]
    for path in (f"/audio/jobs/{job_ids[0]}/download/vocals", f"/audio/jobs/{job_ids[0]}/melody"):
        refused = owner.get(path)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "stems_unavailable", (path, refused.text)
    assert owner.get(f"/audio/jobs/{job_ids[1]}/download/vocals").status_code == 200  # the job with stems has them
    assert plain["content_hash"] == with_stems["content_hash"]
    assert [plain["billed"], with_stems["billed"]] == [True, False]
    assert b2b.get(f"/b2b/analyze/{job_ids[0]}").json()["billed"] is False  # reading again bills nothing

    usage = owner.get("/developer/usage").json()
    assert usage["analyses"] == 1 and usage["calls"] >= 10 and usage["days"][-1]["calls"] == usage["calls"]


def test_over_the_free_rate_is_429_with_headers(dev_stack, owner):
    b2b = key_client(dev_stack, create_key(owner, "free", "free")["key"])

    def call(_: int) -> httpx.Response:
        return b2b.post("/b2b/query", json={"text": "chill"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) == {200, 429}, statuses
    assert statuses.count(200) <= 4  # 2 per second; 8 parallel calls span at most two windows
    for answer in answers:
        assert has_rate_headers(answer) and answer.headers["ratelimit-limit"] == "2"
        if answer.status_code == 429:
            assert answer.json()["error"]["code"] == "rate_limited"
            assert int(answer.headers["retry-after"]) >= 1 and answer.headers["ratelimit-remaining"] == "0"


def test_a_revoked_key_is_refused_at_once_and_usage_is_private(dev_stack, owner):
    created = create_key(owner, "pro", "to revoke")
    b2b = key_client(dev_stack, created["key"])
    assert b2b.post("/b2b/query", json={"text": "90s tamil hits"}).status_code == 200
    assert owner.delete(f"/developer/keys/{created['key_id']}").status_code == 204
    refused = b2b.post("/b2b/query", json={"text": "90s tamil hits"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    assert refused.headers["www-authenticate"].startswith("ApiKey")
    apikey_scheme = httpx.post(
        f"{dev_stack.base_url}/api/v1/b2b/query", json={"text": "x"}, headers={"Authorization": "ApiKey " + created["key"]}
    )
    assert apikey_scheme.status_code == 401

    stranger = signed_in(dev_stack)
    theirs = stranger.get("/developer/usage").json()
    assert theirs["keys"] == [] and theirs["calls"] == 0
    assert stranger.get("/developer/keys").json()["items"] == []
    assert stranger.get("/developer/usage", params={"key_id": created["key_id"]}).status_code == 404
    assert stranger.delete(f"/developer/keys/{created['key_id']}").status_code == 404
    mine = owner.get("/developer/usage", params={"key_id": created["key_id"]}).json()
    assert mine["calls"] == 1 and [k["active"] for k in mine["keys"]] == [False]
