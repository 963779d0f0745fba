"""Issue 4's walk-through over HTTP against ``melody dev``: upload → pipeline → stems and analysis."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from tests.support.songs import song_wav

pytestmark = pytest.mark.e2e


def login(stack) -> httpx.Client:
    api = httpx.Client(base_url=f"{stack.base_url}/api/v1", timeout=30)
    phone = "9" + "".join(random.choice("0123456789") for _ in range(9))
    cid = api.post("/auth/request-otp", json={"phone_number": phone}).json()["challenge_id"]
    token = api.post("/auth/verify-otp", json={"challenge_id": cid, "code": stack.otp_code("+91" + phone)}).json()["access_token"]
    api.headers["Authorization"] = f"Bearer {token}"
    return api


def upload(api: httpx.Client, body: bytes, name="song.wav", content_type="audio/wav", declared: int | None = None):
    created = api.post("/audio/uploads", json={"filename": name, "content_type": content_type, "size_bytes": declared or len(body)})
    assert created.status_code == 201, created.text
    post = created.json()["upload"]
    sent = httpx.post(post["url"], data=post["fields"], files={"file": (name, body, content_type)}, timeout=60)
    return created.json()["job_id"], sent


def wait(api: httpx.Client, job_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        status = api.get(f"/audio/conversion-status/{job_id}").json()
        seen.append((status["status"], status["progress"]))
        if status["status"] in ("succeeded", "failed"):
            status["seen"] = seen
            return status
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {seen[-5:]}")


@pytest.fixture(scope="module")
def song() -> bytes:
    return song_wav(30, bpm=120, seed=11)


def test_upload_convert_download_and_reuse(dev_stack, song, tmp_path):
    import melody_audio

    api = login(dev_stack)
    job_id, sent = upload(api, song)
    assert sent.status_code == 204
    done = wait(api, job_id)
    assert done["status"] == "succeeded", done
    progress = [p for _, p in done["seen"]]
    assert progress == sorted(progress), "progress never goes back"
    results = done["results"]
    for name in ("instrumental_url", "vocals_url"):
        stem = httpx.get(results[name], timeout=30)
        assert stem.status_code == 200 and stem.headers["content-type"] == "audio/mp4"
        path = tmp_path / f"{name}.m4a"
        path.write_bytes(stem.content)
        decoded = melody_audio.decode(str(path))
        assert abs(decoded.duration_s - 30) < 0.5
    analysis = results["analysis"]
    assert abs(analysis["tempo"]["bpm"] - 120) < 3 or abs(analysis["tempo"]["bpm"] - 60) < 2
    assert analysis["key"]["camelot"] and analysis["key"]["open_key"]
    waveform = httpx.get(results["waveform_url"]).json()
    assert waveform["version"] == 2 and waveform["bits"] == 8

    # The same file again completes from the stored results.
    again_id, _ = upload(api, song, name="again.wav")
    again = wait(api, again_id)
    assert again["status"] == "succeeded"
    assert "separate" not in again["timings"]["stages_s"]
    assert again["results"]["analysis"] == analysis


def test_corrupt_upload_fails_with_a_reason(dev_stack):
    api = login(dev_stack)
    job_id, sent = upload(api, b"ID3\x03\x00\x00\x00" + bytes(range(256)) * 8, name="broken.mp3", content_type="audio/mpeg")
    assert sent.status_code == 204
    failed = wait(api, job_id)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] in ("not_audio", "corrupt_audio") and failed["error"]["message"]


def test_policy_refuses_oversize_and_wrong_type(dev_stack):
    api = login(dev_stack)
    # The policy binds the declared size exactly: declared 1000 bytes, a 321 KB file is refused.
    declared = api.post("/audio/uploads", json={"filename": "a.mp3", "content_type": "audio/mpeg", "size_bytes": 1000}).json()
    form = declared["upload"]
    oversize = httpx.post(form["url"], data=form["fields"], files={"file": ("a.mp3", b"\xff" * (321 * 1024), "audio/mpeg")})
    assert oversize.status_code == 400 and "EntityTooLarge" in oversize.text
    undersize = httpx.post(form["url"], data=form["fields"], files={"file": ("a.mp3", b"\xff" * 999, "audio/mpeg")})
    assert undersize.status_code == 400 and "EntityTooSmall" in undersize.text
    assert api.get(f"/audio/conversion-status/{declared['job_id']}").json()["status"] == "awaiting_upload"

    created = api.post("/audio/uploads", json={"filename": "a.mp3", "content_type": "audio/mpeg", "size_bytes": 1024}).json()
    fields = dict(created["upload"]["fields"])
    wrong_type = httpx.post(
        created["upload"]["url"], data={**fields, "Content-Type": "text/html"}, files={"file": ("a.mp3", b"x" * 1024, "text/html")}
    )
    assert wrong_type.status_code == 403 and "AccessDenied" in wrong_type.text
    other_key = httpx.post(created["upload"]["url"], data={**fields, "key": fields["key"] + "x"}, files={"file": ("a.mp3", b"x" * 1024)})
    assert other_key.status_code == 403
    empty = httpx.post(created["upload"]["url"], data=fields, files={"file": ("a.mp3", b"")})
    assert empty.status_code == 400 and "EntityTooSmall" in empty.text
    too_big = api.post("/audio/uploads", json={"filename": "a.mp3", "content_type": "audio/mpeg", "size_bytes": 10**12})
    assert too_big.status_code == 422 and too_big.json()["error"]["code"] == "file_too_large"
    not_audio = api.post("/audio/uploads", json={"filename": "a.txt", "content_type": "text/plain", "size_bytes": 10})
    assert not_audio.status_code == 422 and not_audio.json()["error"]["code"] == "unsupported_media_type"


def test_another_users_job_is_not_found(dev_stack, song):
    owner = login(dev_stack)
    created = owner.post("/audio/uploads", json={"filename": "a.wav", "content_type": "audio/wav", "size_bytes": 100}).json()
    stranger = login(dev_stack)
    response = stranger.get(f"/audio/conversion-status/{created['job_id']}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "job_not_found"
    assert all(item["job_id"] != created["job_id"] for item in stranger.get("/audio/jobs").json()["items"])
    mine = owner.get("/audio/jobs?limit=1")
    assert mine.status_code == 200 and mine.json()["items"][0]["job_id"] == created["job_id"]
    assert owner.get("/audio/jobs?cursor=not-a-cursor").status_code == 422


def test_a_replayed_form_after_success_changes_nothing_the_job_serves(dev_stack):
    import re

    api = login(dev_stack)
    song = song_wav(5, seed=23)
    created = api.post("/audio/uploads", json={"filename": "r.wav", "content_type": "audio/wav", "size_bytes": len(song)})
    assert created.status_code == 201, created.text
    job_id, form = created.json()["job_id"], created.json()["upload"]
    assert httpx.post(form["url"], data=form["fields"], files={"file": ("r.wav", song, "audio/wav")}).status_code == 204
    done = wait(api, job_id)
    assert done["status"] == "succeeded", done
    assert httpx.get(done["results"]["original_url"], timeout=30).content == song

    # The same fields again within their lifetime, other bytes of the declared size: S3 stores it
    # (nothing can refuse a valid form), and its event is recognised and ignored.
    mark = dev_stack.mark()
    other = song[:-64] + b"\x01" * 64
    assert httpx.post(form["url"], data=form["fields"], files={"file": ("r.wav", other, "audio/wav")}).status_code == 204
    dev_stack.wait_for(re.compile(rf"upload event key=\S*/{job_id}/\S* outcome=replay_ignored"), since=mark, timeout=60)
    after = api.get(f"/audio/conversion-status/{job_id}").json()
    assert after["status"] == "succeeded" and after["results"]["analysis"] == done["results"]["analysis"]
    assert httpx.get(after["results"]["original_url"], timeout=30).content == song


def test_a_burst_of_upload_creations_is_limited(dev_stack):
    api = login(dev_stack)
    body = {"filename": "a.mp3", "content_type": "audio/mpeg", "size_bytes": 1000}
    answers = [api.post("/audio/uploads", json=body) for _ in range(40)]
    assert 0 < [a.status_code for a in answers].count(201) <= 10
    refused = [a for a in answers if a.status_code != 201]
    assert refused and {a.status_code for a in refused} == {429}
    error = refused[-1].json()["error"]
    assert error["code"] in ("rate_limited", "too_many_pending_uploads")
    assert int(refused[-1].headers["Retry-After"]) == error["details"]["retry_after_s"] >= 1
