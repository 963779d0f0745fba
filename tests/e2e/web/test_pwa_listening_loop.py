"""The listening loop's "Done when", in the PWA against the e2e ``melody dev``:

(a) the home screen shows the demo songs and one plays; (b) a seed catalog song without audio gets
"Upload your copy", the upload converts, and the song then plays with its stems from search and
from the library; (c) an upload is renamed in the library; (d) a stem downloads, and its bytes are
audio (an MP4 ``ftyp`` box that ffmpeg decodes); (e) save offline / reload offline / play is
``test_pwa_home_offline.py::test_save_for_offline_then_play_with_no_network``; (f) a refresh whose
answer is lost keeps the user signed in (the app asks again with the same refresh token and the
server's grace window answers with the same successor pair). Also: the "Is this … by …?" match
for an upload's tags, delete with a confirm, and remove for a failed conversion.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import DESKTOP, MOBILE, ui_login
from .test_pwa_catalog_instrumental import _sees_it_play
from .test_pwa_music import make_song
from .waits import wait_for_js

pytestmark = pytest.mark.e2e

CHANNA_MEREYA = "trk_270c25207982"  # a seed catalog song no other test gives audio
CHANNA_TITLE = "चन्ना मेरेया"
DEMO_EN = "trk_melodydemo_en"
DEMO_EN_TITLE = "Melody Studio demo — Morning Song"
DEMO_IDS = ("trk_melodydemo_hi", "trk_melodydemo_ta", "trk_melodydemo_en")


def _require(server, tokens, method: str, path: str, body: dict | None = None) -> None:
    if server.route_missing(method, path, tokens["access_token"], body=body):
        pytest.skip(f"{method} {path} is not there yet")


def _wait_demo_audio(server, tokens, track_id: str = DEMO_EN, timeout: float = 180.0) -> dict:
    """The demo songs' audio is attached by a background thread after start: wait until it plays."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = server.request("GET", f"/api/v1/music/track/{track_id}", token=tokens["access_token"])
        if status == 200 and body and body.get("has_audio") and body.get("audio_url"):
            return body
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo song {track_id} has no audio after {timeout:.0f} s: {status} {body}")
        time.sleep(1.0)


def _tagged_song(path: Path, *, title: str, artist: str, seconds: float) -> Path:
    """A WAV carrying title/artist tags (an INFO chunk, as ffprobe reads them)."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        pytest.skip("ffmpeg is not installed")
    plain = make_song(path.with_name(path.stem + "-plain.wav"), seconds=seconds)
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-i", str(plain), "-c", "copy",
         "-metadata", f"title={title}", "-metadata", f"artist={artist}", str(path)],
        check=True,
    )
    return path


def _upload_in_ui(page, song: Path) -> None:
    page.get_by_label("Song file").set_input_files(str(song))
    page.get_by_role("button", name="Upload and convert").click()
    page.locator("#job-card").wait_for(state="visible")
    wait_for_js(
        page,
        "document.querySelector('#job-result:not([hidden])') || document.querySelector('#job-error').textContent",
        timeout=300_000,
        polling=500,
    )
    error = page.locator("#job-error").text_content()
    assert not error, f"conversion failed in the UI: {error}"


def _api_in_page(page, path: str, method: str = "GET", body: dict | None = None):
    """Call the API through the app's own client (its token, its refresh)."""
    return page.evaluate(
        "([path, method, body]) => import('/js/api.js').then((m) => m.api(path, {method, body: body ?? undefined}))",
        [path, method, body],
    )


def _switch_stem(page, stem: str) -> None:
    src = page.evaluate("document.getElementById('audio').currentSrc")
    page.locator(f"#stems label:has(input[value={stem}])").click()
    wait_for_js(page, "(src) => document.getElementById('audio').currentSrc !== src", arg=src)
    assert page.locator(f"input[name=stem][value={stem}]").is_checked()
    assert stem in page.evaluate("document.getElementById('audio').currentSrc")
    t0 = page.evaluate("document.getElementById('audio').currentTime")
    wait_for_js(page, f"document.getElementById('audio').currentTime > {t0 + 0.5}", timeout=20_000)


