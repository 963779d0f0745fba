"""``GET /api/v1/audio/jobs`` over the real app and moto's DynamoDB: following ``next_cursor``."""

from __future__ import annotations

import itertools
import uuid

import pytest

from tests.conftest import auth_header

pytestmark = pytest.mark.integration


class TickingClock:
    """Each reading a second later than the last, so every job has its own ``created_at``."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._ticks = itertools.count()
        self._start = start

    def now(self) -> float:
        return self._start + next(self._ticks)


@pytest.fixture()
def jobs_api(client, services):
    # Tokens keep the wall clock (the verifier checks them against it); only the jobs tick.
    services.tokens  # noqa: B018 - built now, with the real clock
    services.clock = TickingClock()
    # No execution is started: an upload job waits for its object (awaiting_upload).
    services.use_workflow(object())

    def headers(user_id: str) -> dict[str, str]:
        return auth_header(services.tokens.issue(user_id).access_token)

    return headers


def create_jobs(client, headers, count: int, prefix: str) -> list[str]:
    ids = []
    for i in range(count):
        body = {"filename": f"{prefix}-{i}.mp3", "content_type": "audio/mpeg", "size_bytes": 1000}
        created = client.post("/api/v1/audio/uploads", json=body, headers=headers)
        assert created.status_code == 201, created.text
        ids.append(created.json()["job_id"])
    return ids


def all_pages(client, headers, limit: int) -> list[list[dict]]:
    pages, cursor = [], None
    for _ in range(50):
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/audio/jobs", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("next_cursor never ran out")


def test_next_cursor_pages_through_each_of_the_users_jobs_once_newest_first(client, jobs_api):
    me, other = "usr_" + uuid.uuid4().hex[:24], "usr_" + uuid.uuid4().hex[:24]
    mine, theirs = [], []
    for batch in range(3):  # interleaved with another user's jobs
        mine += create_jobs(client, jobs_api(me), 2 if batch < 2 else 1, f"mine{batch}")
        theirs += create_jobs(client, jobs_api(other), 1, f"theirs{batch}")

    pages = all_pages(client, jobs_api(me), limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]  # a second (and third) page, reached by the cursor
    listed = [item["job_id"] for page in pages for item in page]
    assert listed == list(reversed(mine))  # each exactly once, newest first
    created = [item["timings"]["created_at"] for page in pages for item in page]
    assert created == sorted(created, reverse=True)
    assert not set(listed) & set(theirs)

    # The other user's pages hold only their jobs.
    theirs_listed = [i["job_id"] for p in all_pages(client, jobs_api(other), limit=2) for i in p]
    assert theirs_listed == list(reversed(theirs))


def test_a_page_size_that_divides_the_jobs_exactly(client, jobs_api):
    me = "usr_" + uuid.uuid4().hex[:24]
    mine = create_jobs(client, jobs_api(me), 4, "exact")
    pages = all_pages(client, jobs_api(me), limit=2)
    assert [i["job_id"] for p in pages for i in p] == list(reversed(mine))
    assert all(pages[:2]) and not any(pages[2:])  # at most one empty page after the last job


def test_a_cursor_is_only_good_for_its_own_user(client, jobs_api):
    me, other = "usr_" + uuid.uuid4().hex[:24], "usr_" + uuid.uuid4().hex[:24]
    create_jobs(client, jobs_api(me), 3, "cursor")
    first = client.get("/api/v1/audio/jobs", params={"limit": 2}, headers=jobs_api(me)).json()
    assert first["next_cursor"]
    stolen = client.get("/api/v1/audio/jobs", params={"limit": 2, "cursor": first["next_cursor"]}, headers=jobs_api(other))
    assert stolen.status_code == 422 and stolen.json()["error"]["code"] == "invalid_cursor"
