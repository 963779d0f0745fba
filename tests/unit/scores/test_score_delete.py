"""Deleting a score (``ScoreService.delete``) with in-memory stores: the owner's upload, original,
own analysis and renderings (``scores/<user>/<score>/``) and record go; another user's ids are "not
found" and delete nothing; an analysing score is a 409; a legacy record's results, shared by content
hash, stay. Scores of the same bytes get results of their own (``ScoreSteps.analyse``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest

from melody.core.errors import Conflict, NotFound, ObjectMissing
from melody.scores.models import Score, ScoreStatus, owned_result_keys, owned_results_prefix, result_keys, results_of
from melody.scores.service import DELETABLE, IN_PROGRESS, ScoreService, workflow_input

UPLOADS, MEDIA = "uploads-bucket", "media-bucket"
HASH = "a" * 64
ANALYSIS = {"key": {"name": "C major"}}


class MemoryScores:
    def __init__(self) -> None:
        self.items: dict[str, Score] = {}
        self.refuse_next_delete_as: str | None = None  # another writer's status, seen by the conditional delete

    def create(self, score: Score) -> None:
        self.items[score.score_id] = score

    def get(self, score_id: str) -> Score | None:
        return self.items.get(score_id)

    def transition(self, score_id: str, *, allowed_from: set[str], changes: dict[str, Any]) -> bool:
        score = self.items.get(score_id)
        if score is None or score.status not in allowed_from:
            return False
        self.items[score_id] = score.model_copy(update=changes)
        return True

    def list_for_user(self, user_id: str, *, limit: int, cursor: dict[str, Any] | None) -> tuple[list[Score], None]:
        return [s for s in self.items.values() if s.user_id == user_id][:limit], None

    def delete(self, score_id: str, *, allowed_from: set[str]) -> bool:
        if self.refuse_next_delete_as is not None:  # the record changed between the read and the delete
            status, self.refuse_next_delete_as = self.refuse_next_delete_as, None
            if status == "gone":
                self.items.pop(score_id, None)
            else:
                self.items[score_id] = self.items[score_id].model_copy(update={"status": status})
        score = self.items.get(score_id)
        if score is None or score.status not in allowed_from:
            return False
        del self.items[score_id]
        return True


class MemoryObjects:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.deleted: list[tuple[str, str]] = []

    def delete(self, bucket: str, key: str) -> None:
        self.deleted.append((bucket, key))
        self.objects.pop((bucket, key), None)

    def head(self, bucket: str, key: str) -> dict[str, Any] | None:
        body = self.objects.get((bucket, key))
        return None if body is None else {"ContentLength": len(body)}

    def get_json(self, bucket: str, key: str) -> Any:
        body = self.objects.get((bucket, key))
        return None if body is None else json.loads(body)

    def put_json(self, bucket: str, key: str, document: Any) -> None:
        self.objects[(bucket, key)] = json.dumps(document).encode()

    def download(self, bucket: str, key: str, path: str) -> None:
        if (bucket, key) not in self.objects:
            raise ObjectMissing(bucket, key)
        Path(path).write_bytes(self.objects[(bucket, key)])

    def upload(self, path: str, bucket: str, key: str, *, content_type: str) -> None:
        self.objects[(bucket, key)] = Path(path).read_bytes()

    def presign_get(self, bucket: str, key: str, *, expires_s: int, filename: str, attachment: bool) -> str:
        return f"https://s3.test/{bucket}/{key}"

    def media_keys(self, prefix: str) -> set[str]:
        return {key for bucket, key in self.objects if bucket == MEDIA and key.startswith(prefix)}


class Clock:
    def now(self) -> float:
        return 1_700_000_000.0


def make_score(score_id: str, user_id: str, status: str = "succeeded", *, content_hash: str | None = HASH, owned: bool = True) -> Score:
    """A score; a succeeded one owns its results unless ``owned=False`` (a record from before owned results)."""
    done = status == "succeeded"
    return Score(
        score_id=score_id,
        user_id=user_id,
        status=status,  # type: ignore[arg-type]
        filename="Secret Song.musicxml",
        title="Secret Song",
        format="musicxml",
        content_type="application/vnd.recordare.musicxml+xml",
        size_bytes=10,
        bucket=UPLOADS,
        key=f"uploads/scores/{user_id}/{score_id}/Secret Song.musicxml",
        upload_etag=None if status == "awaiting_upload" else "etag1",
        original_bucket=None if status == "awaiting_upload" else MEDIA,
        original_key=None if status == "awaiting_upload" else f"originals/scores/{user_id}/{score_id}/etag1/Secret Song.musicxml",
        content_hash=content_hash if done else None,
        owned_results=owned and done,
        created_at=1.0,
        updated_at=1.0,
    )


@pytest.fixture()
def world() -> tuple[ScoreService, MemoryScores, MemoryObjects]:
    scores, objects = MemoryScores(), MemoryObjects()
    service = ScoreService(
        scores,
        objects,  # type: ignore[arg-type]  (only what delete, analysis and the links use)
        None,
        Clock(),  # type: ignore[arg-type]
        uploads_bucket=UPLOADS,
        media_bucket=MEDIA,
        max_bytes=1000,
        upload_url_expires_s=60,
        url_expires_s=60,
    )
    return service, scores, objects


def add(scores: MemoryScores, objects: MemoryObjects, score: Score) -> Score:
    scores.create(score)
    objects.objects[(score.bucket, score.key)] = b"upload"
    if score.original_bucket and score.original_key:
        objects.objects[(score.original_bucket, score.original_key)] = b"original"
    results = results_of(score)
    if results is not None:  # owned: under the score's prefix; legacy: under the content hash
        objects.put_json(MEDIA, results["analysis"], ANALYSIS)
        objects.objects[(MEDIA, results["musicxml"])] = b"<score-partwise/>"
        objects.objects[(MEDIA, results["midi"])] = b"MThd"
    return score


def test_every_status_is_either_deletable_or_in_progress():
    assert DELETABLE | IN_PROGRESS == set(get_args(ScoreStatus)) and not DELETABLE & IN_PROGRESS


def test_the_owner_deletes_the_upload_the_original_the_results_and_the_record(world):
    service, scores, objects = world
    mine = add(scores, objects, make_score("scr_mine", "usr_a"))
    theirs = add(scores, objects, make_score("scr_theirs", "usr_b", content_hash="b" * 64))
    before = dict(objects.objects)

    service.delete("usr_a", "scr_mine")

    assert scores.get("scr_mine") is None
    own = {(UPLOADS, mine.key), (MEDIA, mine.original_key)} | {(MEDIA, key) for key in owned_result_keys("usr_a", "scr_mine").values()}
    assert set(objects.deleted) == own and len(objects.deleted) == 5
    assert set(before) - set(objects.objects) == own
    assert not objects.media_keys("scores/usr_a/")  # the analysis, the MusicXML and the MIDI are gone
    # the other user's score and every one of its objects are untouched
    assert scores.get("scr_theirs") == theirs
    assert {(UPLOADS, theirs.key), (MEDIA, theirs.original_key)} <= set(objects.objects)
    assert objects.media_keys("scores/usr_b/scr_theirs/") == set(owned_result_keys("usr_b", "scr_theirs").values())


def test_a_legacy_records_results_shared_by_content_hash_are_served_and_stay_for_the_scores_still_using_them(world):
    service, scores, objects = world
    # records from before owned results: both name the results of their bytes, scores/<hash>/
    first = add(scores, objects, make_score("scr_first", "usr_a", owned=False))
    other = add(scores, objects, make_score("scr_same_bytes", "usr_b", owned=False))  # the same file: the same hash
    shared = {(MEDIA, key) for key in result_keys(HASH).values()}
    assert results_of(first) == results_of(other) == result_keys(HASH) and shared <= set(objects.objects)
    assert service.analysis(first) == ANALYSIS
    assert service.links(first) == {
        "musicxml_url": f"https://s3.test/{MEDIA}/scores/{HASH}/score.musicxml",
        "midi_url": f"https://s3.test/{MEDIA}/scores/{HASH}/score.mid",
    }
    assert service.download("usr_a", "scr_first", "midi")["url"] == f"https://s3.test/{MEDIA}/scores/{HASH}/score.mid"

    service.delete("usr_a", "scr_first")

    assert shared <= set(objects.objects) and not shared & set(objects.deleted)
    assert service.analysis(other) == ANALYSIS  # still served to the other score
    assert all(key.startswith("scores/usr_a/scr_first/") for bucket, key in objects.deleted if key.startswith("scores/"))


def test_another_users_score_is_not_found_and_nothing_is_deleted(world):
    service, scores, objects = world
    theirs = add(scores, objects, make_score("scr_theirs", "usr_b"))
    before = dict(objects.objects)

    for score_id in ("scr_theirs", "scr_missing", "not-a-score-id"):
        with pytest.raises(NotFound) as refused:
            service.delete("usr_a", score_id)
        assert refused.value.code == "score_not_found"

    assert objects.objects == before and not objects.deleted and scores.get("scr_theirs") == theirs


@pytest.mark.parametrize("status", sorted(IN_PROGRESS))
def test_a_score_being_analysed_cannot_be_deleted(world, status):
    service, scores, objects = world
    score = add(scores, objects, make_score("scr_busy", "usr_a", status))
    before = dict(objects.objects)

    with pytest.raises(Conflict) as refused:
        service.delete("usr_a", "scr_busy")

    assert refused.value.code == "score_in_progress"
    assert objects.objects == before and not objects.deleted and scores.get("scr_busy") == score


def test_deleting_twice_is_not_found_the_second_time(world):
    service, scores, objects = world
    add(scores, objects, make_score("scr_once", "usr_a", "failed"))
    service.delete("usr_a", "scr_once")
    with pytest.raises(NotFound) as again:
        service.delete("usr_a", "scr_once")
    assert again.value.code == "score_not_found"


def test_a_score_still_awaiting_its_file_is_deleted_without_an_original(world):
    service, scores, objects = world
    score = make_score("scr_waiting", "usr_a", "awaiting_upload")
    scores.create(score)  # no object yet: S3 deletes a missing key without an error

    service.delete("usr_a", "scr_waiting")

    assert scores.get("scr_waiting") is None and objects.deleted == [(UPLOADS, score.key)]


def test_a_file_landing_during_the_delete_makes_it_a_conflict(world):
    # The record is read awaiting its upload, then the trigger queues it before the conditional delete.
    service, scores, objects = world
    add(scores, objects, make_score("scr_racing", "usr_a", "awaiting_upload"))
    scores.refuse_next_delete_as = "queued"

    with pytest.raises(Conflict) as refused:
        service.delete("usr_a", "scr_racing")

    assert refused.value.code == "score_in_progress" and scores.get("scr_racing") is not None


def test_a_score_deleted_meanwhile_is_not_found(world):
    service, scores, objects = world
    add(scores, objects, make_score("scr_both", "usr_a"))
    scores.refuse_next_delete_as = "gone"  # a concurrent delete of the same score won

    with pytest.raises(NotFound):
        service.delete("usr_a", "scr_both")


def test_keys_outside_the_scores_own_prefixes_are_never_deleted(world):
    service, scores, objects = world
    # A record naming another user's objects (it cannot happen through the service; the guard is cheap).
    score = make_score("scr_odd", "usr_a").model_copy(
        update={"key": "uploads/scores/usr_b/scr_x/f.musicxml", "original_key": "originals/scores/usr_b/scr_x/e/f.musicxml"}
    )
    scores.create(score)

    service.delete("usr_a", "scr_odd")

    # only the score's own results prefix (nothing is there: deleting a missing key is no error)
    assert {key for _, key in objects.deleted} == set(owned_result_keys("usr_a", "scr_odd").values())
    assert scores.get("scr_odd") is None


def test_an_id_that_is_not_one_key_segment_names_no_results_prefix(world):
    service, scores, objects = world
    # "scr_x/../scr_y" would put the keys inside another prefix (S3 keys are not paths: ".." stays)
    for user_id, score_id in (("usr_a", "scr_x/scr_y"), ("usr_a/scr_y", "scr_x"), ("usr_a", ".."), ("", "scr_x")):
        with pytest.raises(ValueError):
            owned_results_prefix(user_id, score_id)
    score = make_score("scr_odd/x", "usr_a")
    scores.create(score)

    service.delete("usr_a", "scr_odd/x")

    assert not [key for _, key in objects.deleted if key.startswith("scores/")] and scores.get("scr_odd/x") is None


# -- results of a score's own -------------------------------------------------------------------


def test_where_a_scores_results_are():
    owned = make_score("scr_1", "usr_a")
    assert results_of(owned) == {
        "analysis": "scores/usr_a/scr_1/analysis.json",
        "musicxml": "scores/usr_a/scr_1/score.musicxml",
        "midi": "scores/usr_a/scr_1/score.mid",
    }
    assert results_of(make_score("scr_1", "usr_a", owned=False)) == result_keys(HASH)  # legacy: by content hash
    assert results_of(make_score("scr_1", "usr_a", owned=False, content_hash=None)) is None
    for status in ("awaiting_upload", "queued", "processing", "failed"):
        assert results_of(make_score("scr_1", "usr_a", status)) is None
    # a record written before the field reads as legacy
    stored = make_score("scr_1", "usr_a", owned=False).model_dump(exclude={"owned_results"})
    assert Score.model_validate(stored).owned_results is False


def test_a_failed_score_loses_what_analyse_wrote_before_it_failed(world):
    # analyse wrote the renderings and the analysis, then persist failed: MarkFailed left owned_results False
    service, scores, objects = world
    score = add(scores, objects, make_score("scr_half", "usr_a", "failed"))
    keys = owned_result_keys("usr_a", "scr_half")
    objects.put_json(MEDIA, keys["analysis"], ANALYSIS)
    objects.objects[(MEDIA, keys["musicxml"])] = b"<score-partwise/>"
    assert service.analysis(score) is None  # a failed score serves none of it

    service.delete("usr_a", "scr_half")

    assert not objects.media_keys("scores/usr_a/scr_half/") and scores.get("scr_half") is None


def _queued(scores: MemoryScores, objects: MemoryObjects, score_id: str, user_id: str, body: bytes) -> Score:
    score = make_score(score_id, user_id, "queued")
    scores.create(score)
    objects.objects[(MEDIA, str(score.original_key))] = body
    return score


@pytest.mark.parametrize("second_user", ["usr_a", "usr_b"], ids=["same-user", "another-user"])
def test_scores_of_the_same_bytes_get_results_of_their_own(world, tmp_path, second_user):
    pytest.importorskip("music21")
    from melody.scores.steps import ScoreSteps

    from .builders import C, satb, write

    service, scores, objects = world
    body = write(satb([C[n] for n in ("I", "IV", "V7", "I")]), tmp_path / "p.musicxml").read_bytes()
    steps = ScoreSteps(scores, objects, Clock(), media_bucket=MEDIA, work_dir=tmp_path / "work", max_bytes=10**7)  # type: ignore[arg-type]
    done = []
    for score_id, user_id in (("scr_first", "usr_a"), ("scr_second", second_user)):
        state = workflow_input(_queued(scores, objects, score_id, user_id, body))
        result = steps.analyse(state)
        assert result["reused"] is False and set(result) == {"content_hash", "reused", "summary"}  # what the ASL selects
        steps.persist({**state, "analysis": result})
        done.append(scores.get(score_id))
    first, second = done

    # one analysis each, under each score's own prefix; the same bytes, the same hash, nothing by hash
    assert first.content_hash == second.content_hash and first.owned_results and second.owned_results
    assert objects.media_keys("scores/usr_a/scr_first/") == set(owned_result_keys("usr_a", "scr_first").values())
    assert objects.media_keys(f"scores/{second_user}/scr_second/") == set(owned_result_keys(second_user, "scr_second").values())
    assert not objects.media_keys(f"scores/{first.content_hash}/")
    assert service.analysis(first) == service.analysis(second) and service.analysis(first)["key"]["name"] == "C major"

    service.delete("usr_a", "scr_first")

    assert not objects.media_keys("scores/usr_a/scr_first/")
    # the other score's results are intact and still served
    assert objects.media_keys(f"scores/{second_user}/scr_second/") == set(owned_result_keys(second_user, "scr_second").values())
    assert service.analysis(second)["key"]["name"] == "C major"
    assert service.links(second)["midi_url"].endswith(f"scores/{second_user}/scr_second/score.mid")
    assert service.download(second_user, "scr_second", "musicxml")["url"].endswith(f"scores/{second_user}/scr_second/score.musicxml")


def test_persist_points_the_record_where_analyse_wrote_during_a_deploy(world, tmp_path):
    """An analyse of the version before (results under scores/<hash>/) then this persist: the record
    stays a legacy one, so its analysis is served and its delete leaves the shared results."""
    from melody.scores.models import result_keys
    from melody.scores.steps import ScoreSteps

    service, scores, objects = world
    score = _queued(scores, objects, "scr_mixed", "usr_a", b"<score-partwise/>")
    for what, key in result_keys(HASH).items():
        objects.objects[(MEDIA, key)] = json.dumps({"key": {"name": "G major"}}).encode() if what == "analysis" else b"x"
    steps = ScoreSteps(scores, objects, Clock(), media_bucket=MEDIA, work_dir=tmp_path / "work", max_bytes=10**7)  # type: ignore[arg-type]
    steps.persist({**workflow_input(score), "analysis": {"content_hash": HASH, "reused": True, "summary": {}}})

    done = scores.get("scr_mixed")
    assert done.status == "succeeded" and not done.owned_results
    assert service.analysis(done)["key"]["name"] == "G major"
    service.delete("usr_a", "scr_mixed")
    assert objects.media_keys(f"scores/{HASH}/") == set(result_keys(HASH).values())