# --- (a) -------------------------------------------------------------------------------------------


def test_home_shows_demo_songs_and_one_plays(new_page, melody_server, api_tokens, shot):
    _require(melody_server, api_tokens, "GET", "/api/v1/music/home")
    _wait_demo_audio(melody_server, api_tokens)
    _, page, _ = new_page(MOBILE)
    ui_login(page, melody_server)
    card = page.locator("#home .song-card", has_text=DEMO_EN_TITLE).first
    card.wait_for(timeout=30_000)
    demo_cards = page.locator("#home .song-card", has_text="Melody Studio demo")
    assert demo_cards.count() >= 1
    shot(page, "home-demo-songs")
    card.click()
    page.locator("#player-title", has_text=DEMO_EN_TITLE).wait_for()
    _sees_it_play(page)
    assert f"/catalog/{DEMO_EN}/" in page.evaluate("document.getElementById('audio').currentSrc")
    shot(page, "home-demo-playing")


# --- (b) -------------------------------------------------------------------------------------------


def test_upload_your_copy_then_the_song_plays_with_stems_from_search_and_library(
    new_page, melody_server, api_tokens, shot, tmp_path
):
    _require(melody_server, api_tokens, "POST", f"/api/v1/audio/uploads", body={})
    _, page, _ = new_page(DESKTOP)
    ui_login(page, melody_server)
    page.get_by_label("Search songs").fill("channa mereya")
    row = page.locator(f'#results .track[data-track-id="{CHANNA_MEREYA}"]').first
    row.wait_for()
    row.get_by_role("button", name=f"Play {CHANNA_TITLE}").click()
    page.locator("#player-msg", has_text="No audio").wait_for()
    page.get_by_role("button", name=f"Upload your copy of {CHANNA_TITLE}").click()
    page.get_by_role("heading", name="Upload your copy").wait_for()
    assert CHANNA_TITLE in page.locator("#upload-for").inner_text()
    with page.expect_request(lambda r: r.url.endswith("/api/v1/audio/uploads") and r.method == "POST") as sent:
        page.get_by_label("Song file").set_input_files(str(make_song(tmp_path / "channa.wav", seconds=10.0)))
        page.get_by_role("button", name="Upload and convert").click()
    assert sent.value.post_data_json["track_id"] == CHANNA_MEREYA
    page.locator("#job-card").wait_for(state="visible")
    wait_for_js(
        page,
        "document.querySelector('#job-result:not([hidden])') || document.querySelector('#job-error').textContent",
        timeout=300_000,
        polling=500,
    )
    assert not page.locator("#job-error").text_content()
    shot(page, "copy-converted")

    # From search: the catalog song now plays (the user's copy), with the stem switch.
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Search songs").fill("channa mereya")
    row = page.locator(f'#results .track[data-track-id="{CHANNA_MEREYA}"]').first
    row.wait_for()
    row.get_by_role("button", name=f"Play {CHANNA_TITLE}").click()
    page.locator("#stems").wait_for(state="visible", timeout=30_000)
    for stem in ("original", "instrumental", "vocals"):
        assert page.locator(f"input[name=stem][value={stem}]").is_enabled(), stem
    _sees_it_play(page)
    _switch_stem(page, "instrumental")
    _switch_stem(page, "vocals")
    shot(page, "search-plays-copy-with-stems")
    page.locator("#player-toggle").click()
    wait_for_js(page, "document.getElementById('audio').paused")

    # From the library: the upload is listed, linked to the song, and plays its instrumental.
    page.get_by_role("link", name="Library").click()
    upload = page.locator("#library-uploads .track-upload").first
    upload.wait_for()
    assert "Arijit Singh" in upload.inner_text()
    shot(page, "library-upload-linked")
    upload.get_by_role("button", name="Play", exact=False).first.click()
    page.locator("#stems").wait_for(state="visible")
    wait_for_js(page, "document.querySelector('input[name=stem][value=instrumental]:checked') !== null")
    wait_for_js(page, "/instrumental/.test(document.getElementById('audio').currentSrc)")
    _sees_it_play(page, after=0.0)
    _switch_stem(page, "vocals")
    _switch_stem(page, "original")
    shot(page, "library-plays-copy")


