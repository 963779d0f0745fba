"""The melody of a song in the PWA (issue 12) against the e2e ``melody dev``, under the production CSP:
a converted upload plays from the library, the player's "Melody" opens its lead sheet, the notes
are drawn and the playhead follows the song as it plays."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from tests.support.songs import song_wav

from .conftest import DESKTOP
from .waits import wait_for_js

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def singer(melody_server):
    """A user (phone) with one converted upload."""
    phone = "9" + "".join(random.choice("0123456789") for _ in range(9))
    tokens = melody_server.login_api(phone)
    api = httpx.Client(base_url=f"{melody_server.base_url}/api/v1", timeout=30,
                       headers={"Authorization": f"Bearer {tokens['access_token']}"})  # fmt: skip
    body = song_wav(20, bpm=120, seed=45)
    created = api.post("/audio/uploads", json={"filename": "tune.wav", "content_type": "audio/wav", "size_bytes": len(body)})
    assert created.status_code == 201, created.text
    form = created.json()["upload"]
    sent = httpx.post(form["url"], data=form["fields"], files={"file": ("tune.wav", body, "audio/wav")}, timeout=60)
    assert sent.status_code in (200, 201, 204), sent.text
    job_id = created.json()["job_id"]
    deadline = time.monotonic() + 300
    while True:
        status = api.get(f"/audio/conversion-status/{job_id}").json()
        if status["status"] in ("succeeded", "failed"):
            break
        assert time.monotonic() < deadline, status
        time.sleep(1.0)
    assert status["status"] == "succeeded", status
    yield phone, job_id, tokens["refresh_token"]
    api.close()


def test_the_player_opens_the_lead_sheet_which_follows_the_song(new_page, melody_server, singer, shot):
    _phone, job_id, refresh_token = singer
    _context, page, errors = new_page(DESKTOP)
    # The same user, signed in with the session the fixture opened: a second code for the phone within
    # 30 s would be refused (the OTP resend limit) when the conversion comes back from the cache.
    page.goto("/")
    page.evaluate("(token) => localStorage.setItem('melody.refresh_token', token)", refresh_token)
    page.reload()
    page.locator("#nav").wait_for(state="visible")
    page.get_by_role("link", name="Library").click()
    row = page.locator("#library-uploads .track-upload").first
    row.wait_for()
    row.get_by_role("button", name="Play", exact=False).first.click()
    melody = page.locator("#player-melody")
    melody.wait_for(state="visible", timeout=30_000)
    assert melody.get_attribute("href") == f"#/melody?job={job_id}"
    melody.click()
    wait_for_js(page, "document.querySelectorAll('#melody-roll rect.melody-note').length >= 8", timeout=30_000)
    status = page.locator("#melody-status").inner_text()
    assert "C major" in status and "4/4" in status, status
    assert page.locator("#melody-musicxml").get_attribute("href")
    # the song keeps playing under the view: the playhead moves with it
    wait_for_js(page, "document.getElementById('audio').currentTime > 1.0", timeout=30_000)
    first = float(page.locator("#melody-playhead").get_attribute("x1"))
    wait_for_js(page, f"Number(document.getElementById('melody-playhead').getAttribute('x1')) > {first + 20}",
                timeout=15_000)
    shot(page, "melody-roll")
    # the same lead sheet engraved (the score view's OpenSheetMusicDisplay, loaded on this click)
    page.locator("#melody-engrave").click()
    wait_for_js(page, "document.getElementById('melody-sheet').dataset.engraved === 'true'", timeout=30_000)
    assert page.locator("#melody-sheet svg").count() >= 1
    shot(page, "melody-sheet", full_page=True)
    assert not errors.csp, errors.csp
