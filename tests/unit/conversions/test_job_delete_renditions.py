"""Deleting a song's last job deletes the renditions of its result (records and files), and a rendition
asked for again once the song is converted anew runs under a free execution name."""

from __future__ import annotations

import pytest

from melody.conversions.models import RESULT_PREFIXES
from melody.renditions.models import RENDITIONS_PREFIX, STEMS, Rendition, media_key, rendition_id_for
from melody.renditions.service import RenditionService
from tests.unit.auth.fakes import FakeClock
from tests.unit.conversions.test_job_service import make
from tests.unit.renditions.fakes import FakeWorkflow, MemoryJobs, MemoryRenditions, job, result

SHARED, OTHER = "h1#dsp@1.1.0.a0.2.0", "h2#dsp@1.1.0.a0.2.0"


class RenditionStore(MemoryRenditions):
    """The in-memory renditions store with the deletion side of the port."""

    def of_result(self, result_key: str) -> list[Rendition]:
        return [r for r in self.items.values() if r.result_key == result_key]

    def delete(self, rendition_id: str, *, allowed_from: set[str]) -> bool:
        current = self.items.get(rendition_id)
        if current is None or current.status not in allowed_from:
            return False
        del self.items[rendition_id]
        return True


class CountedResults:
    """Results with the jobs that reference them: ``release_ref`` returns the result with its last job."""

    def __init__(self, **refs: set[str]) -> None:
        self.items = {key: result(key) for key in refs}
        self.refs = refs

    def get(self, result_key):
        return self.items.get(result_key)

    def release_ref(self, result_key, job_id):
        self.refs[result_key].discard(job_id)
        return None if self.refs[result_key] else self.items.pop(result_key)


def rendition(result_key: str, semitones: int, tempo: float, status: str = "succeeded", fmt: str = "m4a") -> Rendition:
    made = Rendition(rendition_id=rendition_id_for(result_key, semitones, tempo, fmt), result_key=result_key,
                     semitones=semitones, tempo=tempo, format=fmt, status=status, created_at=1.0, updated_at=1.0)  # fmt: skip
    if status == "succeeded":
        made = made.model_copy(update={"instrumental_key": media_key(made, "instrumental"), "vocals_key": media_key(made, "vocals")})
    return made


def songs(renditions: RenditionStore | None):
    """Alice and Bob converted the same song (SHARED); Carol another one (OTHER). Every rendition's
    stems are stored, the running one's included (it rendered one stem so far)."""
    service, jobs, _ = make(results=CountedResults(**{SHARED: {"job_a1", "job_b1"}, OTHER: {"job_c1"}}), renditions=renditions)
    jobs.delete = lambda job_id: jobs.items.pop(job_id)
    service.storage.delete = lambda bucket, key: service.storage.objects.pop((bucket, key), None)
    for job_id, user_id, key in (("job_a1", "usr_a", SHARED), ("job_b1", "usr_b", SHARED), ("job_c1", "usr_c", OTHER)):
        jobs.create(job(job_id, user_id, result_key=key))
    made = [
        rendition(SHARED, -2, 0.9),
        rendition(SHARED, 0, 1.0, fmt="wav"),  # a WAV export of the stems
        rendition(SHARED, 5, 1.1, status="failed"),  # it rendered one stem before failing
        rendition(SHARED, 3, 1.0, status="processing"),
        rendition(OTHER, -2, 0.9),
    ]
    for item in made:
        if renditions is not None:
            renditions.create(item)
        for stem in STEMS if item.status != "failed" else ("vocals",):
            service.storage.put("media", media_key(item, stem), b"audio")
    return service, {(item.result_key, item.semitones, item.format): item for item in made}


def files_of(service, item: Rendition) -> set[str]:
    """The rendition's stems still stored in the media bucket."""
    return {media_key(item, stem) for stem in STEMS} & {key for bucket, key in service.storage.objects if bucket == "media"}


def test_deleting_a_job_that_is_not_the_last_keeps_the_renditions():
    store = RenditionStore()
    service, made = songs(store)
    service.delete("usr_a", "job_a1")
    assert set(store.items) == {item.rendition_id for item in made.values()}
    assert all(files_of(service, item) for item in made.values())


def test_deleting_the_last_job_deletes_its_results_finished_renditions_records_and_files():
    store = RenditionStore()
    service, made = songs(store)
    service.delete("usr_a", "job_a1")
    service.delete("usr_b", "job_b1")

    for gone in (made[(SHARED, -2, "m4a")], made[(SHARED, 0, "wav")], made[(SHARED, 5, "m4a")]):
        assert gone.rendition_id not in store.items
        assert files_of(service, gone) == set(), gone.rendition_id
    # Another song's rendition (Carol's) is untouched.
    other = made[(OTHER, -2, "m4a")]
    assert store.items[other.rendition_id] == other and len(files_of(service, other)) == 2


