"""The real ASL file run by the local runner over moto, with the real audio engine."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support.songs import song_wav

pytestmark = pytest.mark.integration


class FlakyOnce:
    """Fails the first call with a Lambda service error, like a throttled invoke."""

    def __init__(self, method, error="Lambda.TooManyRequestsException"):
        self.method, self.error, self.calls = method, error, 0

    def __call__(self, payload):
        from melody_dev.workflow import StatesError

        self.calls += 1
        if self.calls == 1:
            raise StatesError(self.error, "Rate exceeded")
        return self.method(payload)


@pytest.fixture()
def pipeline(dev_settings, tmp_path):
    from melody.core.services import Services
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    settings = dev_settings.model_copy(update={"work_dir": tmp_path})
    services = Services(settings, workflow=object())
    runner = build_runner(services.steps, sleep=lambda _s: None)
    services.use_workflow(LocalWorkflowStarter(runner, STATE_MACHINE))
    services.runner = runner
    yield services
    runner.shutdown()


def upload(services, user_id: str, body: bytes, name: str = "song.wav", content_type: str = "audio/wav"):
    job, _ = services.jobs.create_upload(user_id, filename=name, content_type=content_type, size_bytes=len(body), engine=None)
    services.storage._client.put_object(Bucket=job.bucket, Key=job.key, Body=body, ContentType=content_type)
    return job


def s3_event(bucket: str, key: str, size: int, etag: str) -> dict:
    """The sample event, for the object now at ``key`` (S3 names the object's ETag in it)."""
    with open("events/eventbridge_s3_object_created.json") as handle:
        event = json.load(handle)
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"].update({"key": key, "size": size, "etag": etag})
    return event


def event_for(services, job) -> dict:
    head = services.storage.head(job.bucket, job.key)
    return s3_event(job.bucket, job.key, head["ContentLength"], head["ETag"].strip('"'))


def run(services, job, size=None):
    from melody.conversions.trigger import handle_object_created
    from melody_dev.local.pipeline import STATE_MACHINE

    outcome = handle_object_created(event_for(services, job), services.jobs)
    arn = f"{services.runner.state_machine_arn(STATE_MACHINE).replace(':stateMachine:', ':execution:')}:{job.job_id}"
    return outcome, services.runner.wait(arn, timeout=300)


def test_upload_is_processed_once_and_the_same_audio_is_reused(pipeline):
    body = song_wav(12)
    job = upload(pipeline, "usr_pipe1", body)
    outcome, execution = run(pipeline, job, len(body))
    assert outcome == "started" and execution["status"] == "SUCCEEDED", execution
    done = pipeline.jobs.get_for_user("usr_pipe1", job.job_id)
    assert (done.status, done.progress, done.stage) == ("succeeded", 100, "done")
    assert {"probe", "separate", "analyse", "persist"} <= set(done.stage_timings)
    links = pipeline.jobs.result_links(done)
    assert links["analysis"]["tempo"]["bpm"] > 0 and links["analysis"]["key"]["camelot"]
    # analysis.json names the engine that produced the stems (the job's engine, with its version)
    from melody_audio.separate import DspEngine

    assert links["engine"] == links["analysis"]["engine"] == {"name": "dsp", "version": DspEngine.version}
    result = pipeline.jobs._results.get(done.result_key)
    stored = json.loads(
        pipeline.storage._client.get_object(Bucket=pipeline.settings.media_bucket, Key=result.analysis_key)["Body"].read()
    )
    assert stored["engine"] == {"name": "dsp", "version": DspEngine.version}

    # A replayed event starts nothing and writes nothing.
    from melody.conversions.trigger import handle_object_created

    assert handle_object_created(event_for(pipeline, job), pipeline.jobs) == "duplicate"
    assert len(pipeline.runner.list_executions("audio_pipeline")) == 1

    # The same audio again: the hash matches, the results are reused.
    again = upload(pipeline, "usr_pipe2", body, name="copy.wav")
    _, execution = run(pipeline, again, len(body))
    history = pipeline.runner.get_execution(execution["executionArn"]).history
    entered = [e.get("state") for e in history if e["type"] == "TaskStateEntered"]
    assert "ReuseResults" in entered and "Separate" not in entered
    reused = pipeline.jobs.get_for_user("usr_pipe2", again.job_id)
    assert reused.status == "succeeded" and reused.result_key == done.result_key


def test_corrupt_upload_fails_with_a_reason_and_is_kept(pipeline):
    body = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64
    job = upload(pipeline, "usr_pipe3", body, name="broken.wav")
    _, execution = run(pipeline, job, len(body))
    assert execution["status"] == "FAILED"
    failed = pipeline.jobs.get_for_user("usr_pipe3", job.job_id)
    assert failed.status == "failed" and failed.error.code in ("corrupt_audio", "not_audio", "empty_audio")
    assert pipeline.storage.head(job.bucket, job.key) is not None  # the upload is kept


def test_an_object_of_another_size_than_declared_fails_the_job_and_is_kept(pipeline):
    """The policy binds the declared size; an object that got past it anyway never reaches the engine."""
    body = song_wav(3, seed=6)
    job, _ = pipeline.jobs.create_upload("usr_pipe7", filename="a.wav", content_type="audio/wav", size_bytes=1000, engine=None)
    pipeline.storage._client.put_object(Bucket=job.bucket, Key=job.key, Body=body, ContentType="audio/wav")
    from melody.conversions.trigger import handle_object_created

    assert handle_object_created(event_for(pipeline, job), pipeline.jobs) == "rejected"
    failed = pipeline.jobs.get_for_user("usr_pipe7", job.job_id)
    assert (failed.status, failed.error.code) == ("failed", "size_mismatch")
    assert pipeline.runner.list_executions("audio_pipeline") == []
    assert pipeline.storage.head(job.bucket, job.key)["ContentLength"] == len(body)  # the upload is kept


def test_probe_fails_a_copy_that_is_not_the_declared_size(pipeline):
    """The probe step checks the bytes it processes against the declared size, whatever started it."""
    from melody.conversions.service import pipeline_input
    from melody_dev.local.pipeline import STATE_MACHINE

    body = song_wav(3, seed=6)
    job, _ = pipeline.jobs.create_upload("usr_pipe8", filename="a.wav", content_type="audio/wav", size_bytes=1000, engine=None)
    pipeline.storage._client.put_object(Bucket=job.bucket, Key=job.key, Body=body, ContentType="audio/wav")
    pipeline.jobs._workflow.start(job.job_id, pipeline_input(job))
    arn = f"{pipeline.runner.state_machine_arn(STATE_MACHINE).replace(':stateMachine:', ':execution:')}:{job.job_id}"
    execution = pipeline.runner.wait(arn, timeout=300)
    assert execution["status"] == "FAILED"
    failed = pipeline.jobs.get_for_user("usr_pipe8", job.job_id)
    assert (failed.status, failed.error.code) == ("failed", "size_mismatch")
    assert pipeline.storage.head(job.bucket, job.key) is not None


def test_a_step_that_fails_once_is_retried(pipeline):
    pipeline.steps.probe = FlakyOnce(pipeline.steps.probe)  # instance attribute shadows the method
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    pipeline.runner = build_runner(pipeline.steps, sleep=lambda _s: None)
    pipeline.jobs._workflow = LocalWorkflowStarter(pipeline.runner, STATE_MACHINE)
    body = song_wav(6, seed=3)
    job = upload(pipeline, "usr_pipe4", body)
    _, execution = run(pipeline, job, len(body))
    assert execution["status"] == "SUCCEEDED"
    assert pipeline.steps.probe.calls == 2
    history = pipeline.runner.get_execution(execution["executionArn"]).history
    assert any(e["type"] == "RetryScheduled" for e in history)


def test_a_step_that_keeps_failing_marks_the_job_failed(pipeline):
    def broken(_payload):
        raise RuntimeError("disk on fire")

    pipeline.steps.analyse = broken
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    pipeline.runner = build_runner(pipeline.steps, sleep=lambda _s: None)
    pipeline.jobs._workflow = LocalWorkflowStarter(pipeline.runner, STATE_MACHINE)
    body = song_wav(6, seed=4)
    job = upload(pipeline, "usr_pipe5", body)
    _, execution = run(pipeline, job, len(body))
    assert execution["status"] == "FAILED" and execution["error"] == "RuntimeError"
    failed = pipeline.jobs.get_for_user("usr_pipe5", job.job_id)
    assert failed.error.code == "processing_failed" and "disk" not in failed.error.message


def test_an_engine_without_its_weights_fails_the_job_clearly(pipeline):
    # (the neural engine with weights, and its other failures: test_neural_pipeline.py)
    pipeline.jobs._engines = frozenset({"dsp", "neural"})  # a deployment that offers it but has no weights
    body = song_wav(4, seed=5)
    job, _ = pipeline.jobs.create_upload("usr_pipe6", filename="a.wav", content_type="audio/wav", size_bytes=len(body), engine="neural")
    pipeline.storage._client.put_object(Bucket=job.bucket, Key=job.key, Body=body, ContentType="audio/wav")
    _, execution = run(pipeline, job, len(body))
    assert execution["status"] == "FAILED"
    failed = pipeline.jobs.get_for_user("usr_pipe6", job.job_id)
    assert failed.error.code == "model_missing"


def test_an_upload_deleted_before_processing_fails_its_job_with_object_missing(pipeline):
    from melody.conversions.trigger import handle_object_created

    body = song_wav(3, seed=31)
    job = upload(pipeline, "usr_pipegone", body)
    event = event_for(pipeline, job)
    pipeline.storage._client.delete_object(Bucket=job.bucket, Key=job.key)  # gone before the event is handled
    assert handle_object_created(event, pipeline.jobs) == "missing"
    failed = pipeline.jobs.get_for_user("usr_pipegone", job.job_id)
    assert failed.status == "failed" and failed.error.code == "object_missing"


def test_the_accepted_original_deleted_before_probe_fails_the_job_with_object_missing(pipeline):
    """After acceptance the pipeline reads the copy under originals/; if that vanishes, the job says so."""
    body = song_wav(3, seed=32)
    job = upload(pipeline, "usr_pipegone2", body)
    real_probe = pipeline.steps.probe

    def probe_after_the_copy_vanished(payload):
        pipeline.storage._client.delete_object(Bucket=payload["bucket"], Key=payload["key"])
        return real_probe(payload)

    pipeline.steps.probe = probe_after_the_copy_vanished
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    pipeline.runner = build_runner(pipeline.steps, sleep=lambda _s: None)
    pipeline.jobs._workflow = LocalWorkflowStarter(pipeline.runner, STATE_MACHINE)
    _, execution = run(pipeline, job, len(body))
    assert execution["status"] == "FAILED"
    failed = pipeline.jobs.get_for_user("usr_pipegone2", job.job_id)
    assert failed.status == "failed" and failed.error.code == "object_missing"


def test_a_step_that_times_out_once_is_retried_by_the_state_machine(pipeline):
    """A Lambda that hit its own timeout reports Sandbox.Timedout; the ASL gives the step one more try."""
    pipeline.steps.separate = FlakyOnce(pipeline.steps.separate, error="Sandbox.Timedout")
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    pipeline.runner = build_runner(pipeline.steps, sleep=lambda _s: None)
    pipeline.jobs._workflow = LocalWorkflowStarter(pipeline.runner, STATE_MACHINE)
    body = song_wav(4, seed=uuid.uuid4().int % 1_000_000)  # audio no other test made: no cached result to reuse
    job = upload(pipeline, "usr_pipeslow", body)
    _, execution = run(pipeline, job, len(body))
    assert execution["status"] == "SUCCEEDED", execution
    assert pipeline.steps.separate.calls == 2
