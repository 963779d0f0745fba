"""The ``lalal`` engine: LALAL.AI's remote API (v1) over httpx.

Flow (https://www.lalal.ai/api/v1/docs/): ``POST /upload/`` with the raw bytes and a
``Content-Disposition`` file name → ``source_id``; ``POST /split/stem_separator/`` with
``{"source_id", "presets": {"stem": "vocals"}}`` → ``task_id``; ``POST /check/`` with
``{"task_ids": [...]}`` until the task reports success (the API allows at most 30 checks a
minute, so the poll interval is ≥ 2 s); download the track labelled ``vocals`` and the
``back`` track labelled ``no_vocals`` (the instrumental); finally ``POST /delete/`` the
source (best effort) so the user's audio does not linger on a third-party server.

Authentication is the ``X-License-Key`` header.  The key and base URL come from the
constructor (the caller reads them from settings); the key is never logged or put in an
error message.  Failures map to ``AudioError`` codes ``remote_error`` / ``remote_timeout``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import httpx
import numpy as np

from .. import errors
from ..audio import Audio, Stems
from ..errors import AudioError

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.lalal.ai/api/v1"


class LalalEngine:
    name = "lalal"
    version = "api-v1"

    def __init__(
        self,
        license_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 60.0,
        poll_interval_s: float = 2.0,
        max_wait_s: float = 600.0,
        splitter: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        **_: object,
    ) -> None:
        self._key = license_key
        self.base_url = base_url.rstrip("/")
        self._transport = transport
        self.timeout_s = timeout_s
        self.poll_interval_s = max(2.0, poll_interval_s) if transport is None else poll_interval_s
        self.max_wait_s = max_wait_s
        self.splitter = splitter
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:  # never show the key
        return f"LalalEngine(base_url={self.base_url!r}, license_key={'***' if self._key else None})"

    # -- public -----------------------------------------------------------------
    def separate(self, audio: Audio, source_bytes: bytes | None = None, filename: str = "input.wav") -> Stems:
        """Separate ``audio``.  When the original file's bytes are available pass them as
        ``source_bytes`` (uploads less); otherwise the decoded audio is sent as WAV."""
        if not self._key:
            raise AudioError(errors.ENGINE_UNAVAILABLE, "the lalal engine needs a license key; none is configured")
        if source_bytes is None:
            source_bytes, filename = _wav_bytes(audio), "input.wav"
        with httpx.Client(base_url=self.base_url, transport=self._transport, timeout=self.timeout_s,
                          headers={"X-License-Key": self._key}) as client:
            source_id = self._upload(client, source_bytes, filename)
            try:
                task_id = self._split(client, source_id)
                tracks = self._wait(client, task_id)
                vocals_url, back_url = _pick_tracks(tracks)
                # track URLs are signed links, possibly on another host: fetch them
                # without the license header so the key never leaves for a CDN
                with httpx.Client(transport=self._transport, timeout=self.timeout_s) as plain:
                    vocals_raw = self._download(plain, vocals_url)
                    back_raw = self._download(plain, back_url)
            finally:
                self._delete(client, source_id)
        from ..decode import decode

        voc = decode(vocals_raw, sample_rate=audio.sample_rate, max_duration_s=None, allow_silence=True,
                     filename_hint="vocals.bin")
        ins = decode(back_raw, sample_rate=audio.sample_rate, max_duration_s=None, allow_silence=True,
                     filename_hint="back.bin")
        n, ch = audio.n_samples, audio.channels
        return Stems(_fit(ins.samples, ch, n), _fit(voc.samples, ch, n), audio.sample_rate, self.name, self.version,
                     meta={"task_id": task_id})

    # -- steps ------------------------------------------------------------------
    def _request(self, client: httpx.Client, method: str, url: str, **kw) -> httpx.Response:
        try:
            resp = client.request(method, url, **kw)
        except httpx.TimeoutException:
            raise AudioError(errors.REMOTE_TIMEOUT, f"LALAL.AI did not answer in time ({url})") from None
        except httpx.HTTPError as exc:
            raise AudioError(errors.REMOTE_ERROR, f"LALAL.AI request failed: {type(exc).__name__}") from None
        if resp.status_code in (401, 403):
            raise AudioError(errors.REMOTE_ERROR, "LALAL.AI refused the license key", {"status": resp.status_code})
        if resp.status_code == 429:
            raise AudioError(errors.REMOTE_ERROR, "LALAL.AI rate limit reached", {"status": 429})
        if resp.status_code >= 400:
            raise AudioError(errors.REMOTE_ERROR, f"LALAL.AI answered HTTP {resp.status_code}: {_detail(resp)}",
                             {"status": resp.status_code})
        return resp

    def _json(self, resp: httpx.Response) -> dict:
        try:
            data = resp.json()
        except ValueError:
            raise AudioError(errors.REMOTE_ERROR, "LALAL.AI answered with something that is not JSON") from None
        if not isinstance(data, dict):
            raise AudioError(errors.REMOTE_ERROR, "LALAL.AI answered with an unexpected JSON shape")
        if data.get("status") == "error":
            raise AudioError(errors.REMOTE_ERROR, f"LALAL.AI error: {_error_text(data)}")
        return data

    def _upload(self, client, data: bytes, filename: str) -> str:
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[:100] or "input.bin"
        body = self._json(self._request(client, "POST", "/upload/", content=data,
                                        headers={"Content-Disposition": f"attachment; filename={safe}"}))
        source_id = body.get("id") or body.get("source_id")
        if not source_id:
            raise AudioError(errors.REMOTE_ERROR, "LALAL.AI upload returned no source id")
        log.info("lalal upload ok", extra={"source_id": source_id})
        return str(source_id)

    def _split(self, client, source_id: str) -> str:
        presets: dict = {"stem": "vocals"}
        if self.splitter:
            presets["splitter"] = self.splitter
        body = self._json(self._request(client, "POST", "/split/stem_separator/",
                                        json={"source_id": source_id, "presets": presets}))
        task_id = body.get("task_id") or body.get("id")
        if not task_id:
            raise AudioError(errors.REMOTE_ERROR, "LALAL.AI split returned no task id")
        return str(task_id)

    def _wait(self, client, task_id: str) -> list:
        deadline = self._clock() + self.max_wait_s
        while True:
            body = self._json(self._request(client, "POST", "/check/", json={"task_ids": [task_id]}))
            task = _task_entry(body, task_id)
            status = (task.get("status") or (task.get("task") or {}).get("state") or "").lower()
            if status == "success":
                tracks = _tracks(task)
                if tracks:
                    return tracks
            elif status in ("error", "cancelled", "canceled"):
                raise AudioError(errors.REMOTE_ERROR, f"LALAL.AI task {status}: {_error_text(task)}")
            if self._clock() + self.poll_interval_s > deadline:
                raise AudioError(errors.REMOTE_TIMEOUT, f"LALAL.AI task did not finish within {self.max_wait_s:.0f} s")
            self._sleep(self.poll_interval_s)

    def _download(self, client, url: str) -> bytes:
        resp = self._request(client, "GET", url)
        if not resp.content:
            raise AudioError(errors.REMOTE_ERROR, "LALAL.AI returned an empty track")
        return resp.content

    def _delete(self, client, source_id: str) -> None:
        try:
            client.post("/delete/", json={"source_id": source_id})
        except httpx.HTTPError:
            log.warning("lalal delete failed", extra={"source_id": source_id})


# -- response helpers (tolerant of the documented shape variations) ---------------
def _detail(resp: httpx.Response) -> str:
    try:
        return _error_text(resp.json())[:200]
    except ValueError:
        return resp.reason_phrase or "error"


def _error_text(data) -> str:
    if not isinstance(data, dict):
        return str(data)[:200]
    err = data.get("error") or data.get("detail") or data.get("message")
    if isinstance(err, dict):
        err = err.get("detail") or err.get("message") or err.get("code")
    return str(err or "unknown error")[:200]


def _task_entry(body: dict, task_id: str) -> dict:
    raw_result = body.get("result")
    result: dict = raw_result if isinstance(raw_result, dict) else {}
    for container in (result, body.get("tasks") or {}):
        if isinstance(container, dict) and isinstance(container.get(task_id), dict):
            return container[task_id]
    if result.get("task_id") == task_id or "tracks" in result or "split" in result:
        return {"status": body.get("status"), **result}
    raise AudioError(errors.REMOTE_ERROR, "LALAL.AI check response does not mention the task")


def _tracks(task: dict) -> list:
    for holder in (task, task.get("result") or {}):
        if isinstance(holder, dict) and isinstance(holder.get("tracks"), list):
            return holder["tracks"]
    split = task.get("split") or (task.get("result") or {}).get("split")
    if isinstance(split, dict) and split.get("stem_track") and split.get("back_track"):
        return [{"type": "stem", "label": "vocals", "url": split["stem_track"]},
                {"type": "back", "label": "no_vocals", "url": split["back_track"]}]
    return []


def _pick_tracks(tracks: list) -> tuple[str, str]:
    vocals = back = None
    for t in tracks:
        if not isinstance(t, dict) or not t.get("url"):
            continue
        label, kind = str(t.get("label", "")).lower(), str(t.get("type", "")).lower()
        if kind == "back" or label == "no_vocals":
            back = back or t["url"]
        elif label == "vocals" or kind == "stem":
            vocals = vocals or t["url"]
    if not vocals or not back:
        raise AudioError(errors.REMOTE_ERROR, "LALAL.AI result lacks the vocals or the no_vocals (back) track")
    return vocals, back


def _wav_bytes(audio: Audio) -> bytes:
    import io
    import wave

    pcm = (np.clip(audio.samples, -1, 1).T * 32767).astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(audio.channels)
        w.setsampwidth(2)
        w.setframerate(audio.sample_rate)
        w.writeframes(pcm)
    return buf.getvalue()


def _fit(x: np.ndarray, ch: int, n: int) -> np.ndarray:
    if x.shape[0] != ch:
        x = np.repeat(x[:1], ch, axis=0) if x.shape[0] == 1 else x.mean(axis=0, keepdims=True)
    if x.shape[1] < n:
        x = np.pad(x, ((0, 0), (0, n - x.shape[1])))
    return np.ascontiguousarray(x[:, :n], dtype=np.float32)
