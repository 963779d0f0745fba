from __future__ import annotations

import pytest

from melody.core.errors import Conflict, InvalidInput, NotFound, RateLimited
from melody.renditions.models import Rendition, execution_name, media_key, rendition_id_for
from melody.renditions.service import RenditionService, rendition_input
from tests.unit.auth.fakes import FakeClock, MemoryLimiter
from tests.unit.renditions.fakes import FakeStorage, FakeWorkflow, MemoryJobs, MemoryRenditions, job


def make(*jobs, limiter=None, per_hour=None):
    store = MemoryRenditions()
    workflow = FakeWorkflow()
    service = RenditionService(
        MemoryJobs(*(jobs or (job(),))), store, FakeStorage(), workflow, FakeClock(),
        media_bucket="media", media_url_expires_s=600, limiter=limiter, per_user_per_hour=per_hour,
    )  # fmt: skip
    return service, store, workflow


def test_a_new_rendition_is_queued_and_its_execution_started_once():
    service, store, workflow = make()
    rendition, ready = service.request("usr_a", "job_a1", semitones=-2, tempo=0.9)
    assert not ready
    assert rendition.status == "queued" and rendition.semitones == -2 and rendition.tempo == 0.9
    assert rendition.rendition_id == rendition_id_for("h1#dsp", -2, 0.9)
    assert workflow.started == [(rendition.rendition_id, rendition_input(rendition))]
    # Asked again while running: the same record, no second execution.
    again, ready = service.request("usr_a", "job_a1", semitones=-2, tempo=0.9004)
    assert (again.rendition_id, ready) == (rendition.rendition_id, False)
    assert len(workflow.started) == 1
    assert len(store.items) == 1


def test_a_succeeded_rendition_is_served_from_the_cache_with_links():
    service, store, workflow = make()
    rendition, _ = service.request("usr_a", "job_a1", semitones=3, tempo=1.0)
    store.transition(rendition.rendition_id, allowed_from={"queued"}, changes={
        "status": "succeeded", "instrumental_key": "renditions/i.m4a", "vocals_key": "renditions/v.m4a", "progress": 100})  # fmt: skip
    cached, ready = service.request("usr_a", "job_a1", semitones=3, tempo=1.0)
    assert ready and cached.status == "succeeded"
    assert len(workflow.started) == 1
    links = service.stem_links(cached)
    assert links == {
        "instrumental": {"url": "https://s3.test/media/renditions/i.m4a?expires=600", "format": "m4a"},
        "vocals": {"url": "https://s3.test/media/renditions/v.m4a?expires=600", "format": "m4a"},
    }


def test_another_users_job_with_the_same_song_shares_the_rendition():
    service, store, workflow = make(job("job_a1", "usr_a"), job("job_b1", "usr_b"))
    first, _ = service.request("usr_a", "job_a1", semitones=1, tempo=1.1)
    second, _ = service.request("usr_b", "job_b1", semitones=1, tempo=1.1)
    assert first.rendition_id == second.rendition_id
    assert len(workflow.started) == 1
    assert service.get("usr_b", "job_b1", first.rendition_id).rendition_id == first.rendition_id


def test_the_song_as_it_is_is_refused():
    service, _, workflow = make()
    with pytest.raises(InvalidInput) as err:
        service.request("usr_a", "job_a1", semitones=0, tempo=1.001)  # rounds to 1.00
    assert err.value.code == "rendition_identity"
    assert workflow.started == []


@pytest.mark.parametrize(("semitones", "tempo"), [(7, 1.0), (-7, 1.0), (1, 0.7), (1, 1.3)])
def test_out_of_range_requests_are_refused(semitones, tempo):
    service, _, _ = make()
    with pytest.raises(InvalidInput):
        service.request("usr_a", "job_a1", semitones=semitones, tempo=tempo)


