"""The library through the API on moto: ownership, idempotency, paging, sync and plays."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

KOLAVERI = "trk_6a39cf47406f"
TUM_HI_HO = "trk_722773a7d7ce"
KESARIYA = "trk_bb8536fa586a"
BANDHU = "trk_b3ff250b6600"


def test_library_needs_a_signed_in_user(client):
    assert client.get("/api/v1/library").status_code == 401
    assert client.put(f"/api/v1/library/{KOLAVERI}").status_code == 401
    assert client.delete(f"/api/v1/library/{KOLAVERI}").status_code == 401
    assert client.post(f"/api/v1/library/{KOLAVERI}/plays").status_code == 401


def test_add_is_idempotent_and_unknown_tracks_are_404(client, user_headers):
    h = user_headers()
    first = client.put(f"/api/v1/library/{KOLAVERI}", headers=h)
    assert first.status_code == 201
    item = first.json()
    assert item["track"]["title"] == "Why This Kolaveri Di" and item["instrumental_status"] == "none"
    again = client.put(f"/api/v1/library/{KOLAVERI}", headers=h)
    assert again.status_code == 200 and again.json()["added_at"] == item["added_at"]
    assert len(client.get("/api/v1/library", headers=h).json()["items"]) == 1
    missing = client.put("/api/v1/library/trk_000000000000", headers=h)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "track_not_found"


def test_another_users_token_gets_nothing(client, user_headers):
    owner, other = user_headers(), user_headers()
    client.put(f"/api/v1/library/{KOLAVERI}", headers=owner)
    client.put(f"/api/v1/library/{TUM_HI_HO}", headers=owner)
    assert client.get("/api/v1/library", headers=other).json()["items"] == []
    # the other user cannot remove the owner's item, nor count plays on it
    assert client.delete(f"/api/v1/library/{KOLAVERI}", headers=other).status_code == 404
    assert client.post(f"/api/v1/library/{KOLAVERI}/plays", headers=other).json()["in_library"] is False
    # nor page through it with the owner's cursor
    page = client.get("/api/v1/library", params={"limit": 1}, headers=owner).json()
    assert page["next_cursor"]
    stolen = client.get("/api/v1/library", params={"cursor": page["next_cursor"]}, headers=other)
    assert stolen.status_code == 422 and stolen.json()["error"]["code"] == "invalid_cursor"
    owned = client.get("/api/v1/library", headers=owner).json()["items"]
    assert {i["track_id"] for i in owned} == {KOLAVERI, TUM_HI_HO}
    assert all(i["play_count"] == 0 for i in owned)


def test_newest_first_with_an_opaque_cursor(client, user_headers, services):
    h = user_headers()
    for track in (KOLAVERI, TUM_HI_HO, KESARIYA):
        client.put(f"/api/v1/library/{track}", headers=h)
    seen = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/library", params=params, headers=h).json()
        seen += [i["track_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen[0] == KESARIYA and set(seen) == {KOLAVERI, TUM_HI_HO, KESARIYA} and len(seen) == 3
    for bad in ("not-base64!!", "eyJ4IjoxfQ", "a" * 2000):
        response = client.get("/api/v1/library", params={"cursor": bad}, headers=h)
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_cursor"
    assert client.get("/api/v1/library", params={"limit": "0"}, headers=h).status_code == 422


def test_delete_plays_and_updated_since_sync(client, user_headers):
    h = user_headers()
    client.put(f"/api/v1/library/{KOLAVERI}", headers=h)
    client.put(f"/api/v1/library/{BANDHU}", headers=h)
    played = client.post(f"/api/v1/library/{KOLAVERI}/plays", headers=h).json()
    assert played == {**played, "in_library": True, "play_count": 1}
    played = client.post(f"/api/v1/library/{KOLAVERI}/plays", headers=h).json()
    assert played["play_count"] == 2 and played["last_played_at"]
    assert client.delete(f"/api/v1/library/{BANDHU}", headers=h).status_code == 204
    assert client.delete(f"/api/v1/library/{BANDHU}", headers=h).status_code == 404
    listing = client.get("/api/v1/library", headers=h).json()["items"]
    assert [i["track_id"] for i in listing] == [KOLAVERI] and listing[0]["play_count"] == 2
    sync = client.get("/api/v1/library", params={"updated_since": 0}, headers=h).json()["items"]
    assert {(i["track_id"], i["deleted"]) for i in sync} == {(KOLAVERI, False), (BANDHU, True)}
    bad = client.get("/api/v1/library", params={"updated_since": "yesterday"}, headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_updated_since"
    # re-adding a removed track revives it
    assert client.put(f"/api/v1/library/{BANDHU}", headers=h).status_code == 201
    assert client.post("/api/v1/library/trk_000000000000/plays", headers=h).status_code == 404


def _job(user_id: str, track_id: str, status: str, created_at: float):
    """A conversion job record for a catalog track, written straight into the jobs table."""
    import secrets

    from melody.conversions.dynamodb import DynamoJobStore
    from melody.conversions.models import Job

    job = Job(
        job_id="job_" + secrets.token_hex(10),
        user_id=user_id,
        status=status,
        source="catalog",
        track_id=track_id,
        bucket="melody-media",
        key=f"catalog/{track_id}/original.wav",
        created_at=created_at,
        updated_at=created_at,
    )
    DynamoJobStore().create(job)
    return job.job_id


def test_items_and_track_details_link_only_the_callers_newest_job(client, user_headers, services):
    import uuid

    from melody.conversions.dynamodb import bind_job_models

    bind_job_models(services.settings)
    owner_id, other_id = ("usr_" + uuid.uuid4().hex[:24] for _ in range(2))
    owner, other, third = user_headers(owner_id), user_headers(other_id), user_headers()
    _job(owner_id, KESARIYA, "failed", 1000.0)
    newest = _job(owner_id, KESARIYA, "processing", 2000.0)
    theirs = _job(other_id, KESARIYA, "succeeded", 3000.0)  # newer, but another user's
    for headers in (owner, other, third):
        client.put(f"/api/v1/library/{KESARIYA}", headers=headers)
        client.put(f"/api/v1/library/{BANDHU}", headers=headers)

    def linked(headers):
        items = client.get("/api/v1/library", headers=headers).json()["items"]
        detail = client.get(f"/api/v1/music/track/{KESARIYA}", headers=headers).json()
        return (
            {i["track_id"]: (i["instrumental_status"], i["instrumental_job_id"]) for i in items},
            (detail["instrumental_status"], detail["instrumental_job_id"]),
        )

    assert linked(owner) == ({KESARIYA: ("processing", newest), BANDHU: ("none", None)}, ("processing", newest))
    assert linked(other) == ({KESARIYA: ("completed", theirs), BANDHU: ("none", None)}, ("completed", theirs))
    assert linked(third) == ({KESARIYA: ("none", None), BANDHU: ("none", None)}, ("none", None))
    # The id alone opens nothing: another user's job stays "not found".

    services.use_workflow(object())
    assert client.get(f"/api/v1/audio/conversion-status/{newest}", headers=owner).json()["status"] == "processing"
    assert client.get(f"/api/v1/audio/conversion-status/{newest}", headers=other).status_code == 404
    assert client.get(f"/api/v1/audio/conversion-status/{theirs}", headers=owner).status_code == 404
    # PUT (add) answers with the same link.
    again = client.put(f"/api/v1/library/{KESARIYA}", headers=owner).json()
    assert (again["instrumental_status"], again["instrumental_job_id"]) == ("processing", newest)
