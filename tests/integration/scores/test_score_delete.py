"""``DELETE /scores/{score_id}`` over moto (DynamoDB + S3) and the real stores: the owner's upload,
original, own analysis and renderings and record go; another user's score of the same bytes, with
results of its own, stays and is still served."""

from __future__ import annotations

import json

import pytest

from tests.conftest import auth_header

pytestmark = pytest.mark.integration


class HeldStarter:
    """Starts nothing: the score stays queued (an analysis in progress)."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, name: str, payload: dict) -> bool:
        self.started.append(name)
        return True


@pytest.fixture()
def services(dev_settings, sms, tmp_path):
    """The conftest's services (``client`` and ``login`` use them) with a score workflow that holds."""
    from melody.core.services import Services

    settings = dev_settings.model_copy(
        update={"work_dir": tmp_path, "otp_per_ip_per_minute": 1000, "otp_per_ip_per_hour": 1000, "otp_resend_after_s": 0}
    )
    services = Services(settings, sms_sender=sms)
    services.use_score_workflow(HeldStarter())
    return services


def landed(services, score, body: bytes):
    """The file lands at the upload key and the trigger accepts it (copy to originals, queued)."""
    services.storage._client.put_object(Bucket=score.bucket, Key=score.key, Body=body, ContentType=score.content_type)
    head = services.storage.head(score.bucket, score.key)
    assert services.scores.on_object_created(score.bucket, score.key, head["ETag"].strip('"')) == "started"
    return services.scores._scores.get(score.score_id)


def analysed(services, score, content_hash: str):
    """What the pipeline leaves: results under the score's own prefix and a succeeded record that owns them."""
    from melody.scores.models import owned_result_keys

    media = services.settings.media_bucket
    keys = owned_result_keys(score.user_id, score.score_id)
    for what in ("musicxml", "midi"):
        services.storage._client.put_object(Bucket=media, Key=keys[what], Body=b"rendering")
    services.storage._client.put_object(Bucket=media, Key=keys["analysis"], Body=json.dumps({"key": {"name": "C major"}}).encode())
    state = {"score_id": score.score_id, "user_id": score.user_id, "analysis": {"content_hash": content_hash, "summary": {}}}
    assert services.score_steps.persist(state)
    done = services.scores._scores.get(score.score_id)
    assert done.owned_results
    return done


def exists(services, bucket: str, key: str) -> bool:
    return services.storage.head(bucket, key) is not None


def test_the_owner_deletes_a_score_and_only_its_own_objects_go(client, login, services, caplog):
    from melody.scores.models import owned_result_keys

    owner_token, _, owner = login()
    other_token, _, other = login()
    owner_h, other_h = auth_header(owner_token), auth_header(other_token)
    body = b"X:1\nT:Private tune\nK:C\nCDEF|\n"
    shared_hash = "c" * 64

    created = client.post("/api/v1/scores/uploads", json={"filename": "Private tune.abc", "size_bytes": len(body)}, headers=owner_h)
    assert created.status_code == 201, created.text
    mine = services.scores._scores.get(created.json()["score_id"])
    mine = landed(services, mine, body)

    # analysing: a 409 with its stable code, and nothing is deleted
    busy = client.delete(f"/api/v1/scores/{mine.score_id}", headers=owner_h)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "score_in_progress"
    assert exists(services, mine.bucket, mine.key) and exists(services, mine.original_bucket, mine.original_key)

    mine = analysed(services, mine, shared_hash)
    # the other user uploaded the same bytes: the same hash, but an analysis of its own
    theirs, _ = services.scores.create_upload(other["user_id"], filename="copy.abc", size_bytes=len(body))
    theirs = analysed(services, landed(services, theirs, body), shared_hash)
    media = services.settings.media_bucket
    my_results = owned_result_keys(mine.user_id, mine.score_id).values()
    their_results = owned_result_keys(theirs.user_id, theirs.score_id).values()
    assert all(exists(services, media, key) for key in [*my_results, *their_results])

    hidden = client.delete(f"/api/v1/scores/{mine.score_id}", headers=other_h)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "score_not_found"
    assert services.scores._scores.get(mine.score_id) is not None and exists(services, mine.original_bucket, mine.original_key)

    caplog.clear()
    gone = client.delete(f"/api/v1/scores/{mine.score_id}", headers=owner_h)
    assert gone.status_code == 204 and gone.content == b""
    (logged,) = [r for r in caplog.records if r.getMessage() == "score deleted"]
    assert (logged.score_id, logged.user_id) == (mine.score_id, owner["user_id"])
    assert "Private tune" not in repr(vars(logged))  # ids only, never the file's name

    assert services.scores._scores.get(mine.score_id) is None  # the DynamoDB item is gone
    assert not exists(services, mine.bucket, mine.key)
    assert not exists(services, mine.original_bucket, mine.original_key)
    assert not any(exists(services, media, key) for key in my_results)  # the analysis, MusicXML and MIDI
    listed = services.storage._client.list_objects_v2(Bucket=media, Prefix=f"scores/{mine.user_id}/")
    assert listed.get("KeyCount", 0) == 0
    assert client.get(f"/api/v1/scores/{mine.score_id}", headers=owner_h).status_code == 404
    assert client.delete(f"/api/v1/scores/{mine.score_id}", headers=owner_h).status_code == 404

    # the other user's score, its objects and its own results are all still there, and still served
    assert all(exists(services, media, key) for key in their_results)
    assert exists(services, theirs.bucket, theirs.key) and exists(services, theirs.original_bucket, theirs.original_key)
    detail = client.get(f"/api/v1/scores/{theirs.score_id}", headers=other_h).json()
    assert detail["status"] == "succeeded" and detail["analysis"] == {"key": {"name": "C major"}}
    assert f"/scores/{theirs.user_id}/{theirs.score_id}/score.mid" in detail["midi_url"]

    assert client.delete(f"/api/v1/scores/{theirs.score_id}").status_code == 401


def test_the_store_deletes_only_from_the_statuses_allowed(services):
    from melody.scores.dynamodb import DynamoScoreStore

    store = DynamoScoreStore()  # the table is bound by services.scores, built below
    score, _ = services.scores.create_upload("usr_storedelete", filename="a.abc", size_bytes=10)
    assert store.transition(score.score_id, allowed_from={"awaiting_upload"}, changes={"status": "queued"})  # version 2

    assert store.delete(score.score_id, allowed_from={"succeeded", "failed"}) is False
    assert store.get(score.score_id) is not None
    # a saved item carries a version: the delete must not require it to have none
    assert store.delete(score.score_id, allowed_from={"queued"}) is True
    assert store.get(score.score_id) is None
    assert store.delete(score.score_id, allowed_from={"queued"}) is False