def test_only_the_owner_may_ask_or_read():
    service, _, workflow = make(job("job_a1", "usr_a"), job("job_b1", "usr_b", result_key="h2#dsp"))
    with pytest.raises(NotFound) as err:
        service.request("usr_b", "job_a1", semitones=1, tempo=1.0)
    assert err.value.code == "job_not_found"
    mine, _ = service.request("usr_a", "job_a1", semitones=1, tempo=1.0)
    with pytest.raises(NotFound):
        service.get("usr_b", "job_a1", mine.rendition_id)
    # usr_b's own job is another song: usr_a's rendition id is not a rendition of it.
    with pytest.raises(NotFound) as err:
        service.get("usr_b", "job_b1", mine.rendition_id)
    assert err.value.code == "rendition_not_found"
    with pytest.raises(NotFound):
        service.get("usr_a", "job_a1", "rnd_unknown")
    assert len(workflow.started) == 1


def test_a_job_not_yet_converted_cannot_be_rendered():
    service, _, _ = make(job("job_a1", status="processing", result_key=None))
    with pytest.raises(Conflict) as err:
        service.request("usr_a", "job_a1", semitones=2, tempo=1.0)
    assert err.value.code == "job_not_ready"


def test_a_failed_rendition_asked_again_runs_as_a_new_attempt():
    service, store, workflow = make()
    rendition, _ = service.request("usr_a", "job_a1", semitones=-1, tempo=1.0)
    store.transition(rendition.rendition_id, allowed_from={"queued"},
                     changes={"status": "failed", "error": {"code": "processing_failed", "message": "x"}})  # fmt: skip
    again, ready = service.request("usr_a", "job_a1", semitones=-1, tempo=1.0)
    assert not ready and again.status == "queued" and again.attempt == 1 and again.error is None
    assert [name for name, _ in workflow.started] == [rendition.rendition_id, f"{rendition.rendition_id}-r1"]
    assert execution_name(again) == f"{rendition.rendition_id}-r1"


def test_new_renditions_are_rate_limited_per_user_but_cached_ones_are_not():
    service, store, _ = make(limiter=MemoryLimiter(), per_hour=2)
    first, _ = service.request("usr_a", "job_a1", semitones=1, tempo=1.0)
    service.request("usr_a", "job_a1", semitones=2, tempo=1.0)
    with pytest.raises(RateLimited):
        service.request("usr_a", "job_a1", semitones=3, tempo=1.0)
    store.transition(first.rendition_id, allowed_from={"queued"}, changes={"status": "succeeded",
                     "instrumental_key": "i", "vocals_key": "v"})  # fmt: skip
    assert service.request("usr_a", "job_a1", semitones=1, tempo=1.0)[1] is True


def test_ids_and_keys_follow_the_cache_key():
    assert rendition_id_for("h#dsp", 2, 0.9) == rendition_id_for("h#dsp", 2, 0.900001)
    assert rendition_id_for("h#dsp", 2, 0.9) != rendition_id_for("h#lalal", 2, 0.9)
    assert rendition_id_for("h#dsp", 2, 0.9) != rendition_id_for("h#dsp", -2, 0.9)
    r = Rendition(rendition_id="rnd_x", result_key="abc#dsp", semitones=-3, tempo=1.25, status="queued", created_at=0, updated_at=0)
    assert media_key(r, "vocals") == "renditions/abc/dsp/-3_1.25/vocals.m4a"


def test_a_wav_export_of_the_song_as_it_is_is_allowed_started_once_and_keyed_apart():
    service, store, workflow = make()
    key, record = service.export_wav("h1#dsp", "vocals")
    assert key is None and record.format == "wav" and (record.semitones, record.tempo) == (0, 1.0)
    assert record.rendition_id == rendition_id_for("h1#dsp", 0, 1.0, "wav")
    again, _ = service.export_wav("h1#dsp", "instrumental")
    assert again is None and len(workflow.started) == 1  # one export makes both stems
    folder = "renditions/h1/dsp/+0_1.00"
    store.transition(record.rendition_id, allowed_from={"queued"}, changes={"status": "succeeded", "progress": 100,
        "instrumental_key": f"{folder}/instrumental.wav", "vocals_key": f"{folder}/vocals.wav"})  # fmt: skip
    key, _ = service.export_wav("h1#dsp", "vocals")
    assert key == "renditions/h1/dsp/+0_1.00/vocals.wav"
    # The same through the renditions route's request: wav at 0 and 1.0 is not "the song as it is".
    rendition, ready = service.request("usr_a", "job_a1", semitones=0, tempo=1.0, fmt="wav")
    assert ready and service.stem_links(rendition)["vocals"]["format"] == "wav"
