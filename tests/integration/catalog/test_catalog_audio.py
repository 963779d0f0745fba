"""Operators attach licensed audio to a catalog track: the upload form (through the dev stack's
``/local-s3`` policy check where it runs; here straight to moto), the attach, the normal pipeline
(locally over moto), the analysed attributes written back to the catalog row, and a second user's
conversion reusing the results. Also the CLI path (``attach_file``) and the home screen."""

from __future__ import annotations

import time

import pytest

from tests.integration.catalog.conftest import own_catalog
from tests.support.songs import song_wav

pytestmark = pytest.mark.integration

# Its own schema: attaching audio changes what "ready to sing" and the track details show.
catalog_schema, catalog_executor, seeded_catalog = own_catalog("test_catalog_audio_")

ADMIN = "usr_operator0001"
SUN_RAHA_HAI = "trk_9d4e756063a8"
KOLAVERI = "trk_6a39cf47406f"


@pytest.fixture()
def world(client, services, catalog_executor, tmp_path):
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    services.settings = services.settings.model_copy(update={"work_dir": tmp_path})
    services.roles_for = lambda user_id: ("admin",) if user_id == ADMIN else ()  # before tokens are built
    runner = build_runner(services.steps, sleep=lambda _s: None)
    services.use_workflow(LocalWorkflowStarter(runner, STATE_MACHINE))
    yield services
    runner.shutdown()


def _wait(client, job_id: str, headers: dict) -> dict:
    deadline = time.monotonic() + 180
    while (status := client.get(f"/api/v1/audio/conversion-status/{job_id}", headers=headers).json())["status"] not in (
        "succeeded",
        "failed",
    ):
        assert time.monotonic() < deadline, status
        time.sleep(0.3)
    return status


def test_attach_audio_runs_the_pipeline_writes_attributes_and_shares_results(client, user_headers, world):
    admin = user_headers(ADMIN)
    wav = song_wav(6, seed=31)
    before = client.get(f"/api/v1/music/track/{SUN_RAHA_HAI}", headers=admin).json()
    assert before["has_audio"] is False and before["attributes"] is None

    form = client.post(
        f"/api/v1/music/admin/tracks/{SUN_RAHA_HAI}/audio",
        json={"filename": "sun raha hai.wav", "content_type": "audio/wav", "size_bytes": len(wav)},
        headers=admin,
    )
    assert form.status_code == 201, form.text
    body = form.json()
    assert body["key"].startswith(f"catalog/{SUN_RAHA_HAI}/") and body["upload"]["fields"]["key"] == body["key"]
    # The browser's POST to S3 (the form's fields and the file); moto stands in for S3 here.
    world.storage._client.put_object(Bucket=world.settings.media_bucket, Key=body["key"], Body=wav, ContentType="audio/wav")

    attached = client.post(
        f"/api/v1/music/admin/tracks/{SUN_RAHA_HAI}/audio/attach", json={"key": body["key"]}, headers=admin
    )
    assert attached.status_code == 202, attached.text
    job = _wait(client, attached.json()["job_id"], admin)
    assert job["status"] == "succeeded", job

    details = client.get(f"/api/v1/music/track/{SUN_RAHA_HAI}", headers=admin).json()
    assert details["has_audio"] is True and details["audio_url"]
    attrs = details["attributes"]
    assert attrs is not None and attrs["bpm"] > 0 and attrs["camelot"] and attrs["key"]
    assert 0 <= attrs["energy"] <= 1 and attrs["loudness_lufs"] < 0

    # A listener converting the same track reuses the results (same content hash): same stems.
    listener = user_headers()
    started = client.post("/api/v1/audio/convert-to-instrumental", json={"track_id": SUN_RAHA_HAI}, headers=listener)
    assert started.status_code == 202, started.text
    theirs = _wait(client, started.json()["job_id"], listener)
    assert theirs["status"] == "succeeded"
    from melody.conversions.dynamodb import DynamoJobStore

    store = DynamoJobStore()
    first, second = store.get(attached.json()["job_id"]), store.get(started.json()["job_id"])
    assert first is not None and second is not None
    assert first.result_key == second.result_key and "reuse" in second.stage_timings and "separate" not in second.stage_timings

    # The home screen: ready to sing, and the listener's conversion.
    home = client.get("/api/v1/music/home", headers=listener).json()
    sections = {s["id"]: s for s in home["sections"]}
    assert [i["id"] for i in sections["ready_to_sing"]["items"]] == [SUN_RAHA_HAI]
    assert sections["ready_to_sing"]["items"][0]["has_audio"] is True
    assert [(i["id"], i["instrumental_status"]) for i in sections["your_conversions"]["items"]] == [(SUN_RAHA_HAI, "completed")]
    assert "recently_played" not in sections  # empty sections are left out
    assert sections["trending"]["source"] == "popularity" and sections["trending"]["items"]


