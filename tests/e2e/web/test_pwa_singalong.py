"""Sing along (issue 13) in the PWA against the e2e ``melody dev``, under the production CSP.

A song converted for the signed-in user plays from the library; then
(a) the vocal guide slider changes the output level of the vocal stem, as measured by the guide's
    AnalyserNode (the level meter the panel shows, ``#guide-level[data-level]``), and the vocals
    stay aligned with the instrumental (``data-drift-ms``);
(b) an attached LRC (Devanagari) scrolls in time with the song, a Latin transliteration under each
    line, and the offset is remembered per song;
(c) key −2 and tempo 90 % (keyboard on the sliders) switch to a rendition that plays, and the panel
    shows the rendition's shifted key (skipped while the renditions API is not there);
(d) the A–B loop jumps back to A, drawn on the waveform.
"""

from __future__ import annotations

import random
import time

import httpx
import pytest

from tests.support.songs import song_wav

from .conftest import DESKTOP, PageErrors, ui_login
from .waits import wait_for_js

pytestmark = pytest.mark.e2e

# Lines every 2 s; the song is 30 s long.
HINDI = ["तुम ही हो", "अब तुम ही हो", "ज़िंदगी अब तुम ही हो", "चैन भी", "मेरा दर्द भी", "मेरी आशिक़ी अब तुम ही हो"]
LRC = "[ti:Sing-along test]\n" + "\n".join(f"[00:{2 * i:02d}.00]{HINDI[i % len(HINDI)]}" for i in range(15)) + "\n"
INDEX = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6, "G": 7, "G#": 8,
         "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}  # fmt: skip


@pytest.fixture(scope="module")
def singer(melody_server):
    """A user (phone) with one converted upload: (phone, token, job status)."""
    phone = "9" + "".join(random.choice("0123456789") for _ in range(9))
    tokens = melody_server.login_api(phone)
    logged_in_at = time.monotonic()
    api = httpx.Client(base_url=f"{melody_server.base_url}/api/v1", timeout=30,
                       headers={"Authorization": f"Bearer {tokens['access_token']}"})  # fmt: skip
    if melody_server.route_missing("GET", "/api/v1/lyrics/job_x", tokens["access_token"]):
        pytest.skip("GET /lyrics is not served by this stack")
    body = song_wav(30, bpm=120, seed=13)
    created = api.post("/audio/uploads", json={"filename": "sing.wav", "content_type": "audio/wav", "size_bytes": len(body)})
    assert created.status_code == 201, created.text
    form = created.json()["upload"]
    sent = httpx.post(form["url"], data=form["fields"], files={"file": ("sing.wav", body, "audio/wav")}, timeout=60)
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
    yield phone, tokens["access_token"], status, logged_in_at
    api.close()