# --- (c), (d), the suggested match, delete ----------------------------------------------------------


def test_library_upload_rename_download_link_and_delete(new_page, melody_server, api_tokens, shot, tmp_path):
    _require(melody_server, api_tokens, "PATCH", "/api/v1/library/uploads/job_x", body={"title": "x"})
    # Tags that match a demo song (same title and artist, length within the matcher's tolerance).
    song = _tagged_song(tmp_path / "morning.wav", title=DEMO_EN_TITLE, artist="Melody Studio", seconds=14.0)
    _, page, _ = new_page(DESKTOP)
    ui_login(page, melody_server)
    page.get_by_role("link", name="Upload").click()
    _upload_in_ui(page, song)

    page.get_by_role("link", name="Library").click()
    row = page.locator("#library-uploads .track-upload").first
    row.wait_for()
    job_id = row.get_attribute("data-job-id")
    assert job_id and job_id.startswith("job_"), job_id

    # The match its tags suggest: "Is this <title> by <artists>?" → Yes links it.
    suggest = row.locator(".suggest")
    suggest.wait_for(timeout=30_000)
    assert DEMO_EN_TITLE in suggest.inner_text() and "Melody Studio" in suggest.inner_text()
    shot(page, "library-suggested-match")
    with page.expect_response(lambda r: r.url.endswith(f"/api/v1/audio/jobs/{job_id}/link")) as linked:
        suggest.get_by_role("button", name="Yes").click()
    assert linked.value.status == 200, linked.value.text()
    assert linked.value.request.post_data_json == {"track_id": DEMO_EN}
    wait_for_js(page, "(id) => !document.querySelector(`.track-upload[data-job-id=\"${id}\"] .suggest`)", arg=job_id)
    items = _api_in_page(page, "/library?limit=100")["items"]
    mine = next(i for i in items if i["track_id"] == job_id)
    assert mine["kind"] == "upload" and mine["upload"]["linked_track_id"] == DEMO_EN

    # (c) Rename inline: PATCH, and the new title shows (and stays after a reload).
    row = page.locator(f'.track-upload[data-job-id="{job_id}"]')
    row.get_by_role("button", name="Rename", exact=False).click()
    field = row.get_by_label("New title")
    field.wait_for()
    field.fill("My morning take")
    # A library refresh landing mid-edit (the link above starts one) keeps the open field and its text.
    page.evaluate("async () => { const m = await import('/js/store.js'); await m.loadLibrary(); }")
    assert field.input_value() == "My morning take"
    with page.expect_response(lambda r: r.url.endswith(f"/api/v1/library/uploads/{job_id}") and r.request.method == "PATCH") as renamed:
        field.press("Enter")
    assert renamed.value.status == 200, renamed.value.text()
    assert renamed.value.request.post_data_json == {"title": "My morning take"}
    row.locator(".track-title", has_text="My morning take").wait_for()
    shot(page, "library-renamed")
    page.reload()
    page.locator(f'.track-upload[data-job-id="{job_id}"] .track-title', has_text="My morning take").wait_for()
    row = page.locator(f'.track-upload[data-job-id="{job_id}"]')

    # (d) Download a stem: the button fetches the signed URL and the browser downloads the file.
    with page.expect_download() as download:
        row.locator("button[data-stem=instrumental][data-format=m4a]").click()
    saved = tmp_path / "instrumental.m4a"
    download.value.save_as(str(saved))
    assert download.value.suggested_filename.endswith(".m4a"), download.value.suggested_filename
    assert "My morning take" in download.value.suggested_filename, download.value.suggested_filename
    data = saved.read_bytes()
    assert len(data) > 1000 and data[4:8] == b"ftyp", data[:16]
    # WAV on request: the button waits while the export is made, then the browser downloads it.
    with page.expect_download(timeout=120_000) as wav_download:
        row.locator("button[data-stem=vocals][data-format=wav]").click()
    assert wav_download.value.suggested_filename == "My morning take (vocals).wav", wav_download.value.suggested_filename
    wav_saved = tmp_path / "vocals.wav"
    wav_download.value.save_as(str(wav_saved))
    wav = wav_saved.read_bytes()
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE", wav[:16]
    # The same from the page's context: the bytes of each stem are audio that ffmpeg decodes.
    for stem in ("instrumental", "vocals", "original"):
        got = page.evaluate(
            """async ([id, stem]) => {
                const m = await import('/js/api.js');
                const d = await m.api(`/audio/jobs/${id}/download/${stem}?format=m4a`);
                const r = await fetch(d.url);
                const bytes = new Uint8Array(await r.arrayBuffer());
                let bin = '';
                for (let i = 0; i < bytes.length; i += 1) bin += String.fromCharCode(bytes[i]);
                return {status: r.status, disposition: r.headers.get('Content-Disposition'), filename: d.filename,
                        format: d.format, b64: btoa(bin)};
            }""",
            [job_id, stem],
        )
        body = base64.b64decode(got["b64"])
        assert got["status"] == 200 and got["format"] == ("wav" if stem == "original" else "m4a"), got["format"]
        assert "attachment" in (got["disposition"] or ""), got["disposition"]
        assert len(body) > 1000, (stem, len(body))
        if stem == "original":
            # The original downloads as it was uploaded (here a WAV), under its own extension.
            assert got["filename"].endswith(".wav") and body[:4] == b"RIFF", (got["filename"], body[:16])
        else:
            assert got["filename"].endswith(f"({stem}).m4a") and body[4:8] == b"ftyp", (got["filename"], body[:16])
        path = tmp_path / f"{stem}-{got['filename']}"
        path.write_bytes(body)
        decoded = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
            capture_output=True, check=True,
        ).stdout
        assert len(decoded) > 8000 * 2 * 5, (stem, len(decoded))  # more than 5 s of sound
    shot(page, "library-downloaded")

    # Delete, with a confirm: Keep changes nothing, Delete removes it (and its job).
    row.get_by_role("button", name="Delete", exact=False).click()
    row.get_by_role("button", name="Keep").click()
    assert row.locator(".confirm").count() == 0
    row.get_by_role("button", name="Delete", exact=False).click()
    confirm = row.locator(".confirm")
    assert "My morning take" in confirm.inner_text()
    shot(page, "library-delete-confirm")
    with page.expect_response(lambda r: r.url.endswith(f"/api/v1/audio/jobs/{job_id}") and r.request.method == "DELETE") as deleted:
        confirm.get_by_role("button", name="Delete").click()
    assert deleted.value.status == 204, deleted.value.text()
    page.locator(f'.track-upload[data-job-id="{job_id}"]').wait_for(state="detached")
    items = _api_in_page(page, "/library?limit=100")["items"]
    assert not any(i["track_id"] == job_id for i in items)


