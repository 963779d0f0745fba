"""Every song plays: uploads become library songs over the real app, moto, PostgreSQL and the local
pipeline runner — linked to a catalog track or offered a match from their tags, renamed, downloaded,
deleted (shared stems counted), limited by a storage quota, and retried."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.catalog.conftest import own_catalog
from tests.support.songs import song_wav

pytestmark = pytest.mark.integration

catalog_schema, catalog_executor, seeded_catalog = own_catalog("test_upload_library_")
SUN_RAHA_HAI = "trk_9d4e756063a8"


@pytest.fixture(scope="module")
def lantern(seeded_catalog):
    """A catalog song as long as the test recordings, to be matched from an upload's tags."""
    from melody.catalog.models import SongIn

    seeded_catalog.upsert_songs([SongIn(title="Zephyr Lantern Waltz", artists=["Quiet Harbour"], duration_s=4)])


@pytest.fixture()
def app(dev_settings, sms, database_url, catalog_schema, catalog_executor, seeded_catalog, lantern, tmp_path):
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from melody.api.apps import full_app
    from melody.catalog.providers.cache import bind_search_cache_model
    from melody.core.services import Services
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.renditions import RENDITIONS_MACHINE
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    settings = dev_settings.model_copy(
        update={
            "database_url": SecretStr(database_url),
            "catalog_db_schema": catalog_schema,
            "provider_secret_id": None,
            "work_dir": tmp_path,
            "storage_quota_bytes": 3_000_000,
        }
    )
    bind_search_cache_model(settings)
    services = Services(settings, sms_sender=sms, executor=catalog_executor, providers=[], workflow=object())
    runner = build_runner(services.steps, rendition_steps=services.rendition_steps, sleep=lambda _s: None)
    services.use_workflow(LocalWorkflowStarter(runner, STATE_MACHINE))
    services.use_renditions_workflow(LocalWorkflowStarter(runner, RENDITIONS_MACHINE))
    services.runner = runner
    with TestClient(full_app(services)) as client:
        services.client = client
        yield services
    runner.shutdown()


def headers(services, user_id: str | None = None) -> dict[str, str]:
    from tests.conftest import auth_header

    return auth_header(services.tokens.issue(user_id or "usr_" + uuid.uuid4().hex[:24]).access_token)


def tagged(song: bytes, tmp: Path, **tags: str) -> bytes:
    src, out = tmp / f"in-{uuid.uuid4().hex}.wav", tmp / f"out-{uuid.uuid4().hex}.wav"
    src.write_bytes(song)
    meta = [arg for name, value in tags.items() for arg in ("-metadata", f"{name}={value}")]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), *meta, "-c", "copy", str(out)], check=True)
    return out.read_bytes()


def upload(services, me, body: bytes, filename: str, **extra) -> dict:
    """Create the upload through the API, store the file, deliver its event and wait for the pipeline."""
    from melody.conversions.trigger import handle_object_created
    from melody_dev.local.pipeline import STATE_MACHINE
    from tests.integration.test_pipeline import event_for

    created = services.client.post(
        "/api/v1/audio/uploads",
        json={"filename": filename, "content_type": "audio/wav", "size_bytes": len(body), **extra},
        headers=me,
    )
    assert created.status_code == 201, created.text
    job = services.jobs._jobs.get(created.json()["job_id"])
    services.storage._client.put_object(Bucket=job.bucket, Key=job.key, Body=body, ContentType="audio/wav")
    assert handle_object_created(event_for(services, job), services.jobs) == "started"
    arn = f"{services.runner.state_machine_arn(STATE_MACHINE).replace(':stateMachine:', ':execution:')}:{job.job_id}"
    assert services.runner.wait(arn, timeout=300)["status"] == "SUCCEEDED"
    return services.client.get(f"/api/v1/audio/conversion-status/{job.job_id}", headers=me).json()


def library(services, me) -> list[dict]:
    return services.client.get("/api/v1/library", headers=me).json()["items"]


