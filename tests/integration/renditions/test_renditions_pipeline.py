"""Renditions through the real ASL file in the local runner, over moto, with the real audio engine."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.songs import song_wav

pytestmark = pytest.mark.integration


def _execution_arn(services, machine: str, name: str) -> str:
    return f"{services.runner.state_machine_arn(machine).replace(':stateMachine:', ':execution:')}:{name}"


def converted_job(services, user_id: str, seed: int):
    from melody.conversions.trigger import handle_object_created
    from melody_dev.local.pipeline import STATE_MACHINE
    from tests.integration.test_pipeline import event_for, upload

    job = upload(services, user_id, song_wav(8, bpm=100.0, seed=seed))
    handle_object_created(event_for(services, job), services.jobs)
    execution = services.runner.wait(_execution_arn(services, STATE_MACHINE, job.job_id), timeout=300)
    assert execution["status"] == "SUCCEEDED", execution
    return services.jobs.get_for_user(user_id, job.job_id)


def wait_rendition(services, name: str) -> dict:
    from melody_dev.local.renditions import RENDITIONS_MACHINE

    return services.runner.wait(_execution_arn(services, RENDITIONS_MACHINE, name), timeout=300)


def test_a_rendition_is_rendered_once_then_served_from_the_cache(stack, tmp_path):
    import melody_audio

    job = converted_job(stack, "usr_rend1", seed=1301)
    rendition, ready = stack.renditions.request("usr_rend1", job.job_id, semitones=-2, tempo=0.9)
    assert not ready and rendition.status == "queued"
    execution = wait_rendition(stack, rendition.rendition_id)
    assert execution["status"] == "SUCCEEDED", execution

    done = stack.renditions.get("usr_rend1", job.job_id, rendition.rendition_id)
    assert (done.status, done.progress, done.stage) == ("succeeded", 100, "done")
    original = stack.jobs.result_links(job)["analysis"]
    notation = melody_audio.analysis.key
    shifted = (notation.pitch_class(done.analysis["key"]["tonic"]) - notation.pitch_class(original["key"]["tonic"])) % 12
    assert shifted == 10  # -2 semitones
    assert done.analysis["key"]["mode"] == original["key"]["mode"]
    assert done.analysis["tempo"]["bpm"] == pytest.approx(original["tempo"]["bpm"] * 0.9, abs=0.01)
    assert done.analysis["tempo"]["beats"][:3] == pytest.approx([t / 0.9 for t in original["tempo"]["beats"][:3]], abs=1e-3)

    # under the result key's engine and revision (dsp@<dsp version>.a<analysis version>)
    from melody.core.services import result_revisions

    revision = result_revisions(stack.settings)["dsp"]
    for stem, key in (("instrumental", done.instrumental_key), ("vocals", done.vocals_key)):
        assert key.startswith(f"renditions/{job.content_hash}/dsp@{revision}/-2_0.90/")
        path = tmp_path / f"{stem}.m4a"
        stack.storage.download(stack.settings.media_bucket, key, str(path))
        audio = melody_audio.decode(str(path), allow_silence=True)
        assert audio.channels == 2
        assert audio.duration_s == pytest.approx(8 / 0.9, abs=0.08)
        assert np.max(np.abs(audio.samples)) > 0.01 or stem == "vocals"

    links = stack.renditions.stem_links(done)
    assert set(links) == {"instrumental", "vocals"} and all(v["format"] == "m4a" for v in links.values())

    # The same request again: instant, no new execution.
    before = len(stack.runner.list_executions("renditions"))
    again, ready = stack.renditions.request("usr_rend1", job.job_id, semitones=-2, tempo=0.9)
    assert ready and again.rendition_id == rendition.rendition_id
    assert len(stack.runner.list_executions("renditions")) == before


def test_a_failed_rendition_is_marked_with_its_reason_and_runs_again_when_asked(stack):
    from melody.conversions.dynamodb import ResultModel

    job = converted_job(stack, "usr_rend2", seed=1302)
    result = ResultModel.get(job.result_key)
    result.delete()  # the stems' record is gone: the rendition cannot be made
    rendition, _ = stack.renditions.request("usr_rend2", job.job_id, semitones=3, tempo=1.0)
    execution = wait_rendition(stack, rendition.rendition_id)
    assert execution["status"] == "FAILED"
    failed = stack.renditions.get("usr_rend2", job.job_id, rendition.rendition_id)
    assert failed.status == "failed" and failed.error.code == "stems_missing"

    result.save()  # back again (say, the song was converted anew): asking again retries
    retried, ready = stack.renditions.request("usr_rend2", job.job_id, semitones=3, tempo=1.0)
    assert not ready and retried.attempt == 1
    assert wait_rendition(stack, f"{rendition.rendition_id}-r1")["status"] == "SUCCEEDED"
    assert stack.renditions.get("usr_rend2", job.job_id, rendition.rendition_id).status == "succeeded"