def test_failed_conversion_can_be_removed_from_the_library(new_page, melody_server, api_tokens, shot, tmp_path):
    _require(melody_server, api_tokens, "POST", "/api/v1/audio/jobs/job_x/retry")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF" + b"\x00" * 4 + b"WAVE" + b"not really audio" * 64)
    _, page, _ = new_page(DESKTOP)
    ui_login(page, melody_server)
    page.get_by_role("link", name="Upload").click()
    page.get_by_label("Song file").set_input_files(str(broken))
    page.get_by_role("button", name="Upload and convert").click()
    wait_for_js(page, "document.querySelector('#job-error').textContent", timeout=120_000, polling=500)
    page.get_by_role("link", name="Library").click()
    row = page.locator("#library-failed .job-failed", has_text="broken").first
    row.wait_for()
    assert "Failed" in row.inner_text()
    shot(page, "library-failed-conversion")
    # The file itself was the problem: the server refuses a retry, and the app says why.
    with page.expect_response(lambda r: "/retry" in r.url) as retried:
        row.get_by_role("button", name="Retry", exact=False).click()
    if retried.value.status == 409:
        page.locator("#toasts .toast-error").wait_for()
    job_id = row.get_attribute("data-job-id")
    row.get_by_role("button", name="Remove", exact=False).wait_for()
    wait_for_js(page, "(id) => { const b = document.querySelector(`#library-failed [data-job-id=\"${id}\"] button[aria-label^=Remove]`); return !b || !b.disabled; }", arg=job_id)
    if page.locator(f'#library-failed [data-job-id="{job_id}"]').count():
        with page.expect_response(lambda r: r.url.endswith(f"/api/v1/audio/jobs/{job_id}") and r.request.method == "DELETE") as removed:
            page.locator(f'#library-failed [data-job-id="{job_id}"]').get_by_role("button", name="Remove", exact=False).click()
        assert removed.value.status == 204, removed.value.text()
        page.locator(f'#library-failed [data-job-id="{job_id}"]').wait_for(state="detached")