def test_an_upload_linked_to_a_catalog_track_plays_as_that_track(app, tmp_path):
    me = headers(app)
    missing = app.client.post(
        "/api/v1/audio/uploads",
        json={"filename": "x.wav", "content_type": "audio/wav", "size_bytes": 10, "track_id": "trk_doesnotexist"},
        headers=me,
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "track_not_found"

    done = upload(app, me, song_wav(4, seed=31), "my sun raha hai.wav", track_id=SUN_RAHA_HAI)
    assert done["status"] == "succeeded" and done["track_id"] == SUN_RAHA_HAI and done["results"]["original_url"]
    details = app.client.get(f"/api/v1/music/track/{SUN_RAHA_HAI}", headers=me).json()
    assert (details["instrumental_status"], details["instrumental_job_id"]) == ("completed", done["job_id"])
    [item] = library(app, me)
    assert item["kind"] == "upload" and item["track"]["id"] == SUN_RAHA_HAI
    assert item["upload"]["linked_track_id"] == SUN_RAHA_HAI and item["instrumental_job_id"] == done["job_id"]
    # Someone else's view of the track is unchanged.
    other = app.client.get(f"/api/v1/music/track/{SUN_RAHA_HAI}", headers=headers(app)).json()
    assert other["instrumental_job_id"] is None


def test_tags_offer_a_catalog_match_that_only_the_user_applies(app, tmp_path):
    me = headers(app)
    song = tagged(song_wav(4, seed=32), tmp_path, title="Zephyr Lantern Waltz", artist="Quiet Harbour")
    done = upload(app, me, song, "track01.wav")
    assert done["title"] == "track01"  # the job keeps the name; the library shows the tag
    suggested = done["suggested_track"]
    assert suggested and suggested["title"] == "Zephyr Lantern Waltz" and done["track_id"] is None  # offered, not applied
    [item] = library(app, me)
    assert item["upload"]["title"] == "Zephyr Lantern Waltz" and item["track"] is None
    assert item["upload"]["suggested_track"]["track_id"] == suggested["track_id"]

    linked = app.client.post(f"/api/v1/audio/jobs/{done['job_id']}/link", json={"track_id": suggested["track_id"]}, headers=me)
    assert linked.status_code == 200 and linked.json()["track_id"] == suggested["track_id"]
    [item] = library(app, me)
    assert item["track"]["id"] == suggested["track_id"] and item["upload"]["suggested_track"] is None
    details = app.client.get(f"/api/v1/music/track/{suggested['track_id']}", headers=me).json()
    assert details["instrumental_job_id"] == done["job_id"]


def test_an_upload_is_a_library_song_renamed_played_and_downloaded(app):
    me = headers(app)
    song = song_wav(4, seed=33)
    done = upload(app, me, song, "मेरा गाना: draft?.wav")
    [item] = library(app, me)
    assert item["upload"]["title"] == "मेरा गाना: draft?" and item["kind"] == "upload"

    renamed = app.client.patch(f"/api/v1/library/uploads/{done['job_id']}", json={"title": "तुम / Final"}, headers=me)
    assert renamed.status_code == 200 and renamed.json()["upload"]["title"] == "तुम / Final"
    assert app.client.patch("/api/v1/library/uploads/job_nope", json={"title": "x"}, headers=me).status_code == 404
    assert app.client.patch(f"/api/v1/library/uploads/{done['job_id']}", json={"title": "x"}, headers=headers(app)).status_code == 404

    played = app.client.post(f"/api/v1/library/{done['job_id']}/plays", headers=me).json()
    assert played["in_library"] and played["play_count"] == 1

    link = app.client.get(f"/api/v1/audio/jobs/{done['job_id']}/download/instrumental?format=m4a", headers=me)
    assert link.status_code == 200, link.text
    assert link.json()["filename"] == "तुम Final (instrumental).m4a"
    fetched = httpx.get(link.json()["url"])
    assert fetched.status_code == 200 and fetched.content
    disposition = fetched.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "%E0%A4%A4%E0%A5%81%E0%A4%AE%20Final%20%28instrumental%29.m4a" in disposition
    original = httpx.get(app.client.get(f"/api/v1/audio/jobs/{done['job_id']}/download/original", headers=me).json()["url"])
    assert original.content == song

    # WAV on request: the first ask starts the export (202, Retry-After); once made, the link.
    from melody_dev.local.renditions import RENDITIONS_MACHINE

    url = f"/api/v1/audio/jobs/{done['job_id']}/download/vocals?format=wav"
    pending = app.client.get(url, headers=me)
    assert pending.status_code == 202, pending.text
    assert pending.json()["status"] == "preparing" and pending.headers["retry-after"] == "3"
    assert app.client.get(url, headers=me).json()["export_id"] == pending.json()["export_id"]  # started once
    name = pending.json()["export_id"]
    arn = app.runner.state_machine_arn(RENDITIONS_MACHINE).replace(":stateMachine:", ":execution:") + f":{name}"
    assert app.runner.wait(arn, timeout=300)["status"] == "SUCCEEDED"
    ready = app.client.get(url, headers=me)
    assert ready.status_code == 200, ready.text
    assert ready.json()["format"] == "wav" and ready.json()["filename"] == "तुम Final (vocals).wav"
    body = httpx.get(ready.json()["url"])
    assert body.content[:4] == b"RIFF" and body.content[8:12] == b"WAVE"
    assert "%28vocals%29.wav" in body.headers["content-disposition"]
    # Stems other than the instrumental and vocals, and another user's job, get no WAV.
    for stem, who, code in (("original", me, "format_unavailable"), ("vocals", headers(app), "job_not_found")):
        refused = app.client.get(f"/api/v1/audio/jobs/{done['job_id']}/download/{stem}?format=wav", headers=who)
        assert refused.json()["error"]["code"] == code, refused.text


def test_deleting_a_shared_song_keeps_the_stems_the_other_user_plays(app):
    alice, bob = headers(app), headers(app)
    song = song_wav(4, seed=34)
    a = upload(app, alice, song, "same.wav")
    b = upload(app, bob, song, "same.wav")
    result = app.jobs._results.get(app.jobs._jobs.get(a["job_id"]).result_key)
    assert result is not None

    assert app.client.delete(f"/api/v1/audio/jobs/{a['job_id']}", headers=alice).status_code == 204
    assert app.client.get(f"/api/v1/audio/conversion-status/{a['job_id']}", headers=alice).status_code == 404
    assert library(app, alice) == []
    still = app.client.get(f"/api/v1/audio/conversion-status/{b['job_id']}", headers=bob).json()
    assert httpx.get(still["results"]["instrumental_url"]).status_code == 200  # Bob still plays it

    assert app.client.delete(f"/api/v1/audio/jobs/{b['job_id']}", headers=bob).status_code == 204
    assert app.jobs._results.get(result.result_key) is None
    assert app.storage.head(app.settings.media_bucket, result.instrumental_key) is None


def test_the_storage_quota_refuses_an_upload_with_its_limit(app):
    me = headers(app)
    upload(app, me, song_wav(4, seed=35), "first.wav")  # ~700 kB of 3 MB
    over = app.client.post(
        "/api/v1/audio/uploads",
        json={"filename": "big.wav", "content_type": "audio/wav", "size_bytes": 2_500_000},
        headers=me,
    )
    assert over.status_code == 422
    error = over.json()["error"]
    assert error["code"] == "storage_quota_exceeded" and error["details"]["limit_bytes"] == 3_000_000


def test_a_failed_conversion_is_retried_from_its_kept_original(app):
    me = headers(app)
    done = upload(app, me, song_wav(4, seed=36), "retry.wav")
    assert app.client.post(f"/api/v1/audio/jobs/{done['job_id']}/retry", headers=me).status_code == 409  # not failed
    # A system failure (e.g. a step timing out) after the original was kept.
    app.jobs._jobs.transition(
        done["job_id"],
        allowed_from={"succeeded"},
        changes={"status": "failed", "error": {"code": "processing_failed", "message": "x"}},
    )
    retried = app.client.post(f"/api/v1/audio/jobs/{done['job_id']}/retry", headers=me)
    assert retried.status_code == 202 and retried.json()["status"] == "queued"
    from melody_dev.local.pipeline import STATE_MACHINE

    arn = f"{app.runner.state_machine_arn(STATE_MACHINE).replace(':stateMachine:', ':execution:')}:{done['job_id']}-r1"
    assert app.runner.wait(arn, timeout=300)["status"] == "SUCCEEDED"
    assert app.client.get(f"/api/v1/audio/conversion-status/{done['job_id']}", headers=me).json()["status"] == "succeeded"


def test_a_developer_api_analysis_is_not_a_song_in_the_library(app):
    """``POST /b2b/analyze`` creates its job with client "api": it converts, but adds no library entry."""
    from melody.conversions.trigger import handle_object_created
    from melody_dev.local.pipeline import STATE_MACHINE
    from tests.integration.test_pipeline import event_for

    user_id = "usr_" + uuid.uuid4().hex[:24]
    me = headers(app, user_id)
    body = song_wav(4, seed=36)
    job, _ = app.jobs.create_upload(user_id, filename="probe.wav", content_type="audio/wav", size_bytes=len(body),
                                    engine=None, client="api")  # fmt: skip
    app.storage._client.put_object(Bucket=job.bucket, Key=job.key, Body=body, ContentType="audio/wav")
    assert handle_object_created(event_for(app, job), app.jobs) == "started"
    arn = f"{app.runner.state_machine_arn(STATE_MACHINE).replace(':stateMachine:', ':execution:')}:{job.job_id}"
    assert app.runner.wait(arn, timeout=300)["status"] == "SUCCEEDED"
    status = app.client.get(f"/api/v1/audio/conversion-status/{job.job_id}", headers=me).json()
    assert status["status"] == "succeeded" and status["client"] == "api"
    assert library(app, me) == []
    # The same file uploaded from the app is a library song.
    upload(app, me, song_wav(4, seed=37), "mine.wav")
    assert [item["kind"] for item in library(app, me)] == ["upload"]
