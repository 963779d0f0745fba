"""The LALAL.AI engine against httpx.MockTransport with recorded-shape JSON."""

import io
import json
import wave

import httpx
import numpy as np
import pytest

from melody_audio import AudioError
from melody_audio.audio import Audio
from melody_audio.separate import get_engine

SR = 44100
KEY = "test-license-key-123"
BASE = "https://lalal.test/api/v1"


def _wav(value: float, n=SR // 2, ch=2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(ch)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.full(n * ch, value) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def _check_success(task_id="task-1"):
    # shape as returned by POST /api/v1/check/ for a finished stem_separator task
    return {"status": "success", "result": {task_id: {
        "status": "success", "progress": 100, "task_id": task_id, "source_id": "src-1", "stem": "vocals",
        "result": {"tracks": [
            {"type": "stem", "label": "vocals", "url": "https://files.lalal.test/d/task-1/vocals.wav"},
            {"type": "back", "label": "no_vocals", "url": "https://files.lalal.test/d/task-1/no_vocals.wav"},
        ]}}}}


class FakeLalal:
    def __init__(self, checks=None, fail=None):
        self.requests = []
        self.checks = list(checks or [{"status": "success", "result": {"task-1": {"status": "progress", "progress": 40}}},
                                      _check_success()])
        self.fail = fail or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path in self.fail:
            f = self.fail[path]
            if isinstance(f, Exception):
                raise f
            return f
        if path.endswith("/upload/"):
            return httpx.Response(200, json={"status": "success", "id": "src-1", "size": len(request.content),
                                             "duration": 0.5, "expires": 1900000000})
        if path.endswith("/split/stem_separator/"):
            return httpx.Response(200, json={"status": "success", "task_id": "task-1"})
        if path.endswith("/check/"):
            body = self.checks.pop(0) if len(self.checks) > 1 else self.checks[0]
            return httpx.Response(200, json=body)
        if path.endswith("/delete/"):
            return httpx.Response(200, json={"status": "success"})
        if path.endswith("vocals.wav") and "no_vocals" not in path:
            return httpx.Response(200, content=_wav(0.25))
        if path.endswith("no_vocals.wav"):
            return httpx.Response(200, content=_wav(-0.5))
        return httpx.Response(404, json={"detail": "not found"})

    def paths(self):
        return [r.url.path for r in self.requests]


def _engine(fake, **kw):
    kw.setdefault("sleep", lambda s: None)
    return get_engine("lalal", license_key=KEY, base_url=BASE, transport=httpx.MockTransport(fake), **kw)


def _audio():
    return Audio(np.zeros((2, SR // 2), np.float32) + 0.1, SR)


def test_upload_split_poll_download_delete():
    fake = FakeLalal()
    stems = _engine(fake).separate(_audio(), source_bytes=b"RIFF....fake", filename="my song.mp3")
    assert fake.paths() == ["/api/v1/upload/", "/api/v1/split/stem_separator/", "/api/v1/check/", "/api/v1/check/",
                            "/d/task-1/vocals.wav", "/d/task-1/no_vocals.wav", "/api/v1/delete/"]
    up, split, check = fake.requests[0], fake.requests[1], fake.requests[2]
    assert up.content == b"RIFF....fake"
    assert up.headers["Content-Disposition"] == "attachment; filename=my_song.mp3"
    assert json.loads(split.content) == {"source_id": "src-1", "presets": {"stem": "vocals"}}
    assert json.loads(check.content) == {"task_ids": ["task-1"]}
    for r in fake.requests:
        if r.url.host == "lalal.test":
            assert r.headers["X-License-Key"] == KEY
            assert "authorization" not in r.headers
        else:  # signed download links: the key does not travel to the file host
            assert "X-License-Key" not in r.headers
    assert stems.engine == "lalal" and stems.vocals.shape == (2, SR // 2)
    assert abs(float(stems.vocals.mean()) - 0.25) < 1e-3
    assert abs(float(stems.instrumental.mean()) + 0.5) < 1e-3


def test_without_source_bytes_uploads_wav():
    fake = FakeLalal()
    _engine(fake).separate(_audio())
    assert fake.requests[0].content[:4] == b"RIFF"


def test_split_flat_shape_with_split_urls():
    body = {"status": "success", "result": {"task-1": {"status": "success", "split": {
        "stem_track": "https://files.lalal.test/d/task-1/vocals.wav",
        "back_track": "https://files.lalal.test/d/task-1/no_vocals.wav"}}}}
    stems = _engine(FakeLalal(checks=[body])).separate(_audio())
    assert stems.vocals.shape == (2, SR // 2)


def test_task_error_is_remote_error_and_source_deleted():
    body = {"status": "success", "result": {"task-1": {"status": "error", "error": {"code": "x", "detail": "bad file"}}}}
    fake = FakeLalal(checks=[body])
    with pytest.raises(AudioError) as exc:
        _engine(fake).separate(_audio())
    assert exc.value.code == "remote_error" and "bad file" in exc.value.message
    assert fake.paths()[-1] == "/api/v1/delete/"


def test_unauthorised_key_is_reported_without_the_key(caplog):
    fake = FakeLalal(fail={"/api/v1/upload/": httpx.Response(401, json={"detail": "invalid license"})})
    with pytest.raises(AudioError) as exc:
        _engine(fake).separate(_audio())
    assert exc.value.code == "remote_error"
    assert KEY not in str(exc.value) and KEY not in json.dumps(exc.value.to_dict()) and KEY not in caplog.text
    assert KEY not in repr(_engine(fake))


def test_http_500_and_error_json():
    fake = FakeLalal(fail={"/api/v1/split/stem_separator/": httpx.Response(500, text="oops")})
    with pytest.raises(AudioError) as exc:
        _engine(fake).separate(_audio())
    assert exc.value.code == "remote_error" and exc.value.details["status"] == 500
    fake = FakeLalal(fail={"/api/v1/split/stem_separator/": httpx.Response(
        200, json={"status": "error", "error": "Not enough minutes"})})
    with pytest.raises(AudioError) as exc:
        _engine(fake).separate(_audio())
    assert "Not enough minutes" in exc.value.message


def test_network_timeout_is_remote_timeout():
    fake = FakeLalal(fail={"/api/v1/check/": httpx.ReadTimeout("slow")})
    with pytest.raises(AudioError) as exc:
        _engine(fake).separate(_audio())
    assert exc.value.code == "remote_timeout"


def test_task_that_never_finishes_times_out():
    clock = {"t": 0.0}

    def sleep(s):
        clock["t"] += s

    fake = FakeLalal(checks=[{"status": "success", "result": {"task-1": {"status": "progress", "progress": 5}}}])
    eng = _engine(fake, sleep=sleep, clock=lambda: clock["t"], poll_interval_s=2.0, max_wait_s=10.0)
    with pytest.raises(AudioError) as exc:
        eng.separate(_audio())
    assert exc.value.code == "remote_timeout"
    assert 4 <= fake.paths().count("/api/v1/check/") <= 6
    assert fake.paths()[-1] == "/api/v1/delete/"


def test_missing_back_track():
    body = {"status": "success", "result": {"task-1": {"status": "success", "result": {"tracks": [
        {"type": "stem", "label": "vocals", "url": "https://files.lalal.test/d/task-1/vocals.wav"}]}}}}
    with pytest.raises(AudioError) as exc:
        _engine(FakeLalal(checks=[body])).separate(_audio())
    assert exc.value.code == "remote_error" and "no_vocals" in exc.value.message


def test_no_key_configured():
    with pytest.raises(AudioError) as exc:
        get_engine("lalal").separate(_audio())
    assert exc.value.code == "engine_unavailable"