# --- (f) -------------------------------------------------------------------------------------------


def test_a_lost_refresh_answer_keeps_the_user_signed_in(new_page, melody_server, shot):
    # No service worker: every request of the page goes through Playwright's routing.
    context, page, _ = new_page(DESKTOP, service_workers="block")
    ui_login(page, melody_server)
    first_token = page.evaluate("localStorage.getItem('melody.refresh_token')")
    assert first_token

    sent: list[str] = []
    answers: list[dict] = []

    def on_refresh(route) -> None:
        sent.append(route.request.post_data_json["refresh_token"])
        response = route.fetch()  # the request reaches the server, which rotates the token...
        answers.append({"status": response.status, "body": response.json()})
        if len(sent) == 1:
            route.abort("connectionreset")  # ...and its answer is lost on the way back
        else:
            route.fulfill(response=response)

    expired_once: list[bool] = []

    def on_library(route) -> None:
        # The access token "expired": the API says so once, which makes the app refresh.
        if not expired_once and route.request.headers.get("authorization"):
            expired_once.append(True)
            route.fulfill(
                status=401,
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                body=json.dumps({"error": {"code": "token_expired", "message": "The access token has expired."}}),
            )
        else:
            route.continue_()

    # Let any library fetch the login started finish first (the store shares one fetch in flight),
    # so the one below goes through the routes.
    page.evaluate("import('/js/store.js').then((s) => s.loadLibrary()).then(() => true)")
    context.route("**/api/v1/auth/refresh-token", on_refresh)
    context.route("**/api/v1/library?*", on_library)
    page.evaluate("import('/js/store.js').then((s) => { s.loadLibrary(); return true; })")
    page.get_by_role("link", name="Library").click()
    page.locator("#library-title").wait_for()
    deadline = time.monotonic() + 30
    while len(answers) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # route handlers run while Playwright waits
    # The library answered (after the refresh) and the page says nothing of the session.
    wait_for_js(page, "import('/js/store.js').then((s) => s.library.loaded && !s.library.error)", timeout=30_000)

    assert expired_once, "the app never called GET /library"
    assert len(sent) == 2, sent  # the lost one, then one retry
    assert sent[0] == sent[1] == first_token  # the same refresh token, asked again
    assert answers[0]["status"] == 200 and answers[1]["status"] == 200, answers
    # The server's grace window answered the replay with the same successor pair.
    assert answers[1]["body"]["refresh_token"] == answers[0]["body"]["refresh_token"]
    assert answers[1]["body"]["access_token"] == answers[0]["body"]["access_token"]
    assert page.evaluate("localStorage.getItem('melody.refresh_token')") == answers[0]["body"]["refresh_token"]
    # Still signed in: the library loaded, no login screen, and a protected call works.
    status = page.locator("#library-status").inner_text()
    assert "log in" not in status.lower() and "session" not in status.lower(), status
    assert page.locator("#nav").is_visible()
    assert page.get_by_label("Mobile number").count() == 0
    me = _api_in_page(page, "/users/me")
    assert me and me.get("user_id"), me
    shot(page, "signed-in-after-lost-refresh")

    # The session family is intact: the next rotation is an ordinary one.
    context.unroute("**/api/v1/auth/refresh-token")
    rotated = page.evaluate("import('/js/api.js').then((m) => m.refreshSession()).then(() => localStorage.getItem('melody.refresh_token'))")
    assert rotated and rotated != answers[0]["body"]["refresh_token"]
    assert _api_in_page(page, "/users/me").get("user_id") == me["user_id"]
    assert page.locator("#nav").is_visible()
