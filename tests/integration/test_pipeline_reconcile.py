"""An execution that ends outside the Catch (States.Runtime: no Retry or Catch applies) still fails
its job: the local runner's stand-in for the EventBridge rule on ended executions (moto, real audio)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from tests.integration.test_pipeline import run, upload
from tests.support.songs import song_wav

pytestmark = pytest.mark.integration


def without_cached(probe):
    """Probe's payload without ``cached``: the Probe state's ResultSelector (``$.Payload.cached``)
    then matches nothing, a States.Runtime that skips MarkFailed (see workflow/README.md)."""

    def step(payload):
        result = dict(probe(payload))
        result.pop("cached")
        return result

    return step


@pytest.fixture()
def services(dev_settings, tmp_path):
    from melody.core.services import Services

    services = Services(dev_settings.model_copy(update={"work_dir": tmp_path}), workflow=object())
    yield services
    runner = getattr(services, "runner", None)
    if runner is not None:
        runner.shutdown()


def start_runner(services, *, reconcile: bool):
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    reconciler = services.execution_reconciler if reconcile else None
    services.runner = build_runner(services.steps, sleep=lambda _s: None, reconciler=reconciler)
    services.use_workflow(LocalWorkflowStarter(services.runner, STATE_MACHINE))


def runtime_failure(services, user_id, *, reconcile: bool):
    services.steps.probe = without_cached(services.steps.probe)  # instance attribute shadows the method
    start_runner(services, reconcile=reconcile)  # after the patch: the runner binds the steps it is given
    body = song_wav(3, seed=uuid.uuid4().int % 1_000_000)
    job = upload(services, user_id, body)
    _, execution = run(services, job, len(body))
    assert execution["status"] == "FAILED" and execution["error"] == "States.Runtime", execution
    history = services.runner.get_execution(execution["executionArn"]).history
    assert "MarkFailed" not in {e.get("state") for e in history}  # the Catch did not run
    return job


def test_a_states_runtime_execution_leaves_the_job_failed_and_keeps_the_upload(services):
    job = runtime_failure(services, "usr_recon1", reconcile=True)
    failed = services.jobs.get_for_user("usr_recon1", job.job_id)
    assert failed.status == "failed" and failed.error.code == "workflow_failed"
    assert failed.finished_at is not None
    assert services.storage.head(job.bucket, job.key) is not None  # the upload is kept
    assert services.storage.head(failed.original_bucket, failed.original_key) is not None  # and its original
    # the job can be run again (a new execution, <job id>-r1)
    assert services.jobs.retry("usr_recon1", job.job_id).status == "queued"


def test_without_the_reconciler_such_a_job_stays_processing(services):
    """The gap the reconciler closes (and what AWS does without the rule)."""
    job = runtime_failure(services, "usr_recon2", reconcile=False)
    assert services.jobs.get_for_user("usr_recon2", job.job_id).status == "processing"


def test_a_caught_failure_keeps_mark_faileds_reason(services):
    """Every caught failure also ends FAILED: the reconciler then finds the job failed and leaves its code."""
    start_runner(services, reconcile=True)
    body = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64
    job = upload(services, "usr_recon3", body, name="broken.wav")
    _, execution = run(services, job, len(body))
    assert execution["status"] == "FAILED"
    failed = services.jobs.get_for_user("usr_recon3", job.job_id)
    assert failed.error.code in ("corrupt_audio", "not_audio", "empty_audio")


def test_the_dev_stack_routes_ended_executions_to_the_reconciler(monkeypatch):
    """``attach_local_pipeline`` (``melody dev``) gives its runner the services' reconciler."""
    import melody_dev.local.pipeline as local
    import melody_dev.local.s3_gateway as gateway

    seen: dict = {}

    def fake_build_runner(steps, **options):
        seen.update(options)
        return SimpleNamespace()

    monkeypatch.setattr(local, "build_runner", fake_build_runner)
    monkeypatch.setattr(local, "LocalPipeline", lambda settings, services: SimpleNamespace(start=lambda: None))
    monkeypatch.setattr(gateway, "build_gateway", lambda settings, client: None)
    reconciler = object()
    services = SimpleNamespace(
        steps=object(), rendition_steps=object(), execution_reconciler=reconciler,
        use_workflow=lambda w: None, use_renditions_workflow=lambda w: None,
    )  # fmt: skip
    app = SimpleNamespace(state=SimpleNamespace(services=services), include_router=lambda router: None)
    settings = SimpleNamespace(work_dir="/tmp/melody-recon-test", aws_region="us-east-1", s3_endpoint_url=None)
    local.attach_local_pipeline(app, settings)
    assert seen["reconciler"] is reconciler


