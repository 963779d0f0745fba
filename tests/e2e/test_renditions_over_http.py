"""Renditions over HTTP against ``melody dev``: a converted song in another key and tempo (issue 13)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.test_pipeline_over_http import login, upload, wait
from tests.support.songs import song_wav

pytestmark = pytest.mark.e2e


def wait_rendition(api: httpx.Client, job_id: str, rendition_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    seen: list[tuple[str, int]] = []
    while time.monotonic() < deadline:
        answer = api.get(f"/audio/jobs/{job_id}/renditions/{rendition_id}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen.append((body["status"], body["progress"]))
        if body["status"] in ("succeeded", "failed"):
            body["seen"] = seen
            return body
        time.sleep(0.5)
    raise AssertionError(f"rendition {rendition_id} did not finish: {seen[-5:]}")


def test_key_minus_two_at_ninety_percent_plays_and_is_cached(dev_stack, tmp_path):
    import melody_audio
    from melody_audio.analysis import key as notation

    api = login(dev_stack)
    job_id, sent = upload(api, song_wav(10, bpm=120, seed=1313))
    assert sent.status_code == 204
    job = wait(api, job_id)
    assert job["status"] == "succeeded", job

    created = api.post(f"/audio/jobs/{job_id}/renditions", json={"semitones": -2, "tempo": 0.9})
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["status"] in ("queued", "processing", "succeeded")
    assert (body["semitones"], body["tempo"]) == (-2, 0.9)
    done = wait_rendition(api, job_id, body["rendition_id"])
    assert done["status"] == "succeeded", done
    progress = [p for _, p in done["seen"]]
    assert progress == sorted(progress)

    original = job["results"]["analysis"]
    key = done["analysis"]["key"]
    assert (notation.pitch_class(key["tonic"]) - notation.pitch_class(original["key"]["tonic"])) % 12 == 10
    assert key["camelot"] == notation.camelot(key["tonic"], key["mode"])
    assert done["analysis"]["tempo"]["bpm"] == pytest.approx(original["tempo"]["bpm"] * 0.9, abs=0.01)
    for stem in ("instrumental", "vocals"):
        link = done["stems"][stem]
        assert link["format"] == "m4a"
        got = httpx.get(link["url"], timeout=30)
        assert got.status_code == 200 and got.headers["content-type"] == "audio/mp4"
        path = tmp_path / f"{stem}.m4a"
        path.write_bytes(got.content)
        assert melody_audio.decode(str(path), allow_silence=True).duration_s == pytest.approx(10 / 0.9, abs=0.1)

    again = api.post(f"/audio/jobs/{job_id}/renditions", json={"semitones": -2, "tempo": 0.9})
    assert again.status_code == 200 and again.json()["status"] == "succeeded"
    assert again.json()["rendition_id"] == body["rendition_id"] and again.json()["stems"]


def test_identity_bad_input_and_other_users_are_refused(dev_stack):
    owner, other = login(dev_stack), login(dev_stack)
    job_id, _ = upload(owner, song_wav(6, bpm=100, seed=1314))
    assert wait(owner, job_id)["status"] == "succeeded"

    identity = owner.post(f"/audio/jobs/{job_id}/renditions", json={"semitones": 0, "tempo": 1.0})
    assert identity.status_code == 422 and identity.json()["error"]["code"] == "rendition_identity"
    for bad in ({"semitones": 7, "tempo": 1.0}, {"semitones": 1, "tempo": 1.3}, {"semitones": "2"}, {"semitones": 1, "x": 1}):
        answer = owner.post(f"/audio/jobs/{job_id}/renditions", json=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert set(answer.json()["error"]) >= {"code", "message"}

    created = owner.post(f"/audio/jobs/{job_id}/renditions", json={"semitones": 1, "tempo": 1.1}).json()
    stolen = other.post(f"/audio/jobs/{job_id}/renditions", json={"semitones": 1, "tempo": 1.1})
    assert stolen.status_code == 404 and stolen.json()["error"]["code"] == "job_not_found"
    peek = other.get(f"/audio/jobs/{job_id}/renditions/{created['rendition_id']}")
    assert peek.status_code == 404
    assert owner.get(f"/audio/jobs/{job_id}/renditions/rnd_nope").status_code == 404
    assert httpx.get(f"{dev_stack.base_url}/api/v1/audio/jobs/{job_id}/renditions/{created['rendition_id']}").status_code == 401
    wait_rendition(owner, job_id, created["rendition_id"])  # leave nothing running behind