@pytest.fixture(scope="module")
def session(browser, melody_server, singer):
    """One signed-in page for the module: the OTP limits allow only a few logins per number and hour."""
    context = browser.new_context(viewport=DESKTOP, base_url=melody_server.base_url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = PageErrors()
    errors.attach(page)
    # The same number asks for a second code: wait out the resend window (MELODY_OTP_RESEND_AFTER_S,
    # 30 s) when the conversion was quicker than that (a cached result).
    time.sleep(max(0.0, singer[3] + 31 - time.monotonic()))
    ui_login(page, melody_server, singer[0])
    yield page, errors
    context.close()
    assert not errors.errors, f"uncaught errors in the page: {errors.errors}"


def play_from_library(page) -> None:
    page.get_by_role("link", name="Library").click()
    row = page.locator("#library-uploads .track-upload").first
    row.wait_for()
    row.get_by_role("button", name="Play", exact=False).first.click()
    page.locator("#singalong").wait_for(state="visible")
    wait_for_js(page, "document.querySelector('input[name=stem][value=instrumental]:checked') !== null")
    wait_for_js(page, "document.getElementById('audio').currentTime > 0.3", timeout=30_000)


def level(page) -> float:
    return float(page.evaluate("document.getElementById('guide-level').dataset.level || '0'"))


def peak_level(page, samples: int = 10) -> float:
    """The loudest of a few readings 100 ms apart (a song has quiet moments)."""
    peak = 0.0
    for _ in range(samples):
        page.wait_for_timeout(100)
        peak = max(peak, level(page))
    return peak


def test_guide_lyrics_and_loop(session, shot, tmp_path):
    page, errors = session
    play_from_library(page)
    vocal_guide(page, shot)
    a_b_loop(page, shot)
    count_in(page)
    attached_lrc(page, shot, tmp_path)
    assert not errors.csp, errors.csp


def vocal_guide(page, shot) -> None:
    guide = page.get_by_label("Vocal guide", exact=True)
    assert guide.evaluate("el => [el.min, el.max, el.value]") == ["0", "100", "0"]
    page.wait_for_timeout(500)
    assert level(page) == 0.0  # no guide: the vocal path is silent
    guide.focus()
    page.keyboard.press("End")  # 100 %, from the keyboard
    wait_for_js(page, "Number(document.getElementById('guide-level').dataset.level) > 0.01", timeout=15_000)
    loud = peak_level(page)
    shot(page, "guide-100")
    # Drift of the vocals against the player's clock once they settle (the guide corrects it). How
    # soon they settle depends on the machine (a loaded CI runner took more than 3 s once: readings
    # 17.5, 16.3, 12.5, 7.4, 4.2, 2.9 ms, still converging), so wait for it: the median of the last
    # 2 s of readings (one reading jitters by a render quantum) must come to 10 ms or less.
    readings: list[float] = []
    drift = float("inf")
    for _ in range(200):  # up to ~20 s
        readings.append(page.evaluate("Math.abs(Number(document.getElementById('singalong').dataset.driftMs))"))
        window = readings[-20:]
        drift = sorted(window)[len(window) // 2]
        if len(readings) >= 20 and drift <= 10.0:
            break
        page.wait_for_timeout(100)
    max_drift = page.evaluate("Number(document.getElementById('singalong').dataset.maxDriftMs)")
    print(f"vocal guide drift: median {drift:.1f} ms over 2 s after {len(readings) / 10:.1f} s, "
          f"max since converged {max_drift:.1f} ms")
    assert drift <= 10.0, readings[-20:]
    for _ in range(10):
        page.keyboard.press("ArrowLeft")  # 50 %
    wait_for_js(page, "document.getElementById('singalong').dataset.guide === '50'")
    page.wait_for_timeout(600)
    half = peak_level(page)
    assert 0 < half < loud, (half, loud)
    page.keyboard.press("Home")
    wait_for_js(page, "Number(document.getElementById('guide-level').dataset.level) === 0", timeout=5_000)
    assert page.evaluate("document.getElementById('audio').paused") is False


def count_in(page) -> None:
    """With Count-in on, Play clicks the beats first (the audio waits), then plays."""
    page.get_by_label("Count-in").check()
    toggle = page.locator("#player-toggle")
    if not page.evaluate("document.getElementById('audio').paused"):
        toggle.click()
    wait_for_js(page, "document.getElementById('audio').paused")
    toggle.click()
    wait_for_js(page, "document.getElementById('singalong').dataset.counting === '2'", timeout=5_000, polling=20)
    assert page.evaluate("document.getElementById('audio').paused")  # still counting in
    wait_for_js(page, "!document.getElementById('audio').paused && !('counting' in document.getElementById('singalong').dataset)",
                timeout=10_000)  # fmt: skip
    page.get_by_label("Count-in").uncheck()


def attached_lrc(page, shot, tmp_path) -> None:
    page.locator("#waveform").focus()
    page.keyboard.press("Home")  # from the start: the lines are 2 s apart over 30 s
    if page.evaluate("document.getElementById('audio').paused"):
        page.get_by_role("button", name="Play", exact=True).click()
    lrc = tmp_path / "song.lrc"
    lrc.write_text(LRC, encoding="utf-8")
    with page.expect_response(lambda r: "/api/v1/lyrics/" in r.url and r.request.method == "PUT") as put:
        page.locator("#lyrics-file").set_input_files(str(lrc))
    assert put.value.status == 200
    page.locator("#lyrics .lyric").nth(14).wait_for(state="attached")
    first = page.locator("#lyrics .lyric").first
    assert first.locator(".lyric-text").inner_text() == "तुम ही हो"
    latin = first.locator(".lyric-latin").inner_text()
    assert latin == "tum hee ho" and first.locator(".lyric-latin").is_visible()
    # The highlighted line follows the audio: line i covers [2i, 2i + 2) s.
    seen = set()
    for _ in range(3):
        wait_for_js(page, "document.querySelector('#lyrics .lyric.is-current') !== null", timeout=10_000)
        now, current = page.evaluate(
            "[document.getElementById('audio').currentTime, Number(document.getElementById('lyrics-lines').dataset.current)]"
        )
        assert abs(current - int(now // 2)) <= 1, (now, current)
        seen.add(current)
        page.wait_for_timeout(2100)
    assert len(seen) >= 2, seen  # it moved on
    # It scrolled: the current line is inside the list's visible box.
    inside = page.evaluate(
        "(() => { const l = document.getElementById('lyrics-lines'); const c = l.querySelector('.is-current');"
        " const a = l.getBoundingClientRect(), b = c.getBoundingClientRect(); return b.top >= a.top - 1 && b.bottom <= a.bottom + 1; })()"
    )
    assert inside
    shot(page, "lyrics-in-time")
    # The offset: +1 s shows lines later, remembered for this song after a reload.
    for _ in range(4):
        page.get_by_role("button", name="Show lyrics later").click()
    assert page.locator("#lyrics-offset").inner_text() == "+1.00 s"
    page.reload()
    page.locator("#nav").wait_for(state="visible")  # the session survives a reload
    play_from_library(page)
    wait_for_js(page, "document.getElementById('lyrics-offset').dataset.ms === '1000'")


def test_key_and_tempo_play_a_rendition_with_the_shifted_key(session, melody_server, singer, shot):
    _, token, status, _ = singer
    job_id = status["job_id"]
    if melody_server.route_missing("POST", f"/api/v1/audio/jobs/{job_id}/renditions", token, body={"semitones": 0, "tempo": 1}):
        pytest.skip("POST /audio/jobs/{job_id}/renditions is not there yet (issue 13 part 1)")
    page, errors = session
    page.reload()  # a fresh player, whatever the tests before left playing
    page.locator("#nav").wait_for(state="visible")
    play_from_library(page)
    src = page.evaluate("document.getElementById('audio').currentSrc")
    key = page.get_by_label("Key", exact=True)
    key.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    tempo = page.get_by_label("Tempo", exact=True)
    tempo.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.locator("#sing-key-value").inner_text() == "−2" and page.locator("#sing-tempo-value").inner_text() == "90 %"
    # The rendition is made by the local pipeline (or was cached): playing it, or a failure said.
    try:
        wait_for_js(
            page,
            "(() => { const d = document.getElementById('singalong').dataset;"
            " return d.tempo === '0.9' || d.rendition === 'failed'; })()",
            timeout=300_000,
            polling=500,
        )
    except TimeoutError:
        shot(page, "rendition-timeout")
        state = page.evaluate(
            "(() => { const d = document.getElementById('singalong'); return {data: {...d.dataset},"
            " status: document.getElementById('sing-status').textContent, keyDisabled: document.getElementById('sing-key').disabled}; })()"
        )
        raise AssertionError(f"no rendition after 300 s: {state}") from None
    said = page.locator("#sing-status").inner_text()
    assert page.locator("#singalong").get_attribute("data-rendition") != "failed", said
    root = page.locator("#singalong")
    assert root.get_attribute("data-semitones") == "-2"
    wait_for_js(page, "(src) => document.getElementById('audio').currentSrc !== src", arg=src)
    t0 = page.evaluate("document.getElementById('audio').currentTime")
    wait_for_js(page, f"document.getElementById('audio').currentTime > {t0 + 0.5}", timeout=30_000)
    original = (status.get("analysis") or (status.get("results") or {}).get("analysis") or {}).get("key") or {}
    shown = page.locator("#sing-key-name").get_attribute("data-tonic")
    if original.get("tonic") in INDEX:
        pitch_class = INDEX.get((shown or "").replace("♭", "b").replace("♯", "#"))  # Bb or B♭, A# or B♭
        assert pitch_class == (INDEX[original["tonic"]] - 2) % 12, (original, shown)
    assert "(−2)" in page.locator("#sing-key-name").inner_text()
    shot(page, "rendition-playing")
    assert not errors.csp, errors.csp


def a_b_loop(page, shot) -> None:
    wait_for_js(page, "document.getElementById('audio').currentTime > 1.0", timeout=30_000)
    page.get_by_role("button", name="Set loop start (A) here").click()
    a = float(page.evaluate("document.getElementById('singalong').dataset.loop.split('-')[0]"))
    wait_for_js(page, f"document.getElementById('audio').currentTime > {a + 1.5}", timeout=30_000)
    page.get_by_role("button", name="Set loop end (B) here").click()
    b = float(page.evaluate("document.getElementById('singalong').dataset.loop.split('-')[1]"))
    assert b > a + 1
    assert page.locator("#waveform").get_attribute("data-region")
    # Playback passes B and comes back to A.
    wait_for_js(page, f"document.getElementById('audio').currentTime < {b - 0.5}", timeout=15_000)
    shot(page, "a-b-loop")
    page.get_by_role("button", name="Clear loop").click()
    assert page.locator("#waveform").get_attribute("data-region") == ""
