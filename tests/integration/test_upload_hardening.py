"""Uploads over moto and the dev stack's real ``/local-s3`` gateway: the declared size is bound, a
replayed form cannot change what a job serves, and creating uploads is limited per user."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import auth_header
from tests.integration.test_pipeline import event_for
from tests.support.songs import song_wav

pytestmark = pytest.mark.integration


@pytest.fixture()
def stack(dev_settings, tmp_path):
    """The jobs service with the local ASL runner, and the S3 gateway the browser posts forms to."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from melody.core.s3 import s3_client
    from melody.core.services import Services
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.s3_gateway import build_gateway
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    settings = dev_settings.model_copy(update={"work_dir": tmp_path})
    services = Services(settings, workflow=object())
    runner = build_runner(services.steps, sleep=lambda _s: None)
    services.use_workflow(LocalWorkflowStarter(runner, STATE_MACHINE))
    services.runner = runner
    app = FastAPI()
    app.include_router(build_gateway(settings, s3_client(settings.aws_region, settings.s3_endpoint_url)))
    with TestClient(app) as gateway:
        services.gateway = gateway
        yield services
    runner.shutdown()


def post_form(services, post: dict, body: bytes, name: str = "a.mp3", content_type: str = "audio/mpeg"):
    """The browser's POST of a presigned form, through the gateway (``/local-s3/<bucket>``)."""
    bucket = post["url"].rstrip("/").rsplit("/", 1)[-1]
    return services.gateway.post(f"/local-s3/{bucket}", data=post["fields"], files={"file": (name, body, content_type)})


def user() -> str:
    return "usr_" + uuid.uuid4().hex[:24]


# -- 1. the declared size ----------------------------------------------------------------------------


def test_the_gateway_refuses_a_file_of_another_size_than_declared(stack):
    owner = user()
    job, post = stack.jobs.create_upload(owner, filename="a.mp3", content_type="audio/mpeg", size_bytes=1000, engine=None)
    big = post_form(stack, post, b"\xff" * (321 * 1024))
    assert big.status_code == 400 and "EntityTooLarge" in big.text
    small = post_form(stack, post, b"\xff" * 999)
    assert small.status_code == 400 and "EntityTooSmall" in small.text
    assert stack.storage.head(job.bucket, job.key) is None  # nothing stored, no event, the job waits
    assert stack.jobs.get_for_user(owner, job.job_id).status == "awaiting_upload"
    exact = post_form(stack, post, b"\xff" * 1000)
    assert exact.status_code == 204
    assert stack.storage.head(job.bucket, job.key)["ContentLength"] == 1000


# -- 2. a replayed form --------------------------------------------------------------------------------


def run(services, job) -> tuple[str, dict]:
    from melody.conversions.trigger import handle_object_created
    from melody_dev.local.pipeline import STATE_MACHINE

    outcome = handle_object_created(event_for(services, job), services.jobs)
    arn = f"{services.runner.state_machine_arn(STATE_MACHINE).replace(':stateMachine:', ':execution:')}:{job.job_id}"
    return outcome, services.runner.wait(arn, timeout=300)


def test_a_form_posted_again_after_success_changes_nothing_the_job_serves(stack, capsys, caplog):
    import httpx

    from melody.conversions.trigger import handle_object_created

    owner = user()
    song = song_wav(4, seed=21)
    job, post = stack.jobs.create_upload(owner, filename="song.wav", content_type="audio/wav", size_bytes=len(song), engine=None)
    assert post_form(stack, post, song, "song.wav", "audio/wav").status_code == 204
    outcome, execution = run(stack, job)
    assert outcome == "started" and execution["status"] == "SUCCEEDED", execution
    done = stack.jobs.get_for_user(owner, job.job_id)
    assert done.status == "succeeded"
    assert httpx.get(stack.jobs.result_links(done)["original_url"]).content == song
    accepted_event = event_for(stack, job)

    # The same presigned fields again, within their lifetime, with other bytes of the same size:
    # S3 cannot refuse it (the gateway neither), and the object at the upload key is replaced.
    other = bytearray(song)
    other[-100:] = b"\x01" * 100
    assert post_form(stack, post, bytes(other), "song.wav", "audio/wav").status_code == 204
    capsys.readouterr()
    outcome = handle_object_created(event_for(stack, job), stack.jobs)

    # What the job serves is still the accepted bytes, and nothing ran again.
    after = stack.jobs.get_for_user(owner, job.job_id)
    assert (after.status, after.result_key) == ("succeeded", done.result_key)
    assert httpx.get(stack.jobs.result_links(after)["original_url"]).content == song
    assert len(stack.runner.list_executions("audio_pipeline")) == 1
    # ... because the job's original is an immutable copy no form can write, and the event was ignored,
    assert after.original_key == done.original_key and after.original_key.startswith(f"originals/{owner}/{job.job_id}/")
    assert outcome == "replay_ignored"
    assert '"UploadReplayIgnored"' in capsys.readouterr().out  # the metric (EMF)
    assert "upload replay ignored" in caplog.messages  # the structured log line
    # ... while a retried delivery of the accepted object's event is still a plain duplicate.
    assert handle_object_created(accepted_event, stack.jobs) == "duplicate"
    assert len(stack.runner.list_executions("audio_pipeline")) == 1


