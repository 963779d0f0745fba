"""Score uploads through the real ASL file in the local runner, over moto, with the real score engine."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("music21")

from tests.conftest import auth_header  # noqa: E402
from tests.unit.scores.builders import C, satb, write  # noqa: E402

pytestmark = pytest.mark.integration

PIECE = [C[n] for n in ("I", "IV", "V", "I", "vi", "ii", "V7", "I")]


@pytest.fixture()
def stack(dev_settings, tmp_path):
    from melody.core.services import Services
    from melody_dev.local.scores import SCORE_MACHINE, build_score_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    settings = dev_settings.model_copy(update={"work_dir": tmp_path})
    services = Services(settings)
    runner = build_score_runner(services.score_steps)
    services.use_score_workflow(LocalWorkflowStarter(runner, SCORE_MACHINE))
    services.runner = runner
    yield services
    runner.shutdown()


def upload(services, user_id: str, body: bytes, name: str):
    score, post = services.scores.create_upload(user_id, filename=name, size_bytes=len(body))
    assert post["fields"]["Content-Type"] == score.content_type
    services.storage._client.put_object(Bucket=score.bucket, Key=score.key, Body=body, ContentType=score.content_type)
    return score


def event_for(services, bucket: str, key: str) -> dict:
    head = services.storage.head(bucket, key)
    with open("events/eventbridge_s3_object_created.json") as handle:
        event = json.load(handle)
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"].update({"key": key, "size": head["ContentLength"], "etag": head["ETag"].strip('"')})
    return event


def run(services, score):
    from melody.scores.trigger import handle_score_object_created
    from melody_dev.local.scores import SCORE_MACHINE

    outcome = handle_score_object_created(event_for(services, score.bucket, score.key), services.scores)
    arn = f"{services.runner.state_machine_arn(SCORE_MACHINE).replace(':stateMachine:', ':execution:')}:{score.score_id}"
    return outcome, services.runner.wait(arn, timeout=300)


def test_a_musicxml_upload_is_analysed_and_rendered_and_the_same_bytes_again_get_their_own(stack, tmp_path):
    body = write(satb(PIECE, bpm=72, title="Integration piece"), tmp_path / "piece.musicxml").read_bytes()
    score = upload(stack, "usr_score1", body, "My Piece.musicxml")
    outcome, execution = run(stack, score)
    assert outcome == "started" and execution["status"] == "SUCCEEDED", execution

    done = stack.scores.get_for_user("usr_score1", score.score_id)
    assert done.status == "succeeded" and not done.reused
    assert done.summary["key"] == "C major" and done.summary["measures"] == 2 and done.summary["title"] == "Integration piece"
    analysis = stack.scores.analysis(done)
    assert analysis["key"]["name"] == "C major" and [c["roman"] for c in analysis["chords"]][:3] == ["I", "IV", "V"]
    assert analysis["cadences"][-1]["type"] == "authentic"
    # the renderings are in media, and the accepted original is kept
    links = stack.scores.links(done)
    assert f"/scores/usr_score1/{done.score_id}/" in links["musicxml_url"] and "X-Amz-Expires=300" in links["musicxml_url"]
    media = stack.settings.media_bucket
    assert done.owned_results and stack.storage.head(media, f"scores/usr_score1/{done.score_id}/score.mid")["ContentLength"] > 0
    assert stack.storage.head(media, f"scores/{done.content_hash}/analysis.json") is None  # nothing by content
    assert stack.storage.head(done.original_bucket, done.original_key)["ContentLength"] == len(body)

    # The same bytes uploaded again (by another user): analysed again, into results of that score's own.
    again = upload(stack, "usr_score2", body, "copy.musicxml")
    outcome, execution = run(stack, again)
    assert execution["status"] == "SUCCEEDED"
    second = stack.scores.get_for_user("usr_score2", again.score_id)
    assert not second.reused and second.owned_results
    assert second.content_hash == done.content_hash and second.summary == done.summary
    assert stack.storage.head(media, f"scores/usr_score2/{second.score_id}/analysis.json") is not None
    assert stack.scores.analysis(second) == analysis

    # A replayed event for the accepted object starts nothing new.
    from melody.scores.trigger import handle_score_object_created

    assert handle_score_object_created(event_for(stack, score.bucket, score.key), stack.scores) == "duplicate"


def test_a_midi_upload_is_analysed(stack, tmp_path):
    body = write(satb(PIECE, bpm=100), tmp_path / "piece.mid").read_bytes()
    score = upload(stack, "usr_score3", body, "piece.mid")
    _, execution = run(stack, score)
    assert execution["status"] == "SUCCEEDED", execution
    analysis = stack.scores.analysis(stack.scores.get_for_user("usr_score3", score.score_id))
    assert analysis["format"] == "midi" and analysis["key"]["name"] == "C major" and analysis["measures"] == 2


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("broken.mid", b"MThd\x00\x00\x00\x06garbage-after-the-header" * 3, "score_corrupt"),
        ("notxml.musicxml", b"this is not xml", "score_corrupt"),
        ("rests.abc", b"X:1\nT:Silence\nM:4/4\nL:1/4\nK:C\nz z z z |]\n", "score_empty"),
    ],
)
def test_a_bad_file_fails_with_a_stable_code_and_is_kept(stack, name, body, code):
    score = upload(stack, "usr_score4", body, name)
    _, execution = run(stack, score)
    assert execution["status"] == "FAILED"
    failed = stack.scores.get_for_user("usr_score4", score.score_id)
    assert failed.status == "failed" and failed.error is not None and failed.error.code == code, failed.error
    assert stack.storage.head(failed.original_bucket, failed.original_key) is not None  # kept


def test_an_object_of_another_size_than_declared_is_rejected(stack):
    score, _ = stack.scores.create_upload("usr_score5", filename="a.abc", size_bytes=10)
    stack.storage._client.put_object(Bucket=score.bucket, Key=score.key, Body=b"X:1\nK:C\nCDEF|\n", ContentType=score.content_type)
    from melody.scores.trigger import handle_score_object_created

    assert handle_score_object_created(event_for(stack, score.bucket, score.key), stack.scores) == "rejected"
    failed = stack.scores.get_for_user("usr_score5", score.score_id)
    assert failed.error.code == "size_mismatch"


def test_the_api_lists_shows_and_downloads_only_the_owners_scores(dev_settings, tmp_path, sms):
    from fastapi.testclient import TestClient

    from melody.api.apps import full_app
    from melody.core.services import Services
    from melody_dev.local.scores import SCORE_MACHINE, build_score_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    settings = dev_settings.model_copy(
        update={"work_dir": tmp_path, "otp_per_ip_per_minute": 1000, "otp_per_ip_per_hour": 1000, "otp_resend_after_s": 0}
    )
    services = Services(settings, sms_sender=sms)
    runner = build_score_runner(services.score_steps)
    services.use_score_workflow(LocalWorkflowStarter(runner, SCORE_MACHINE))
    services.runner = runner
    try:
        with TestClient(full_app(services)) as client:
            tokens = [_login(client, sms) for _ in range(2)]
            owner, other = (auth_header(t) for t in tokens)
            body = write(satb(PIECE), tmp_path / "p.musicxml").read_bytes()
            request = {"kind": "score", "filename": "p.musicxml", "size_bytes": len(body)}
            created = client.post("/api/v1/scores/uploads", json=request, headers=owner)
            assert created.status_code == 201, created.text
            out = created.json()
            assert out["status"] == "awaiting_upload"
            assert out["upload"]["fields"]["Content-Type"] == "application/vnd.recordare.musicxml+xml"
            score = services.scores._scores.get(out["score_id"])
            services.storage._client.put_object(Bucket=score.bucket, Key=score.key, Body=body, ContentType=score.content_type)
            _, execution = run(services, score)
            assert execution["status"] == "SUCCEEDED", execution

            listed = client.get("/api/v1/scores", headers=owner).json()
            assert [s["score_id"] for s in listed["items"]] == [score.score_id]
            assert client.get("/api/v1/scores", headers=other).json()["items"] == []
            detail = client.get(f"/api/v1/scores/{score.score_id}", headers=owner).json()
            assert detail["analysis"]["key"]["name"] == "C major" and detail["musicxml_url"] and detail["midi_url"]
            hidden = client.get(f"/api/v1/scores/{score.score_id}", headers=other)
            assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "score_not_found"
            download = client.get(f"/api/v1/scores/{score.score_id}/download/midi", headers=owner).json()
            assert download["filename"] == "p.mid" and "attachment" in download["url"]
            assert client.get(f"/api/v1/scores/{score.score_id}/download/midi", headers=other).status_code == 404

            refused = client.post("/api/v1/scores/uploads", json={"filename": "song.mp3", "size_bytes": 100}, headers=owner)
            assert refused.status_code == 422 and refused.json()["error"]["code"] == "unsupported_score_type"
            big = client.post("/api/v1/scores/uploads", json={"filename": "a.mid", "size_bytes": 50 * 1024 * 1024}, headers=owner)
            assert big.status_code == 422 and big.json()["error"]["code"] == "file_too_large"
            assert client.get("/api/v1/scores").status_code == 401
    finally:
        runner.shutdown()


def _login(client, sms) -> str:
    import re

    from tests.conftest import random_indian_mobile

    phone = random_indian_mobile()
    challenge = client.post("/api/v1/auth/request-otp", json={"phone_number": phone}).json()
    e164 = "+91" + re.sub(r"\D", "", phone)[-10:]
    verified = client.post("/api/v1/auth/verify-otp", json={"challenge_id": challenge["challenge_id"], "code": sms.last_code(e164)})
    return verified.json()["access_token"]


def test_listing_pages_newest_first_and_refuses_another_users_cursor(stack):
    from melody.core.errors import InvalidInput

    ids = [stack.scores.create_upload("usr_score6", filename=f"s{i}.abc", size_bytes=10)[0].score_id for i in range(5)]
    first, cursor = stack.scores.list_for_user("usr_score6", limit=2, cursor=None)
    second, cursor2 = stack.scores.list_for_user("usr_score6", limit=2, cursor=cursor)
    third, cursor3 = stack.scores.list_for_user("usr_score6", limit=2, cursor=cursor2)
    assert [s.score_id for s in first + second + third] == ids[::-1] and cursor3 is None
    with pytest.raises(InvalidInput) as refused:
        stack.scores.list_for_user("usr_other", limit=2, cursor=cursor)
    assert refused.value.code == "invalid_cursor"
    with pytest.raises(InvalidInput):
        stack.scores.list_for_user("usr_score6", limit=2, cursor="not-base64!!")
