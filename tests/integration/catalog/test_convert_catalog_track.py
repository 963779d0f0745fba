"""``POST /audio/convert-to-instrumental`` for a catalog track with audio, and the library's
instrumental status following the caller's job (the pipeline runs locally over moto)."""

from __future__ import annotations

import time

import pytest

from tests.support.songs import song_wav

pytestmark = pytest.mark.integration

SUN_RAHA_HAI = "trk_9d4e756063a8"  # used by no other test: it gains an audio asset here
KOLAVERI = "trk_6a39cf47406f"


@pytest.fixture()
def jobs(client, services, catalog_executor, tmp_path):
    from melody.catalog.track_audio import CatalogTrackAudio
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    settings = services.settings.model_copy(update={"work_dir": tmp_path})
    services.settings = settings
    services.track_audio = CatalogTrackAudio(catalog_executor, settings.media_bucket)
    runner = build_runner(services.steps, sleep=lambda _s: None)
    services.use_workflow(LocalWorkflowStarter(runner, STATE_MACHINE))
    key = f"catalog/{SUN_RAHA_HAI}/original.wav"
    services.storage._client.put_object(Bucket=settings.media_bucket, Key=key, Body=song_wav(5, seed=21), ContentType="audio/wav")
    from melody.catalog.postgres.repository import CatalogRepository

    CatalogRepository(catalog_executor).set_audio_asset(SUN_RAHA_HAI, key, fmt="wav")
    yield services
    runner.shutdown()
    catalog_executor.execute("DELETE FROM audio_assets WHERE track_id = :track_id", {"track_id": SUN_RAHA_HAI})


def test_convert_a_catalog_track_and_see_it_in_the_library(client, user_headers, jobs):
    me = user_headers()
    added = client.put(f"/api/v1/library/{SUN_RAHA_HAI}", headers=me).json()
    assert (added["instrumental_status"], added["instrumental_job_id"]) == ("none", None)

    started = client.post("/api/v1/audio/convert-to-instrumental", json={"track_id": SUN_RAHA_HAI}, headers=me)
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    # While it runs the library already links the job (pending, processing or, if quick, completed).
    item = client.get("/api/v1/library", headers=me).json()["items"][0]
    assert item["instrumental_job_id"] == job_id and item["instrumental_status"] in ("pending", "processing", "completed")
    deadline = time.monotonic() + 120
    while (status := client.get(f"/api/v1/audio/conversion-status/{job_id}", headers=me).json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert status["status"] == "succeeded" and status["track_id"] == SUN_RAHA_HAI
    items = client.get("/api/v1/library", headers=me).json()["items"]
    assert [(i["instrumental_status"], i["instrumental_job_id"]) for i in items if i["track_id"] == SUN_RAHA_HAI] == [
        ("completed", job_id)
    ]
    details = client.get(f"/api/v1/music/track/{SUN_RAHA_HAI}", headers=me).json()
    assert (details["has_audio"], details["instrumental_status"], details["instrumental_job_id"]) == (True, "completed", job_id)
    # The linked job's status carries the stems the player needs.
    linked = client.get(f"/api/v1/audio/conversion-status/{details['instrumental_job_id']}", headers=me).json()
    assert linked["results"]["instrumental_url"] and linked["results"]["waveform_url"]

    # Another user sees neither the job nor the status nor its id.
    other = user_headers()
    assert client.get(f"/api/v1/audio/conversion-status/{job_id}", headers=other).status_code == 404
    client.put(f"/api/v1/library/{SUN_RAHA_HAI}", headers=other)
    theirs = client.get("/api/v1/library", headers=other).json()["items"]
    assert [(i["instrumental_status"], i["instrumental_job_id"]) for i in theirs] == [("none", None)]
    seen = client.get(f"/api/v1/music/track/{SUN_RAHA_HAI}", headers=other).json()
    assert (seen["instrumental_status"], seen["instrumental_job_id"]) == ("none", None)
    assert job_id not in client.get("/api/v1/library", params={"updated_since": 0}, headers=other).text


def test_a_track_without_audio_cannot_be_converted(client, user_headers, jobs):
    response = client.post("/api/v1/audio/convert-to-instrumental", json={"track_id": KOLAVERI}, headers=user_headers())
    assert response.status_code == 404 and response.json()["error"]["code"] == "track_audio_not_found"
    bad = client.post("/api/v1/audio/convert-to-instrumental", json={"track_id": "../x"}, headers=user_headers())
    assert bad.status_code == 422