def test_the_services_reconciler_fails_a_rendition_left_processing(services):
    """The renditions machine's executions reach the same rule (and function): its store in DynamoDB."""
    import json

    from melody.renditions.dynamodb import DynamoRenditionStore, bind_rendition_model
    from melody.renditions.models import Rendition
    from melody.renditions.service import rendition_input

    reconciler = services.execution_reconciler
    bind_rendition_model(services.settings)
    store = DynamoRenditionStore()
    record = Rendition(rendition_id=f"rnd_{uuid.uuid4().hex[:24]}", result_key="abc#dsp", semitones=1, tempo=1.0,
                       status="processing", created_at=1.0, updated_at=1.0)  # fmt: skip
    assert store.create(record)
    event = {"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
             "detail": {"status": "ABORTED", "name": record.rendition_id, "input": json.dumps(rendition_input(record))}}  # fmt: skip
    assert reconciler.handle(event) == "marked"
    failed = store.get(record.rendition_id)
    assert failed.status == "failed" and failed.error.code == "workflow_aborted"
    assert reconciler.handle(event) == "unchanged"


# -- the failing write is conditional on the attempt read (a job retried in between is another run's) --


def stored_job(services, **fields):
    from melody.conversions.dynamodb import DynamoJobStore, bind_job_models
    from melody.conversions.models import Job

    bind_job_models(services.settings)
    store = DynamoJobStore()
    # Non-ASCII text and floats in the body: the write's condition compares the body read as stored.
    job = Job(job_id=f"job_{uuid.uuid4().hex[:20]}", user_id="usr_recon4", status="processing", progress=40,
              bucket="uploads", key="uploads/usr_recon4/a.mp3", title="Ёлка — 夜の歌", duration_s=183.27,
              tags={"artist": "Zoë"}, created_at=1_700_000_000.123, updated_at=1_700_000_100.5, **fields)  # fmt: skip
    store.create(job)
    return store, job


FAIL = {"status": "failed", "error": {"code": "workflow_failed", "message": "m"}, "finished_at": 2.0, "updated_at": 2.0}


def test_the_job_stores_transition_keeps_to_the_expected_attempt(services):
    store, job = stored_job(services, attempt=1)
    assert not store.transition(job.job_id, allowed_from={"processing"}, changes=FAIL, expected_attempt=0)
    assert store.get(job.job_id) == job  # nothing written
    assert store.transition(job.job_id, allowed_from={"processing"}, changes=FAIL, expected_attempt=1)
    assert store.get(job.job_id).status == "failed"


def test_a_retry_between_the_transitions_read_and_write_fails_the_write(services, monkeypatch):
    """Read attempt 0 ``processing`` at 40 %; before the write the job is failed, retried and started again:
    ``processing`` at 40 % once more, so status and progress alone would let attempt 1 be failed."""
    from melody.conversions.dynamodb import JobModel

    store, job = stored_job(services)
    read = JobModel.get
    raced: list[bool] = []

    def get_then_retry(job_id, **kwargs):
        item = read(job_id, **kwargs)
        if not raced:
            raced.append(True)
            assert store.transition(job_id, allowed_from={"processing"}, changes=FAIL)  # MarkFailed
            retry = {"status": "queued", "error": None, "attempt": 1, "finished_at": None, "updated_at": 3.0}
            assert store.transition(job_id, allowed_from={"failed"}, changes=retry)  # the user's retry
            assert store.transition(job_id, allowed_from={"queued"}, changes={"status": "processing"})  # r1 starts
        return item

    monkeypatch.setattr(JobModel, "get", get_then_retry)
    assert not store.transition(job.job_id, allowed_from={"queued", "processing"}, changes=FAIL, expected_attempt=0)
    monkeypatch.undo()
    retried = store.get(job.job_id)
    assert (retried.status, retried.progress, retried.attempt, retried.error) == ("processing", 40, 1, None)


def test_the_services_reconciler_leaves_a_rendition_asked_for_again_while_reconciling(services, monkeypatch):
    """The renditions' Tracked is wired with their attempt: the race above, through the whole reconciler."""
    import json

    from melody.renditions.dynamodb import DynamoRenditionStore, bind_rendition_model
    from melody.renditions.models import Rendition
    from melody.renditions.service import rendition_input

    reconciler = services.execution_reconciler
    bind_rendition_model(services.settings)
    record = Rendition(rendition_id=f"rnd_{uuid.uuid4().hex[:24]}", result_key="abc#dsp", semitones=1, tempo=1.0,
                       status="processing", created_at=1.0, updated_at=1.0)  # fmt: skip
    assert DynamoRenditionStore().create(record)
    transition = DynamoRenditionStore.transition
    raced: list[bool] = []

    def retried_first(self, rendition_id, **kwargs):
        if not raced:  # the reconciler's write: failed by MarkFailed and asked for again just before it
            raced.append(True)
            again = {"status": "queued", "error": None, "attempt": 1, "progress": 0, "updated_at": 2.0}
            assert transition(self, rendition_id, allowed_from={"processing"}, changes={"status": "failed"})
            assert transition(self, rendition_id, allowed_from={"failed"}, changes=again)
        return transition(self, rendition_id, **kwargs)

    monkeypatch.setattr(DynamoRenditionStore, "transition", retried_first)
    event = {"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
             "detail": {"status": "ABORTED", "name": record.rendition_id, "input": json.dumps(rendition_input(record))}}  # fmt: skip
    assert reconciler.handle(event) == "stale"
    monkeypatch.undo()
    again = DynamoRenditionStore().get(record.rendition_id)
    assert (again.status, again.attempt, again.error) == ("queued", 1, None)