def test_admin_routes_refuse_listeners_and_bad_input(client, user_headers, world):
    listener = user_headers()
    for path, payload in (
        (f"/api/v1/music/admin/tracks/{KOLAVERI}/audio", {"filename": "a.wav", "content_type": "audio/wav", "size_bytes": 10}),
        (f"/api/v1/music/admin/tracks/{KOLAVERI}/audio/attach", {"key": f"catalog/{KOLAVERI}/x/a.wav"}),
    ):
        refused = client.post(path, json=payload, headers=listener)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_only"
    admin = user_headers(ADMIN)
    missing = client.post(
        "/api/v1/music/admin/tracks/trk_nosuchtrack1/audio",
        json={"filename": "a.wav", "content_type": "audio/wav", "size_bytes": 10},
        headers=admin,
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "track_not_found"
    not_audio = client.post(
        f"/api/v1/music/admin/tracks/{KOLAVERI}/audio",
        json={"filename": "a.txt", "content_type": "text/plain", "size_bytes": 10},
        headers=admin,
    )
    assert not_audio.status_code == 422
    other_track = client.post(
        f"/api/v1/music/admin/tracks/{KOLAVERI}/audio/attach", json={"key": f"catalog/{SUN_RAHA_HAI}/x/a.wav"}, headers=admin
    )
    assert other_track.status_code == 422 and other_track.json()["error"]["code"] == "invalid_audio_key"
    never_uploaded = client.post(
        f"/api/v1/music/admin/tracks/{KOLAVERI}/audio/attach", json={"key": f"catalog/{KOLAVERI}/upl_x/a.wav"}, headers=admin
    )
    assert never_uploaded.status_code == 404 and never_uploaded.json()["error"]["code"] == "audio_not_uploaded"


def test_home_uses_preferred_languages_and_the_language_override(client, user_headers, world):
    me = user_headers()
    user_id = world.verifier.verify(me["Authorization"].split()[1]).user_id
    from melody.users.dynamodb import DynamoUserStore, bind_user_model

    bind_user_model(world.settings)
    from melody.users.models import Preferences, User

    now = time.time()
    DynamoUserStore().save(
        User(user_id=user_id, phone_e164="+919000000001", preferences=Preferences(preferred_languages=["ta"]),
             created_at=now, updated_at=now)
    )
    home = client.get("/api/v1/music/home", headers=me).json()
    assert home["languages"] == ["ta"]
    assert all(i["language"] == "ta" for s in home["sections"] for i in s["items"] if s["id"] == "trending")
    hindi = client.get("/api/v1/music/home", params={"language": "hi"}, headers=me).json()
    assert hindi["languages"] == ["hi"] and all(
        i["language"] == "hi" for s in hindi["sections"] if s["id"] == "trending" for i in s["items"]
    )
    bad = client.get("/api/v1/music/home", params={"language": "xx"}, headers=me)
    assert bad.status_code == 422
