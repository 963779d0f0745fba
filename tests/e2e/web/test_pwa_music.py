"""The PWA's music features against ``melody dev``: search, library (and offline), upload → stems → play.

Each test first probes its route; while the route answers the server's generic 404 (it is being
built) the test is skipped with the reason, so the lead can re-run them once it lands.
"""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from .conftest import DESKTOP, MOBILE, ui_login
from .waits import wait_for_js

pytestmark = pytest.mark.e2e

TUM_HI_HO = "तुम ही हो"


def _require(melody_server, api_tokens, method: str, path: str, body: dict | None = None) -> None:
    if melody_server.route_missing(method, path, api_tokens["access_token"], body):
        pytest.skip(f"{method} /api/v1{path.removeprefix('/api/v1')} answers 404: the route is not there yet")


def _search(page, query: str):
    box = page.get_by_label("Search songs")
    box.fill(query)
    return page.locator("#results .track").filter(has=page.locator(".track-title", has_text=TUM_HI_HO)).first


def test_search_latin_query_finds_native_script_and_saves_it(new_page, melody_server, api_tokens, shot):
    _require(melody_server, api_tokens, "GET", "/api/v1/music/search?q=tum")
    _, page, _ = new_page(MOBILE)
    ui_login(page, melody_server)
    row = _search(page, "tum hi ho")
    row.wait_for()
    assert "Tum Hi Ho" in row.inner_text()
    assert "Arijit Singh" in row.inner_text()
    assert "Hindi" in row.inner_text()
    assert "4:22" in row.inner_text()  # duration 262 s
    shot(page, "search-tum-hi-ho-360")
    # filter by language: Tamil hides the Hindi song
    page.get_by_label("Language").select_option("ta")
    wait_for_js(page, "!document.querySelector('#results').textContent.includes('तुम ही हो')")
    shot(page, "search-filter-tamil")
    page.get_by_label("Language").select_option("")
    row = _search(page, "tum hi ho")
    row.wait_for()

    _require(melody_server, api_tokens, "GET", "/api/v1/library")
    save = row.locator(".btn-save")
    save.click()
    wait_for_js(page, "document.querySelector('#results .btn-save[aria-pressed=\"true\"]') !== null")
    shot(page, "saved-from-search")
    # the player: a catalog song without audio says so, and offers Save (already saved)
    row.get_by_role("button", name=f"Play {TUM_HI_HO}").click()
    page.locator("#player").wait_for(state="visible")
    page.locator("#player-title", has_text=TUM_HI_HO).wait_for()
    assert page.locator("#player-save").get_attribute("aria-pressed") == "true"
    page.locator("#player-msg", has_text="No audio").wait_for()
    # at 360 px every player control stays on screen
    for selector in ("#player-toggle", "#player-save", "#player-duration"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, (selector, box)
    shot(page, "player-catalog-song")


def test_library_lists_saved_songs_and_works_offline(new_page, melody_server, api_tokens, shot):
    _require(melody_server, api_tokens, "GET", "/api/v1/library")
    _require(melody_server, api_tokens, "GET", "/api/v1/music/search?q=tum")
    context, page, _ = new_page(MOBILE)
    ui_login(page, melody_server)
    row = _search(page, "tum hi ho")
    row.wait_for()
    row.locator(".btn-save").click()
    wait_for_js(page, "document.querySelector('#results .btn-save[aria-pressed=\"true\"]') !== null")
    page.get_by_role("link", name="Library").click()
    saved = page.locator("#library-saved .track", has_text=TUM_HI_HO)
    saved.wait_for()
    assert "No instrumental yet" in saved.inner_text()
    shot(page, "library-360")
    # once the service worker controls the page, the library answer passes through (and into) its cache
    wait_for_js(page, "navigator.serviceWorker.controller !== null", timeout=20_000)
    page.reload()
    saved.wait_for()
    context.set_offline(True)
    # Chromium's offline emulation may not cover the service worker's own fetches: cut the API too.
    context.route("**/api/**", lambda route: route.abort("internetdisconnected"))
    page.reload()
    page.locator("#library-saved .track", has_text=TUM_HI_HO).wait_for()
    assert page.locator("#offline-banner").is_visible()
    assert "Offline" in page.locator("#library-status").inner_text()
    shot(page, "library-offline")
    context.unroute("**/api/**")
    # Back online the app refreshes its token and the library by itself. Let that finish: a reload
    # that cuts a refresh after the server rotated the token leaves the page with a reused token.
    with page.expect_response(lambda r: "/api/v1/library?" in r.url and r.status == 200):
        context.set_offline(False)
    page.locator("#offline-banner").wait_for(state="hidden")
    # and removing it works back online
    page.locator("#library-saved .track", has_text=TUM_HI_HO).get_by_role("button", name="Remove").click()
    page.locator("#library-saved .track", has_text=TUM_HI_HO).wait_for(state="detached")
    shot(page, "library-removed")


def make_song(path: Path, seconds: float = 20.0, rate: int = 44100) -> Path:
    """A 20-s stereo WAV: a sung-like melody (centre, vibrato, harmonics) over a I–vi–IV–V pad and a kick."""
    np = pytest.importorskip("numpy")
    t = np.arange(int(seconds * rate)) / rate
    chords = [(261.63, 329.63, 392.00), (220.00, 261.63, 329.63), (174.61, 220.00, 261.63), (196.00, 246.94, 293.66)]
    left = np.zeros_like(t)
    right = np.zeros_like(t)
    bar = seconds / 8
    for i in range(8):
        sl = (t >= i * bar) & (t < (i + 1) * bar)
        for k, f in enumerate(chords[i % 4]):
            tone = 0.12 * np.sin(2 * np.pi * f * t[sl]) + 0.04 * np.sin(2 * np.pi * 2 * f * t[sl])
            left[sl] += tone * (1.0 if k != 1 else 0.4)
            right[sl] += tone * (0.4 if k != 1 else 1.0)
    melody = [392, 440, 392, 349, 330, 349, 392, 523, 494, 440, 392, 330, 349, 392, 440, 392]
    note = seconds / (2 * len(melody))
    voice = np.zeros_like(t)
    for i, f in enumerate(melody * 2):
        sl = (t >= i * note) & (t < (i + 1) * note)
        tt = t[sl] - i * note
        vib = f * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * tt))
        phase = 2 * np.pi * np.cumsum(vib) / rate
        env = np.minimum(1, tt / 0.04) * np.minimum(1, (note - tt) / 0.06)
        voice[sl] = env * (0.25 * np.sin(phase) + 0.1 * np.sin(2 * phase) + 0.05 * np.sin(3 * phase))
    beat = 60 / 100
    kick = np.zeros_like(t)
    for i in range(int(seconds / beat)):
        sl = (t >= i * beat) & (t < i * beat + 0.15)
        tt = t[sl] - i * beat
        kick[sl] = 0.3 * np.sin(2 * np.pi * (60 + 60 * np.exp(-tt * 30)) * tt) * np.exp(-tt * 20)
    stereo = np.stack([left + voice + kick, right + voice + kick], axis=1)
    stereo /= max(1e-9, np.abs(stereo).max()) / 0.8
    pcm = (stereo * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def test_upload_convert_and_play_the_instrumental(new_page, melody_server, api_tokens, shot, tmp_path):
    _require(melody_server, api_tokens, "POST", "/api/v1/audio/uploads", body={})
    song = make_song(tmp_path / "my-song.wav")
    _, page, _ = new_page(DESKTOP)
    ui_login(page, melody_server)
    page.get_by_role("link", name="Upload").click()
    page.get_by_label("Song file").set_input_files(str(song))
    shot(page, "upload-chosen")
    page.get_by_role("button", name="Upload and convert").click()
    page.locator("#job-card").wait_for(state="visible")
    wait_for_js(page, "document.querySelector('#upload-progress').value >= 100", timeout=60_000)
    shot(page, "uploaded")
    shot.when(page, "/%/.test(document.querySelector('#job-stage').textContent) && "
                    "!document.querySelector('#job-stage').textContent.startsWith('Uploading')",
              "converting")  # the live stage + percent while it converts
    # live conversion progress until it ends, one way or the other
    wait_for_js(page, 
        "document.querySelector('#job-result:not([hidden])') || document.querySelector('#job-error').textContent",
        timeout=300_000,
        polling=500,
    )
    shot(page, "conversion-finished")
    error = page.locator("#job-error").text_content()
    assert not error, f"conversion failed in the UI: {error}"
    assert "BPM" in page.locator("#job-result").inner_text()
    page.get_by_role("button", name="Play instrumental").click()
    page.locator("#player").wait_for(state="visible")
    page.locator("#stems").wait_for(state="visible")
    assert page.locator("input[name=stem][value=instrumental]").is_checked()
    wait_for_js(page, "document.getElementById('audio').currentTime > 1.0", timeout=30_000)
    src = page.evaluate("document.getElementById('audio').currentSrc")
    shot(page, "playing-instrumental")
    # switch to the original: the position is kept
    before = page.evaluate("document.getElementById('audio').currentTime")
    page.locator("#stems label", has_text="Original").click()
    wait_for_js(page, "(src) => document.getElementById('audio').currentSrc !== src", arg=src)
    wait_for_js(page, f"document.getElementById('audio').currentTime >= {before - 0.5}", timeout=15_000)
    mid = page.evaluate("document.getElementById('audio').currentTime")
    page.locator("#stems label", has_text="Instrumental").click()
    wait_for_js(page, "(src) => document.getElementById('audio').currentSrc === src", arg=src)
    wait_for_js(page, f"document.getElementById('audio').currentTime >= {mid - 0.5}", timeout=15_000)
    t0 = page.evaluate("document.getElementById('audio').currentTime")
    wait_for_js(page, f"document.getElementById('audio').currentTime > {t0 + 0.5}", timeout=15_000)
    # the waveform is seekable from the keyboard
    page.locator("#waveform").focus()
    page.keyboard.press("Home")
    assert page.evaluate("document.getElementById('audio').currentTime") < 2.0
    shot(page, "stem-switched")
    page.set_viewport_size(MOBILE)
    page.wait_for_timeout(300)
    for selector in ("#player-toggle", "#stems", "#player-duration"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= MOBILE["width"], (selector, box)
    shot(page, "player-stems-360")
