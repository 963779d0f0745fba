"""Deleting a score (``ScoreService.delete``) with in-memory stores: the owner's upload, original and
record go; another user's ids are "not found" and delete nothing; an analysing score is a 409; the
analysis and renderings shared by content hash stay."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from melody.core.errors import Conflict, NotFound
from melody.scores.models import Score, ScoreStatus, result_keys
from melody.scores.service import DELETABLE, IN_PROGRESS, ScoreService

UPLOADS, MEDIA = "uploads-bucket", "media-bucket"
HASH = "a" * 64


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

    def get_json(self, bucket: str, key: str) -> Any:
        return {"key": {"name": "C major"}} if (bucket, key) in self.objects else None


class Clock:
    def now(self) -> float:
        return 1_700_000_000.0


def make_score(score_id: str, user_id: str, status: str = "succeeded", *, content_hash: str | None = HASH) -> Score:
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
        created_at=1.0,
        updated_at=1.0,
    )


@pytest.fixture()
def world() -> tuple[ScoreService, MemoryScores, MemoryObjects]:
    scores, objects = MemoryScores(), MemoryObjects()
    service = ScoreService(
        scores,
        objects,  # type: ignore[arg-type]  (only what delete and analysis use)
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
    if score.content_hash:
        for key in result_keys(score.content_hash).values():
            objects.objects[(MEDIA, key)] = b"result"
    return score


def test_every_status_is_either_deletable_or_in_progress():
    assert DELETABLE | IN_PROGRESS == set(get_args(ScoreStatus)) and not DELETABLE & IN_PROGRESS


def test_the_owner_deletes_the_upload_the_original_and_the_record(world):
    service, scores, objects = world
    mine = add(scores, objects, make_score("scr_mine", "usr_a"))
    theirs = add(scores, objects, make_score("scr_theirs", "usr_b", content_hash="b" * 64))
    before = dict(objects.objects)

    service.delete("usr_a", "scr_mine")

    assert scores.get("scr_mine") is None
    assert set(objects.deleted) == {(UPLOADS, mine.key), (MEDIA, mine.original_key)}
    assert set(before) - set(objects.objects) == {(UPLOADS, mine.key), (MEDIA, mine.original_key)}
    # the other user's score and every one of its objects are untouched
    assert scores.get("scr_theirs") == theirs
    assert {(UPLOADS, theirs.key), (MEDIA, theirs.original_key)} <= set(objects.objects)


def test_the_results_shared_by_content_hash_stay_for_the_scores_still_using_them(world):
    service, scores, objects = world
    add(scores, objects, make_score("scr_first", "usr_a"))
    other = add(scores, objects, make_score("scr_same_bytes", "usr_b"))  # the same file: the same hash

    service.delete("usr_a", "scr_first")

    shared = {(MEDIA, key) for key in result_keys(HASH).values()}
    assert shared <= set(objects.objects) and not shared & set(objects.deleted)
    assert service.analysis(other) == {"key": {"name": "C major"}}  # still served to the other score


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

    assert objects.deleted == [] and scores.get("scr_odd") is None
