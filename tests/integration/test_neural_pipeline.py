"""The neural engine through the real pipeline: the ASL file in the local runner over moto, the
step code of the Lambdas, the tiny hybrid model exported by the test (random weights).

A job asks for ``engine: neural``; the state machine routes it to SeparateNeural; the result
carries five stems (instrumental, vocals, drums, bass, other) that the status and download
routes expose. Missing weights, a checksum mismatch and the memory guard each fail the job with
their own code, cleanly (the job is FAILED, the upload kept).
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.integration.test_pipeline import run
from tests.support.songs import song_wav

pytestmark = pytest.mark.integration
pytest.importorskip("torch", reason="torch (dev extra) builds the tiny test model")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tests.unit.audio.test_neural_tiny_model import export_tiny_hybrid

    return export_tiny_hybrid(tmp_path_factory.mktemp("neural"))


def neural_pipeline(dev_settings, tmp_path, **neural):
    from melody.core.services import Services
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    settings = dev_settings.model_copy(update={"work_dir": tmp_path, "engines": ["dsp", "neural"], **neural})
    services = Services(settings, workflow=object())
    runner = build_runner(services.steps, sleep=lambda _s: None)
    services.use_workflow(LocalWorkflowStarter(runner, STATE_MACHINE))
    services.runner = runner
    return services


@pytest.fixture()
def make_pipeline(dev_settings, tmp_path):
    made = []

    def make(**neural):
        services = neural_pipeline(dev_settings, tmp_path, **neural)
        made.append(services)
        return services

    yield make
    for services in made:
        services.runner.shutdown()


def neural_upload(services, user_id: str, body: bytes):
    job, _ = services.jobs.create_upload(user_id, filename="song.wav", content_type="audio/wav", size_bytes=len(body), engine="neural")
    services.storage._client.put_object(Bucket=job.bucket, Key=job.key, Body=body, ContentType="audio/wav")
    return job


def test_a_neural_job_runs_end_to_end_and_exposes_every_stem(make_pipeline, tiny_model):
    pipeline = make_pipeline(neural_weights=str(tiny_model))
    body = song_wav(5, seed=14)
    job = neural_upload(pipeline, "usr_neural1", body)
    assert job.engine == "neural"
    _, execution = run(pipeline, job)
    assert execution["status"] == "SUCCEEDED", execution
    history = pipeline.runner.get_execution(execution["executionArn"]).history
    entered = [e.get("state") for e in history if e["type"] == "TaskStateEntered"]
    assert "SeparateNeural" in entered and "Separate" not in entered

    done = pipeline.jobs.get_for_user("usr_neural1", job.job_id)
    # keyed by the weights (their manifest's SHA-256) and the analysis' version: other weights or
    # another analysis never reuse these stems
    import melody_audio

    manifest_sha = json.loads((tiny_model / "model.json").read_text())["sha256"]
    revision = f"{manifest_sha[:16]}.a{melody_audio.__version__}"
    assert done.status == "succeeded" and done.result_key.endswith(f"#neural@{revision}")
    assert f"/neural@{revision}/" in pipeline.jobs._results.get(done.result_key).vocals_key
    result = pipeline.jobs._results.get(done.result_key)
    assert set(result.extra_stem_keys) == {"drums", "bass", "other"}
    sha = json.loads((tiny_model / "model.json").read_text())["sha256"]
    assert result.engine == "neural" and result.engine_version == f"onnx-{sha[:12]}"
    s3 = pipeline.storage._client
    for key in (result.instrumental_key, result.vocals_key, *result.extra_stem_keys.values()):
        obj = s3.head_object(Bucket=pipeline.settings.media_bucket, Key=key)
        assert obj["ContentLength"] > 1000 and obj["ContentType"] == "audio/mp4"

    links = pipeline.jobs.result_links(done)
    assert links["stems"] == ["instrumental", "vocals", "drums", "bass", "other"]
    assert all(links[f"{name}_url"] for name in links["stems"])
    assert links["analysis"]["engine"] == {"name": "neural", "version": f"onnx-{sha[:12]}"}
    # the API's shape: the extra stems are in the job's results, and downloadable
    from melody.conversions.schemas import JobOut

    out = JobOut.of(done, links).model_dump()
    assert out["results"]["drums_url"] and out["results"]["stems"][-1] == "other"
    download = pipeline.jobs.download("usr_neural1", job.job_id, "bass", "m4a")
    assert download["filename"].endswith("(bass).m4a")
    from melody.core.errors import NotFound

    with pytest.raises(NotFound):  # someone else's job: not found, whatever the stem
        pipeline.jobs.download("usr_other", job.job_id, "bass", "m4a")
    # deleting the only job of this audio deletes every stem it had
    pipeline.jobs.delete("usr_neural1", job.job_id)
    for key in (result.instrumental_key, *result.extra_stem_keys.values()):
        with pytest.raises(s3.exceptions.ClientError):
            s3.head_object(Bucket=pipeline.settings.media_bucket, Key=key)


def test_a_two_stem_result_has_no_extra_stems_to_download(make_pipeline):
    from melody.core.errors import NotFound

    pipeline = make_pipeline()
    body = song_wav(4, seed=15)
    job, _ = pipeline.jobs.create_upload("usr_neural2", filename="a.wav", content_type="audio/wav", size_bytes=len(body), engine=None)
    pipeline.storage._client.put_object(Bucket=job.bucket, Key=job.key, Body=body, ContentType="audio/wav")
    _, execution = run(pipeline, job)
    assert execution["status"] == "SUCCEEDED"
    done = pipeline.jobs.get_for_user("usr_neural2", job.job_id)
    links = pipeline.jobs.result_links(done)
    assert links["stems"] == ["instrumental", "vocals"] and "drums_url" not in links
    with pytest.raises(NotFound) as exc:
        pipeline.jobs.download("usr_neural2", job.job_id, "drums", "m4a")
    assert exc.value.code == "stem_not_found" and exc.value.details["stems"] == ["instrumental", "vocals", "original"]


def test_an_engine_the_deployment_does_not_offer_is_refused_at_upload(make_pipeline):
    from melody.core.errors import InvalidInput

    pipeline = make_pipeline()
    pipeline.jobs._engines = frozenset({"dsp"})
    with pytest.raises(InvalidInput) as exc:
        pipeline.jobs.create_upload("usr_neural3", filename="a.wav", content_type="audio/wav", size_bytes=100, engine="neural")
    assert exc.value.code == "engine_unavailable" and exc.value.details == {"engines": ["dsp"]}


@pytest.mark.parametrize("case", ["missing", "checksum", "memory"])
def test_neural_failures_fail_the_job_cleanly_with_their_code(make_pipeline, tiny_model, tmp_path, case):
    if case == "missing":
        pipeline, code = make_pipeline(neural_weights=str(tmp_path / "absent" / "model.onnx")), "model_missing"
    elif case == "checksum":
        pipeline, code = make_pipeline(neural_weights=str(tiny_model), neural_weights_sha256="ab" * 32), "model_checksum_mismatch"
    else:
        greedy = tmp_path / "greedy"
        shutil.copytree(tiny_model, greedy)
        manifest = json.loads((greedy / "model.json").read_text())
        (greedy / "model.json").write_text(json.dumps({**manifest, "memory_factor": 1e5}))  # ~6.5 GB a chunk
        pipeline, code = make_pipeline(neural_weights=str(greedy), neural_memory_budget_mb=512), "model_out_of_memory"
    body = song_wav(3, seed=16)
    job = neural_upload(pipeline, f"usr_neuralf{case}", body)
    _, execution = run(pipeline, job)
    assert execution["status"] == "FAILED"
    failed = pipeline.jobs.get_for_user(f"usr_neuralf{case}", job.job_id)
    assert failed.status == "failed" and failed.error.code == code
    from melody.conversions.steps import failure_kind

    assert failure_kind(code) == "system"  # the operator's configuration, not the user's file: retryable later
    assert pipeline.storage.head(job.bucket, job.key) is not None  # the upload is kept