def test_a_rendition_still_running_is_failed_not_deleted_and_its_files_are_left_to_it():
    store = RenditionStore()
    service, made = songs(store)
    running = made[(SHARED, 3, "m4a")]
    service.delete("usr_a", "job_a1")
    service.delete("usr_b", "job_b1")
    marked = store.items[running.rendition_id]
    assert marked.status == "failed" and marked.error is not None and marked.error.code == "stems_missing"
    assert len(files_of(service, running)) == 2  # its execution may still be writing them
    # its execution's next write (persist) is refused: it is never served as succeeded
    assert not store.transition(running.rendition_id, allowed_from={"queued", "processing"}, changes={"status": "succeeded"})


def test_a_rendition_asked_for_again_meanwhile_is_left_to_its_new_run():
    class Retried(RenditionStore):
        """A request for the failed rendition retries it between the listing and the deletion."""

        def delete(self, rendition_id, *, allowed_from):
            current = self.items[rendition_id]
            if current.status == "failed":
                self.items[rendition_id] = current.model_copy(update={"status": "queued", "attempt": 1})
            return super().delete(rendition_id, allowed_from=allowed_from)

    store = Retried()
    service, made = songs(store)
    retried = made[(SHARED, 5, "m4a")]
    service.delete("usr_a", "job_a1")
    service.delete("usr_b", "job_b1")
    assert store.items[retried.rendition_id].status == "queued"
    assert files_of(service, retried)  # its new run overwrites them; nothing deleted under it


def test_without_a_renditions_store_the_renditions_are_left_as_before():
    service, made = songs(None)
    service.delete("usr_a", "job_a1")
    service.delete("usr_b", "job_b1")
    assert all(files_of(service, item) for item in made.values())


# -- asked for again after its record was deleted ----------------------------------------------------


def renditions_service(store: RenditionStore, workflow: FakeWorkflow, result_key: str = SHARED) -> RenditionService:
    return RenditionService(MemoryJobs(job("job_d1", "usr_d", result_key=result_key)), store, object(), workflow, FakeClock(),
                            media_bucket="media", media_url_expires_s=60)  # fmt: skip


@pytest.mark.parametrize("taken", [1, 3], ids=["first run only", "it had been retried twice"])
def test_a_rendition_deleted_with_its_song_runs_again_under_a_free_execution_name(taken):
    """Its id is the same when the song is converted again, but Step Functions keeps the names of the
    deleted record's executions: started under one of them, the new record would stay queued for ever."""
    store, workflow = RenditionStore(), FakeWorkflow()
    rendition_id = rendition_id_for(SHARED, -2, 0.9)
    earlier = [rendition_id, *(f"{rendition_id}-r{n}" for n in range(1, taken))]
    workflow.started = [(name, {}) for name in earlier]  # the deleted record's executions

    again, ready = renditions_service(store, workflow).request("usr_d", "job_d1", semitones=-2, tempo=0.9)
    assert not ready and again.status == "queued" and again.attempt == taken
    assert workflow.started[-1][0] == f"{rendition_id}-r{taken}"
    assert workflow.started[-1][1]["attempt"] == taken


def test_a_new_rendition_whose_name_is_free_runs_as_its_first_attempt():
    store, workflow = RenditionStore(), FakeWorkflow()
    made, _ = renditions_service(store, workflow).request("usr_d", "job_d1", semitones=-2, tempo=0.9)
    assert made.attempt == 0 and [name for name, _ in workflow.started] == [made.rendition_id]


def test_a_record_another_request_moved_on_is_not_bumped_again():
    """The name is taken, but another request bumped the record first: its execution runs, no third one."""
    store, workflow = RenditionStore(), FakeWorkflow()
    rendition_id = rendition_id_for(SHARED, -2, 0.9)
    workflow.started = [(rendition_id, {})]
    start = workflow.start

    def racing_start(name, payload):
        if name == rendition_id:  # meanwhile, another request's bump and start
            store.transition(rendition_id, allowed_from={"queued"}, changes={"attempt": 1})
            start(f"{rendition_id}-r1", {})
        return start(name, payload)

    workflow.start = racing_start
    again, _ = renditions_service(store, workflow).request("usr_d", "job_d1", semitones=-2, tempo=0.9)
    assert again.attempt == 1 and [name for name, _ in workflow.started] == [rendition_id, f"{rendition_id}-r1"]


# -- finding a result's renditions -------------------------------------------------------------------


def test_the_renditions_prefix_is_one_the_song_deletion_may_delete_under():
    assert RENDITIONS_PREFIX in RESULT_PREFIXES
    assert media_key(rendition(SHARED, -2, 0.9), "vocals").startswith(RENDITIONS_PREFIX)
