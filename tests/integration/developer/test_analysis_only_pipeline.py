"""Issue 11 over moto with the real ASL file, the local runner and the real audio engine: a B2B
analysis without stems is analysed only (no separation, no stems in the media bucket); the same
audio as an app upload is separated and the shared result gains the stems; a later analysis-only
job reuses it. B2B analyses do not count toward the owner's storage quota."""

from __future__ import annotations

import pytest

from tests.support.songs import song_wav

pytestmark = pytest.mark.integration


@pytest.fixture()
def pipeline(dev_settings, tmp_path):
    from melody.core.services import Services
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    settings = dev_settings.model_copy(update={"work_dir": tmp_path})
    services = Services(settings, workflow=object())
    steps = services.steps
    separated: list[str] = []
    real_separate = steps.separate

    def separate(state):  # the runner binds the step when it is built: count every call
        separated.append(state["job_id"])
        return real_separate(state)

    steps.separate = separate
    runner = build_runner(steps, sleep=lambda _s: None)
    services.use_workflow(LocalWorkflowStarter(runner, STATE_MACHINE))
    services.runner, services.separated = runner, separated
    yield services
    runner.shutdown()


def process(services, user_id: str, body: bytes, **kw):
    """Create the job, upload its object, deliver the S3 event; the finished job and its states."""
    from melody.conversions.trigger import handle_object_created
    from melody_dev.local.pipeline import STATE_MACHINE

    job, _ = services.jobs.create_upload(user_id, filename="probe.wav", content_type="audio/wav", size_bytes=len(body),
                                         engine=None, **kw)  # fmt: skip
    services.storage._client.put_object(Bucket=job.bucket, Key=job.key, Body=body, ContentType="audio/wav")
    head = services.storage.head(job.bucket, job.key)
    event = {
        "version": "0", "id": "e1", "detail-type": "Object Created", "source": "aws.s3", "account": "123456789012",
        "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"version": "0", "bucket": {"name": job.bucket},
                   "object": {"key": job.key, "size": len(body), "etag": head["ETag"].strip('"'), "sequencer": "1"},
                   "request-id": "r", "requester": "u", "source-ip-address": "127.0.0.1", "reason": "PutObject"},
    }  # fmt: skip
    assert handle_object_created(event, services.jobs) == "started"
    arn = f"{services.runner.state_machine_arn(STATE_MACHINE).replace(':stateMachine:', ':execution:')}:{job.job_id}"
    execution = services.runner.wait(arn, timeout=300)
    assert execution["status"] == "SUCCEEDED", execution
    history = services.runner.get_execution(execution["executionArn"]).history
    entered = {e.get("state") for e in history if e["type"].endswith("StateEntered")}
    return services.jobs.get_for_user(user_id, job.job_id), entered


def media_keys(services, prefix: str) -> list[str]:
    page = services.storage._client.list_objects_v2(Bucket=services.settings.media_bucket, Prefix=prefix)
    return [o["Key"] for o in page.get("Contents", [])]


def test_analysis_only_then_full_then_reuse(pipeline):
    body = song_wav(6, bpm=110, seed=4242)

    # 1. A B2B analysis without stems: analysed only.
    only, entered = process(pipeline, "usr_b2bonly1", body, client="api", separate=False)
    assert only.status == "succeeded" and only.separate is False and only.client == "api"
    assert "AnalyseOnly" in entered and not {"Process", "Separate", "Melody", "ReuseResults"} & entered
    assert pipeline.separated == []
    result = pipeline.jobs._results.get(only.result_key)
    assert result is not None and not result.has_stems and result.stem_keys == {} and result.melody is None
    assert media_keys(pipeline, f"stems/{only.content_hash}/") == []  # no stem was written
    links = pipeline.jobs.result_links(only)
    assert links["analysis"]["tempo"]["bpm"] > 0 and links["waveform_url"] and links["stems"] == []
    assert "instrumental_url" not in links

    # 2. The same audio as an app upload (stems wanted): not reused; separated; the result gains its stems.
    full, entered = process(pipeline, "usr_b2bfull1", body)
    assert "Separate" in entered and "ReuseResults" not in entered
    assert pipeline.separated == [full.job_id]
    assert full.content_hash == only.content_hash and full.result_key == only.result_key
    upgraded = pipeline.jobs._results.get(full.result_key)
    assert upgraded is not None and upgraded.has_stems and {"instrumental", "vocals"} <= set(upgraded.stem_keys)
    assert upgraded.analysis == result.analysis  # the first analysis is kept
    assert set(media_keys(pipeline, f"stems/{full.content_hash}/")) >= set(upgraded.stem_keys.values())
    assert pipeline.jobs.result_links(full)["instrumental_url"]
    # the analysis-only job still serves no stems, even though its shared result has them now
    assert "instrumental_url" not in pipeline.jobs.result_links(pipeline.jobs.get_for_user("usr_b2bonly1", only.job_id))

    # 3. Another analysis-only job on that audio: reused, nothing separated.
    again, entered = process(pipeline, "usr_b2bonly2", body, client="api", separate=False)
    assert "ReuseResults" in entered and "AnalyseOnly" not in entered
    assert pipeline.separated == [full.job_id] and again.result_key == full.result_key
    assert pipeline.jobs.result_links(again)["stems"] == []


def test_the_result_store_keeps_a_stemless_result_and_adds_stems_once(pipeline):
    """Stored stem-less results read back as such, and the store adds stems to them exactly once."""
    from melody.conversions.models import AudioResult

    store = pipeline.jobs._results
    key = "cd" * 32 + "#dsp"
    base = dict(result_key=key, content_hash="cd" * 32, engine="dsp", engine_version="1", waveform_key="w",
                analysis_key="a", analysis={"tempo": {"bpm": 100.0}}, created_at=1.0)  # fmt: skip
    assert store.put_if_absent(AudioResult(**base, has_stems=False))
    assert store.get(key).has_stems is False
    full = AudioResult(**base, instrumental_key="stems/i.m4a", vocals_key="stems/v.m4a", melody={"status": "succeeded"})
    assert not store.put_if_absent(full)
    assert store.add_stems(full) is True
    assert store.add_stems(full) is False  # once: a racing second full run writes nothing
    stored = store.get(key)
    assert stored.has_stems and stored.stem_keys == {"instrumental": "stems/i.m4a", "vocals": "stems/v.m4a"}
    assert stored.melody == {"status": "succeeded"} and stored.analysis == {"tempo": {"bpm": 100.0}}


def test_b2b_analyses_do_not_count_toward_the_storage_quota(pipeline):
    body = song_wav(2, seed=4243)
    process(pipeline, "usr_b2bquota", body, client="api", separate=False)
    assert pipeline.jobs._jobs.stored_bytes("usr_b2bquota", pending_since=0) == 0
    process(pipeline, "usr_b2bquota", body)  # an app upload of the same user counts
    assert pipeline.jobs._jobs.stored_bytes("usr_b2bquota", pending_since=0) == len(body)
