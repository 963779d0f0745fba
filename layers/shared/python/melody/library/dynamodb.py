"""The library table (PynamoDB): pk ``user_id``, sk ``track_id``, two per-user indexes.

* ``by_added`` (user_id, added_at): the newest-first listing. Sparse: a removed item keeps a
  tombstone (``deleted``, no ``added_at``) and so drops out of the listing.
* ``by_updated`` (user_id, updated_at): ``updated_since`` sync, tombstones included so clients
  learn about removals; tombstones expire through the table's TTL after 30 days.

Uploads are items too (``kind = "upload"``, sort key the job id): written when their job succeeds,
renamed by the user, tombstoned when the job is deleted. :class:`DynamoLibraryStore` is also the
jobs feature's :class:`~melody.conversions.ports.UploadLibrary`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from melody.core.dynamodb import bind_model, conditional_failed
from melody.library.service import LibraryEntry

if TYPE_CHECKING:
    from melody.conversions.models import Job, SuggestedTrack
    from melody.core.settings import CommonSettings

TOMBSTONE_TTL_S = 30 * 24 * 3600


class ByAdded(GlobalSecondaryIndex["LibraryItemModel"]):
    class Meta:
        index_name = "by_added"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    added_at = NumberAttribute(range_key=True)


class ByUpdated(GlobalSecondaryIndex["LibraryItemModel"]):
    class Meta:
        index_name = "by_updated"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    updated_at = NumberAttribute(range_key=True)


class LibraryItemModel(Model):
    class Meta:
        table_name = "melody-library"

    user_id = UnicodeAttribute(hash_key=True)
    track_id = UnicodeAttribute(range_key=True)
    added_at = NumberAttribute(null=True)
    updated_at = NumberAttribute()
    play_count = NumberAttribute(default=0)
    last_played_at = NumberAttribute(null=True)
    deleted = BooleanAttribute(default=False)
    ttl = TTLAttribute(null=True)
    kind = UnicodeAttribute(null=True)  # "upload" for uploads; absent for saved catalog tracks
    title = UnicodeAttribute(null=True)
    linked_track_id = UnicodeAttribute(null=True)
    suggested_track = JSONAttribute(null=True)

    by_added = ByAdded()
    by_updated = ByUpdated()


def bind_library_model(settings: CommonSettings) -> None:
    bind_model(LibraryItemModel, settings.library_table, settings)


def _entry(item: LibraryItemModel) -> LibraryEntry:
    return LibraryEntry(
        user_id=item.user_id,
        track_id=item.track_id,
        added_at=float(item.added_at or 0),
        updated_at=float(item.updated_at),
        play_count=int(item.play_count or 0),
        last_played_at=item.last_played_at,
        deleted=bool(item.deleted),
        kind=item.kind or "track",
        title=item.title,
        linked_track_id=item.linked_track_id,
        suggested_track=item.suggested_track,
    )


class DynamoLibraryStore:
    def add(self, user_id: str, track_id: str, *, now: float) -> tuple[LibraryEntry, bool]:
        """Idempotent: adding a saved track changes nothing; re-adding a removed one revives it."""
        item = LibraryItemModel(user_id, track_id)
        try:
            item.update(
                actions=[
                    LibraryItemModel.added_at.set(now),
                    LibraryItemModel.updated_at.set(now),
                    LibraryItemModel.deleted.set(False),
                    LibraryItemModel.ttl.remove(),
                    LibraryItemModel.play_count.set(LibraryItemModel.play_count | 0),
                ],
                condition=LibraryItemModel.added_at.does_not_exist() | (LibraryItemModel.deleted == True),  # noqa: E712
            )
            return _entry(item), True
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise
        return _entry(LibraryItemModel.get(user_id, track_id, consistent_read=True)), False

    def remove(self, user_id: str, track_id: str, *, now: float) -> bool:
        try:
            LibraryItemModel(user_id, track_id).update(
                actions=[
                    LibraryItemModel.deleted.set(True),
                    LibraryItemModel.added_at.remove(),
                    LibraryItemModel.updated_at.set(now),
                    LibraryItemModel.ttl.set(datetime.fromtimestamp(now + TOMBSTONE_TTL_S, tz=UTC)),
                ],
                condition=LibraryItemModel.added_at.exists(),
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def record_play(self, user_id: str, track_id: str, *, now: float) -> LibraryEntry | None:
        """Count a play on a saved track; ``None`` when the track is not in the library."""
        item = LibraryItemModel(user_id, track_id)
        try:
            item.update(
                actions=[
                    LibraryItemModel.play_count.add(1),
                    LibraryItemModel.last_played_at.set(now),
                    LibraryItemModel.updated_at.set(now),
                ],
                condition=LibraryItemModel.added_at.exists(),
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                return None
            raise
        return _entry(item)

    # -- uploads (the jobs feature's UploadLibrary) ---------------------------------------------------

    def put_upload(self, job: Job, *, now: float) -> None:
        M = LibraryItemModel
        title = job.tags.get("title") or job.title or job.filename or "Untitled"
        actions: list[Any] = [
            M.kind.set("upload"),
            M.title.set(M.title | title),  # a title the user chose stays
            M.added_at.set(M.added_at | now),
            M.updated_at.set(now),
            M.deleted.set(False),
            M.ttl.remove(),
            M.play_count.set(M.play_count | 0),
        ]
        if job.track_id:
            actions.append(M.linked_track_id.set(job.track_id))
        LibraryItemModel(job.user_id, job.job_id).update(actions=actions)

    def link_upload(
        self, user_id: str, job_id: str, *, track_id: str | None, suggested: SuggestedTrack | None, now: float
    ) -> None:
        M = LibraryItemModel
        actions: list[Any] = [M.updated_at.set(now)]
        if track_id:
            actions.append(M.linked_track_id.set(track_id))
        if suggested is not None:
            actions.append(M.suggested_track.set(suggested.model_dump()))
        try:
            LibraryItemModel(user_id, job_id).update(actions=actions, condition=M.kind == "upload")
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise

    def upload_title(self, user_id: str, job_id: str) -> str | None:
        try:
            item = LibraryItemModel.get(user_id, job_id, consistent_read=True)
        except LibraryItemModel.DoesNotExist:
            return None
        return item.title if item.kind == "upload" and not item.deleted else None

    def remove_upload(self, user_id: str, job_id: str, *, now: float) -> None:
        self.remove(user_id, job_id, now=now)

    def rename_upload(self, user_id: str, job_id: str, title: str, *, now: float) -> LibraryEntry | None:
        item = LibraryItemModel(user_id, job_id)
        try:
            item.update(
                actions=[LibraryItemModel.title.set(title), LibraryItemModel.updated_at.set(now)],
                condition=(LibraryItemModel.kind == "upload") & LibraryItemModel.added_at.exists(),
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                return None
            raise
        return _entry(item)

    def page(
        self, user_id: str, *, limit: int, start: dict[str, Any] | None, updated_since: float | None
    ) -> tuple[list[LibraryEntry], dict[str, Any] | None]:
        if updated_since is not None:
            results = LibraryItemModel.by_updated.query(
                user_id,
                LibraryItemModel.updated_at > updated_since,
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=_to_key(start, "updated_at"),
            )
        else:
            results = LibraryItemModel.by_added.query(
                user_id, scan_index_forward=False, limit=limit, last_evaluated_key=_to_key(start, "added_at")
            )
        entries = [_entry(item) for item in results]
        last = _from_key(results.last_evaluated_key) if len(entries) >= limit else None
        return entries, last


def _to_key(start: dict[str, Any] | None, sort_attr: str) -> dict[str, Any] | None:
    if not start:
        return None
    if sort_attr not in start:
        from melody.core.errors import InvalidInput

        raise InvalidInput("The cursor belongs to another listing.", code="invalid_cursor")
    return {
        "user_id": {"S": start["user_id"]},
        "track_id": {"S": start["track_id"]},
        sort_attr: {"N": repr(start[sort_attr]) if isinstance(start[sort_attr], float) else str(start[sort_attr])},
    }


def _from_key(key: dict[str, Any] | None) -> dict[str, Any] | None:
    if not key:
        return None
    out: dict[str, Any] = {}
    for name, value in key.items():
        if "S" in value:
            out[name] = value["S"]
        elif "N" in value:
            number = float(value["N"])
            out[name] = int(number) if number.is_integer() else number
    return out
