"""Issue 12's score walk-through over HTTP against ``melody dev``: a MusicXML and a MIDI file are
uploaded through the presigned form, run through the score_analysis state machine and come back
with key, chords and measures; a corrupt file fails with its stable code; nobody else sees them."""

from __future__ import annotations

import random
import time

import httpx
import pytest

pytest.importorskip("music21")

from tests.unit.scores.builders import C, satb, write  # noqa: E402

pytestmark = pytest.mark.e2e

PIECE = [C[n] for n in ("I", "IV", "V", "I", "vi", "ii", "V7", "I")] * 2


def login(stack) -> httpx.Client:
    api = httpx.Client(base_url=f"{stack.base_url}/api/v1", timeout=30)
    phone = "9" + "".join(random.choice("0123456789") for _ in range(9))
    since = stack.mark()
    cid = api.post("/auth/request-otp", json={"phone_number": phone}).json()["challenge_id"]
    code = stack.otp_code("+91" + phone, since=since)
    api.headers["Authorization"] = f"Bearer {api.post('/auth/verify-otp', json={'challenge_id': cid, 'code': code}).json()['access_token']}"
    return api


def upload(api: httpx.Client, body: bytes, name: str) -> dict:
    created = api.post("/scores/uploads", json={"kind": "score", "filename": name, "size_bytes": len(body)})
    assert created.status_code == 201, created.text
    form = created.json()["upload"]
    sent = httpx.post(form["url"], data=form["fields"], files={"file": (name, body, form["fields"]["Content-Type"])}, timeout=60)
    assert sent.status_code == 204, sent.text
    return created.json()


def wait(api: httpx.Client, score_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        score = api.get(f"/scores/{score_id}").json()
        if score["status"] in ("succeeded", "failed"):
            return score
        time.sleep(0.5)
    raise AssertionError(f"score {score_id} still {score['status']}")


@pytest.mark.parametrize("name", ["chorale.musicxml", "chorale.mid"])
def test_a_score_file_is_analysed_with_key_chords_and_measures(dev_stack, tmp_path, name):
    api = login(dev_stack)
    body = write(satb(PIECE, bpm=80, title="Over HTTP"), tmp_path / name).read_bytes()
    created = upload(api, body, name)
    assert created["status"] == "awaiting_upload" and created["format"] == ("midi" if name.endswith(".mid") else "musicxml")
    score = wait(api, created["score_id"])
    assert score["status"] == "succeeded", score
    analysis = score["analysis"]
    assert analysis["key"]["name"] == "C major" and analysis["measures"] == 4
    assert [c["roman"] for c in analysis["chords"]][:4] == ["I", "IV", "V", "I"]
    assert analysis["cadences"] and analysis["cadences"][-1]["type"] == "authentic"
    assert analysis["tempo_marks"][0]["quarter_bpm"] == 80 and analysis["duration_s"] == pytest.approx(12.0)
    # The normalised MusicXML and the MIDI rendering come back through short-lived signed URLs.
    xml = httpx.get(score["musicxml_url"], timeout=30)
    assert xml.status_code == 200 and b"<score-partwise" in xml.content
    midi = httpx.get(api.get(f"/scores/{created['score_id']}/download/midi").json()["url"], timeout=30)
    assert midi.status_code == 200 and midi.content.startswith(b"MThd")
    assert "attachment" in midi.headers.get("content-disposition", "")
    listed = api.get("/scores").json()["items"]
    assert created["score_id"] in [s["score_id"] for s in listed]

    other = login(dev_stack)
    assert other.get(f"/scores/{created['score_id']}").status_code == 404
    assert other.get("/scores").json()["items"] == []


def test_a_corrupt_file_fails_with_a_stable_code(dev_stack):
    api = login(dev_stack)
    created = upload(api, b"MThd\x00\x00\x00\x06 this is no midi file " * 4, "broken.mid")
    score = wait(api, created["score_id"])
    assert score["status"] == "failed" and score["error"]["code"] == "score_corrupt", score
    assert score["analysis"] is None and score["musicxml_url"] is None
    original = api.get(f"/scores/{created['score_id']}/download/original").json()
    assert httpx.get(original["url"], timeout=30).status_code == 200  # the upload is kept


def test_the_form_binds_the_declared_size_and_type(dev_stack):
    api = login(dev_stack)
    created = api.post("/scores/uploads", json={"filename": "tune.abc", "size_bytes": 20}).json()
    form = created["upload"]
    assert form["fields"]["Content-Type"] == "text/vnd.abc"
    wrong_size = httpx.post(form["url"], data=form["fields"], files={"file": ("tune.abc", b"X:1\nK:C\n", "text/vnd.abc")})
    assert wrong_size.status_code in (400, 403)
    wrong_type = httpx.post(
        form["url"], data={**form["fields"], "Content-Type": "text/html"}, files={"file": ("tune.abc", b"x" * 20, "text/html")}
    )
    assert wrong_type.status_code in (400, 403)
    refused = api.post("/scores/uploads", json={"filename": "song.mp3", "size_bytes": 100})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unsupported_score_type"
