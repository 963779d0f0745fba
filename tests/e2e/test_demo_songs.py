"""``melody dev`` creates its demo songs on first start: labelled tracks with audio, attached through
the operators' attach path, whose pipeline writes their analysed attributes back to the catalog."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.e2e

DEMO_IDS = ("trk_melodydemo_hi", "trk_melodydemo_ta", "trk_melodydemo_en")


def test_demo_songs_have_audio_and_eventually_attributes(dev_stack):
    token = dev_stack.login_api("9876500011")["access_token"]
    for track_id in DEMO_IDS:
        status, track = dev_stack.request("GET", f"/api/v1/music/track/{track_id}", token=token)
        assert status == 200, track
        assert track["title"].startswith("Melody Studio demo — ") and track["artists"] == ["Melody Studio"]
    deadline = time.monotonic() + 300
    pending = set(DEMO_IDS)
    while pending:
        for track_id in sorted(pending):
            _, track = dev_stack.request("GET", f"/api/v1/music/track/{track_id}", token=token)
            assert track is not None
            if track["has_audio"] and track["attributes"] and track["attributes"]["bpm"]:
                pending.discard(track_id)
        assert time.monotonic() < deadline, f"no analysed attributes yet for {sorted(pending)}"
        time.sleep(2)
    status, home = dev_stack.request("GET", "/api/v1/music/home", token=token)
    assert status == 200
    ready = next(s for s in home["sections"] if s["id"] == "ready_to_sing")
    assert set(DEMO_IDS) <= {i["id"] for i in ready["items"]} and all(i["has_audio"] for i in ready["items"])
    # The detailed health report names ffmpeg with its version.
    status, health = dev_stack.request("GET", "/api/v1/system/health")
    assert health["dependencies"]["ffmpeg"]["status"] == "ok" and health["dependencies"]["ffmpeg"]["version"]
