"""``/lyrics`` over the real app, moto's DynamoDB and PostgreSQL; LRCLIB on a recorded-shape MockTransport."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration

TUM_HI_HO = "trk_722773a7d7ce"  # तुम ही हो, Arijit Singh, Aashiqui 2, 262 s
KOLAVERI = "trk_6a39cf47406f"
LRC = "[ar:Arijit Singh]\n[offset:+200]\n[00:01.20]हम तेरे बिन अब रह नहीं सकते\n[00:04.20]तेरे बिना क्या वजूद मेरा\n"
RECORD = {
    "id": 2210419, "trackName": "Tum Hi Ho", "artistName": "Arijit Singh", "albumName": "Aashiqui 2",
    "duration": 262.0, "instrumental": False, "plainLyrics": "Hum tere bin ab reh nahi sakte",
    "syncedLyrics": "[00:38.91] Hum tere bin ab reh nahi sakte\n[00:46.52] Tere bina kya wajood mera",
}  # fmt: skip


@pytest.fixture()
def client(services):
    from fastapi.testclient import TestClient

    from melody.api.apps import full_app

    with TestClient(full_app(services)) as test_client:
        yield test_client


def own_job(user_id: str, **fields) -> str:
    """A conversion job record of ``user_id`` (an upload), written straight to the jobs table."""
    from melody.conversions.dynamodb import DynamoJobStore
    from melody.conversions.models import Job

    job_id = "job_" + uuid.uuid4().hex[:20]
    DynamoJobStore().create(
        Job(job_id=job_id, user_id=user_id, status="succeeded", bucket="b", key=f"uploads/{job_id}", created_at=1.0,
            updated_at=1.0, **fields)  # fmt: skip
    )
    return job_id


def test_every_route_needs_a_signed_in_user(client):
    assert client.get(f"/api/v1/lyrics/{TUM_HI_HO}").status_code == 401
    assert client.put(f"/api/v1/lyrics/{TUM_HI_HO}", json={"lrc": LRC}).status_code == 401
    assert client.delete(f"/api/v1/lyrics/{TUM_HI_HO}").status_code == 401


def test_lrclib_lyrics_are_found_by_latin_title_and_cached_in_dynamodb(client, user_headers, lrclib):
    lrclib.answers["Tum Hi Ho"] = RECORD
    first = client.get(f"/api/v1/lyrics/{TUM_HI_HO}", headers=user_headers())
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["source"] == "lrclib" and body["synced"] and body["provider_status"] == "ok"
    assert body["lines"][0] == {"t": 38.91, "text": "Hum tere bin ab reh nahi sakte", "latin": None}
    params = dict(lrclib.calls[0].url.params)
    assert params == {"track_name": "Tum Hi Ho", "artist_name": "Arijit Singh", "album_name": "Aashiqui 2",
                      "duration": "262"}  # fmt: skip
    calls = len(lrclib.calls)
    lrclib.offline = True  # cached: another user's request never reaches LRCLIB
    again = client.get(f"/api/v1/lyrics/{TUM_HI_HO}", headers=user_headers())
    assert again.json()["lines"] == body["lines"] and len(lrclib.calls) == calls


def test_offline_lrclib_is_no_lyrics_not_an_error(client, user_headers, lrclib):
    lrclib.offline = True
    response = client.get(f"/api/v1/lyrics/{KOLAVERI}", headers=user_headers())
    assert response.status_code == 200
    assert response.json() | {"lines": []} == response.json()
    assert (response.json()["source"], response.json()["provider_status"]) == ("none", "error")


def test_attached_lrc_is_the_owners_with_transliteration(client, user_headers, lrclib):
    lrclib.answers["Tum Hi Ho"] = RECORD
    owner, other = user_headers(), user_headers()
    put = client.put(f"/api/v1/lyrics/{TUM_HI_HO}", json={"lrc": LRC}, headers=owner)
    assert put.status_code == 200, put.text
    lines = put.json()["lines"]
    assert put.json()["source"] == "user" and put.json()["offset_ms"] == 200
    assert [line["t"] for line in lines] == [1.0, 4.0]
    assert lines[0]["text"] == "हम तेरे बिन अब रह नहीं सकते" and lines[0]["latin"].startswith("ham tere bin ab")
    got = client.get(f"/api/v1/lyrics/{TUM_HI_HO}", headers=owner).json()
    assert got["source"] == "user" and got["lines"] == lines and got["updated_at"]
    assert client.get(f"/api/v1/lyrics/{TUM_HI_HO}", headers=other).json()["source"] == "lrclib"
    assert client.delete(f"/api/v1/lyrics/{TUM_HI_HO}", headers=other).json()["error"]["code"] == "lyrics_not_attached"
    assert client.delete(f"/api/v1/lyrics/{TUM_HI_HO}", headers=owner).status_code == 204
    assert client.get(f"/api/v1/lyrics/{TUM_HI_HO}", headers=owner).json()["source"] == "lrclib"


def test_uploads_are_their_owners_only(client, user_headers, lrclib, services):
    assert services.lyrics is not None  # binds the job models to this session's tables
    owner_id = "usr_" + uuid.uuid4().hex[:24]
    job_id = own_job(owner_id, title="My Song", tags={"title": "Zephyr Lantern Waltz", "artist": "Quiet Harbour"},
                     duration_s=4.0)  # fmt: skip
    owner, other = user_headers(owner_id), user_headers()
    lrclib.answers["Zephyr Lantern Waltz"] = {**RECORD, "trackName": "Zephyr Lantern Waltz", "duration": 4.0}
    got = client.get(f"/api/v1/lyrics/{job_id}", headers=owner)
    assert got.status_code == 200 and got.json()["source"] == "lrclib"
    assert dict(lrclib.calls[-1].url.params)["artist_name"] == "Quiet Harbour"
    assert client.put(f"/api/v1/lyrics/{job_id}", json={"lrc": LRC}, headers=owner).status_code == 200
    for response in (
        client.get(f"/api/v1/lyrics/{job_id}", headers=other),
        client.put(f"/api/v1/lyrics/{job_id}", json={"lrc": LRC}, headers=other),
        client.delete(f"/api/v1/lyrics/{job_id}", headers=other),
    ):
        assert response.status_code == 404 and response.json()["error"]["code"] == "track_not_found"
    assert client.get(f"/api/v1/lyrics/{job_id}", headers=owner).json()["source"] == "user"


def test_bad_ids_and_bad_lrc(client, user_headers):
    h = user_headers()
    for bad in ("trk_000000000000", "job_nosuchjob", "x" * 300):
        response = client.get(f"/api/v1/lyrics/{bad}", headers=h)
        assert response.status_code == 404 and response.json()["error"]["code"] == "track_not_found", bad
    cases = [
        ({"lrc": "no timed lines"}, "lrc_not_synced"),
        ({"lrc": "[00:01.00]ok\n[00:77.00]bad"}, "invalid_lrc"),
        ({"lrc": "[00:01.00]" + "a" * 70_000}, "lrc_too_large"),
        ({"lrc": ""}, "invalid_lrc"),
        ({"lyrics": LRC}, "invalid_lrc"),  # the field is missing (and an unknown one sent)
    ]
    for body, code in cases:
        response = client.put(f"/api/v1/lyrics/{TUM_HI_HO}", json=body, headers=h)
        assert response.status_code == 422 and response.json()["error"]["code"] == code, (body, response.text)
    assert client.get(f"/api/v1/lyrics/{TUM_HI_HO}", headers=h).json()["source"] != "user"