# -- 3. limits on creating uploads ------------------------------------------------------------------


@pytest.fixture()
def limited_api(dev_settings):
    """The full app with its own limits; returns (client, headers_for(user_id))."""
    from fastapi.testclient import TestClient

    from melody.api.apps import full_app
    from melody.core.services import Services

    def build(**limits):
        services = Services(dev_settings.model_copy(update=limits), workflow=object())

        def headers(user_id: str) -> dict[str, str]:
            return auth_header(services.tokens.issue(user_id).access_token)

        client = TestClient(full_app(services))
        return client, headers

    return build


BODY = {"filename": "a.mp3", "content_type": "audio/mpeg", "size_bytes": 1000}


def test_a_burst_of_upload_creations_is_refused_with_retry_after(limited_api):
    client, headers = limited_api()  # the default limits
    me = headers(user())
    statuses = [client.post("/api/v1/audio/uploads", json=BODY, headers=me) for _ in range(40)]
    assert [r.status_code for r in statuses].count(201) == 10
    refused = [r for r in statuses if r.status_code != 201]
    assert {r.status_code for r in refused} == {429}
    for response in refused:
        error = response.json()["error"]
        assert error["code"] in ("rate_limited", "too_many_pending_uploads") and error["message"]
        assert int(response.headers["Retry-After"]) == error["details"]["retry_after_s"] >= 1
    # Another user is not held back by this one.
    assert client.post("/api/v1/audio/uploads", json=BODY, headers=headers(user())).status_code == 201


def test_creation_rate_is_limited_per_minute(limited_api):
    client, headers = limited_api(uploads_per_user_per_minute=3, max_pending_uploads_per_user=100)
    me = headers(user())
    codes = [client.post("/api/v1/audio/uploads", json=BODY, headers=me) for _ in range(5)]
    assert [r.status_code for r in codes] == [201, 201, 201, 429, 429]
    assert codes[-1].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(codes[-1].headers["Retry-After"]) <= 120


def test_pending_uploads_are_limited_and_stop_counting_once_uploaded(limited_api, dev_settings):
    from melody.conversions.trigger import handle_object_created
    from melody.core.services import Services

    client, headers = limited_api(uploads_per_user_per_minute=100, max_pending_uploads_per_user=2)
    owner = user()
    me = headers(owner)
    first = client.post("/api/v1/audio/uploads", json=BODY, headers=me).json()
    assert client.post("/api/v1/audio/uploads", json=BODY, headers=me).status_code == 201
    refused = client.post("/api/v1/audio/uploads", json=BODY, headers=me)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_pending_uploads"
    expires = dev_settings.upload_url_expires_s
    assert 1 <= int(refused.headers["Retry-After"]) <= expires

    # The first form is used: its job leaves awaiting_upload and no longer counts.
    services = Services(dev_settings, workflow=_Started())
    job = services.jobs.get_for_user(owner, first["job_id"])
    services.storage._client.put_object(Bucket=job.bucket, Key=job.key, Body=b"\xff" * 1000, ContentType="audio/mpeg")
    assert handle_object_created(event_for(services, job), services.jobs) == "started"
    assert client.post("/api/v1/audio/uploads", json=BODY, headers=me).status_code == 201


class _Started:
    def start(self, name, payload):
        return True


def test_the_openapi_document_names_429_on_upload_creation():
    with open("openapi.json") as handle:
        document = json.load(handle)
    responses = document["paths"]["/api/v1/audio/uploads"]["post"]["responses"]
    assert "429" in responses and "Retry-After" in responses["429"]["headers"]
