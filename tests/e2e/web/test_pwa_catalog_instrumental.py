"""A catalog song's original and instrumental in the PWA: Play plays its original (a presigned URL
from the track's details), convert it from the player, find it in the library, play it.

The dev stack has no catalog song with audio, so the test gives one audio as an operator would in
AWS: the file goes into the media bucket (a SigV4-signed POST through the stack's own S3 gateway,
which checks it as S3 does) and the catalog's ``audio_assets`` row points at it (the catalog
repository's ``set_audio_asset``, on the stack's PostgreSQL). Everything after that is the user's
path: search → Play (the original) → Make instrumental → progress → Library → Play → instrumental
from the job's (owner-only) ``conversion-status`` → Search → Play: the original, all three offered.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest

from .conftest import MOBILE, ui_login
from .test_pwa_music import _require, make_song
from .waits import wait_for_js

pytestmark = pytest.mark.e2e

SUN_RAHA_HAI = "trk_9d4e756063a8"
TITLE = "Sun Raha Hai"
KAL_HO_NAA_HO = "trk_59777127665d"  # only the original-playback test gives it audio


def _catalog_database_url(server) -> str:
    """The stack's catalog: ``E2E_DATABASE_URL`` when set, else its embedded PostgreSQL (read from postmaster.pid)."""
    if os.environ.get("E2E_DATABASE_URL"):
        return os.environ["E2E_DATABASE_URL"]
    line = server.wait_for(re.compile(r"listening on \S+ \(data (?P<dir>.+)\)$"))
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(Path(line["dir"]) / "postgres")
    if info is None or not info.is_running():
        pytest.skip("the stack's embedded PostgreSQL is not readable from the test")
    return info.get_uri()


def give_track_audio(server, track_id: str, wav: Path) -> None:
    """Upload ``wav`` to the media bucket and register it as the track's original audio."""
    import boto3
    import httpx
    from botocore.config import Config

    bucket = os.environ.get("MELODY_MEDIA_BUCKET", "melody-media")
    key = f"catalog/{track_id}/original-{uuid.uuid4().hex[:8]}.wav"
    s3 = boto3.client(
        "s3",
        endpoint_url=f"{server.base_url}/local-s3",
        region_name=os.environ.get("MELODY_AWS_REGION", "ap-south-1"),
        aws_access_key_id="testing",  # melody dev's fixed fake credentials (moto accepts any)
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    post = s3.generate_presigned_post(
        bucket, key, Fields={"Content-Type": "audio/wav"}, Conditions=[{"Content-Type": "audio/wav"}], ExpiresIn=300
    )
    sent = httpx.post(post["url"], data=post["fields"], files={"file": (wav.name, wav.read_bytes(), "audio/wav")}, timeout=60)
    assert sent.status_code in (200, 201, 204), sent.text

    from melody.core.sql.executor import PsycopgExecutor
    from melody.catalog.postgres.repository import CatalogRepository

    executor = PsycopgExecutor(_catalog_database_url(server))
    try:
        CatalogRepository(executor).set_audio_asset(track_id, key, fmt="wav")
    finally:
        executor.close()


def _current_time(page) -> float:
    return page.evaluate("document.getElementById('audio').currentTime")


def _sees_it_play(page, *, after: float = 0.5) -> None:
    """The audio element's time advances (not just a first frame): it really plays."""
    wait_for_js(page, f"document.getElementById('audio').currentTime > {after}", timeout=30_000)
    t0 = _current_time(page)
    wait_for_js(page, f"document.getElementById('audio').currentTime > {t0 + 0.5}", timeout=15_000)


def test_play_a_catalog_songs_original(new_page, melody_server, api_tokens, shot, tmp_path):
    """Play on a catalog song with audio plays its original from the track's ``audio_url``."""
    _require(melody_server, api_tokens, "GET", f"/api/v1/music/track/{KAL_HO_NAA_HO}")
    give_track_audio(melody_server, KAL_HO_NAA_HO, make_song(tmp_path / "kal-ho-naa-ho.wav", seconds=8.0))

    _, page, _ = new_page(MOBILE)
    ui_login(page, melody_server)
    page.get_by_label("Search songs").fill("kal ho naa ho")
    row = page.locator(f'#results .track[data-track-id="{KAL_HO_NAA_HO}"]')
    row.wait_for()
    with page.expect_response(lambda r: f"/api/v1/music/track/{KAL_HO_NAA_HO}" in r.url and r.status == 200) as answer:
        row.get_by_role("button", name="Play Kal Ho Naa Ho").click()
    details = answer.value.json()
    assert details["has_audio"] is True and "/local-s3/" in details["audio_url"]  # signed for the dev gateway
    page.locator("#player-title", has_text="Kal Ho Naa Ho").wait_for()
    _sees_it_play(page)
    src = page.evaluate("document.getElementById('audio').currentSrc")
    assert "/local-s3/" in src and f"/catalog/{KAL_HO_NAA_HO}/" in src, src
    # Only the original exists: no switch yet; the player offers to make the instrumental, and says so
    # while the original plays.
    assert page.locator("#stems").is_hidden()
    page.get_by_role("button", name="Make instrumental: Kal Ho Naa Ho").wait_for()
    assert "No instrumental" in page.locator("#player-msg").inner_text()
    assert page.locator("#player-toggle").get_attribute("aria-label") == "Pause"
    shot(page, "player-playing-catalog-original")

    # Pause and play again from the player's own button.
    page.locator("#player-toggle").click()
    wait_for_js(page, "document.getElementById('audio').paused")
    page.locator("#player-toggle").click()
    _sees_it_play(page, after=_current_time(page))


def test_convert_a_catalog_song_then_play_its_instrumental_from_the_library(new_page, melody_server, api_tokens, shot, tmp_path):
    _require(melody_server, api_tokens, "GET", "/api/v1/library")
    _require(melody_server, api_tokens, "POST", "/api/v1/audio/convert-to-instrumental", body={"track_id": SUN_RAHA_HAI})
    give_track_audio(melody_server, SUN_RAHA_HAI, make_song(tmp_path / "sun-raha-hai.wav", seconds=12.0))

    _, page, _ = new_page(MOBILE)
    ui_login(page, melody_server)
    page.get_by_label("Search songs").fill("sun raha hai")
    row = page.locator("#results .track").filter(has=page.locator(".track-title", has_text=TITLE)).first
    row.wait_for()
    row.locator(".btn-save").click()
    wait_for_js(page, "document.querySelector('#results .btn-save[aria-pressed=\"true\"]') !== null")

    # The player: a catalog song with audio plays its original, and with no instrumental of this
    # user's yet it offers to make one.
    row.get_by_role("button", name=f"Play {TITLE}").click()
    page.locator("#player-title", has_text=TITLE).wait_for()
    convert = page.get_by_role("button", name=f"Make instrumental: {TITLE}")
    convert.wait_for()
    assert "No instrumental" in page.locator("#player-msg").inner_text()
    _sees_it_play(page)
    assert f"/catalog/{SUN_RAHA_HAI}/" in page.evaluate("document.getElementById('audio').currentSrc")
    shot(page, "player-offers-instrumental")
    convert.focus()
    page.keyboard.press("Enter")  # keyboard works
    shot.when(page, "/Making the instrumental: .*%/.test(document.getElementById('player-msg').textContent)",
              "player-converting")  # the live stage and percent
    # The original plays on while the instrumental is made; then the player moves to it.
    wait_for_js(page, 
        "document.querySelector('input[name=stem][value=instrumental]:checked') !== null"
        " || /could not/.test(document.getElementById('player-msg').textContent)",
        timeout=300_000,
        polling=500,
    )
    assert "could not" not in page.locator("#player-msg").inner_text()
    page.locator("#stems").wait_for(state="visible")
    assert page.locator("input[name=stem][value=instrumental]").is_checked()
    wait_for_js(page, "/instrumental/.test(document.getElementById('audio').currentSrc)")
    # The song is 12 s: when the conversion outlasts it (a loaded machine), the switch lands at its
    # end, and the listener presses Play again, as they would.
    if page.evaluate("document.getElementById('audio').ended"):
        page.locator("#player-toggle").click()
    _sees_it_play(page, after=0.0)
    shot(page, "player-instrumental-after-convert")
    page.locator("#player-toggle").click()  # pause: the library's Play must start it again
    wait_for_js(page, "document.getElementById('audio').paused")

    # The library says so, and its Play fetches the job's stems and plays the instrumental.
    page.get_by_role("link", name="Library").click()
    saved = page.locator("#library-saved .track", has_text=TITLE)
    saved.locator(".badge", has_text="Instrumental ready").wait_for()
    shot(page, "library-instrumental-ready")
    with page.expect_response(lambda r: "/api/v1/audio/conversion-status/job_" in r.url and r.status == 200):
        saved.get_by_role("button", name=f"Play {TITLE}").click()
    page.locator("#stems").wait_for(state="visible")
    assert page.locator("input[name=stem][value=instrumental]").is_checked()
    for stem in ("original", "instrumental", "vocals"):
        assert page.locator(f"input[name=stem][value={stem}]").is_enabled(), stem
    wait_for_js(page, "document.getElementById('audio').currentTime > 1.0", timeout=30_000)
    t0 = _current_time(page)
    wait_for_js(page, f"document.getElementById('audio').currentTime > {t0 + 0.5}", timeout=15_000)
    assert "instrumental" in page.evaluate("document.getElementById('audio').currentSrc")
    analysis = page.locator("#analysis").inner_text()
    assert "BPM" in analysis
    # The meter and the key's confidence (issue 10's fields) are shown too.
    assert re.search(r"\b(4/4|3/4|6/8|12/8)\b", analysis), analysis
    assert re.search(r"\(\d{1,3}%\)", analysis), analysis
    for selector in ("#player-toggle", "#stems", "#player-duration"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= MOBILE["width"], (selector, box)
    shot(page, "library-playing-instrumental")

    # From search, Play starts the original now too, and the switch offers all three.
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Search songs").fill("sun raha hai")
    row = page.locator(f'#results .track[data-track-id="{SUN_RAHA_HAI}"]').first
    row.get_by_role("button", name=f"Play {TITLE}").click()
    wait_for_js(page, 
        "!document.getElementById('stems').hidden"
        " && document.querySelector('input[name=stem][value=original]:checked') !== null"
    )
    for stem in ("original", "instrumental", "vocals"):
        assert page.locator(f"input[name=stem][value={stem}]").is_enabled(), stem
    _sees_it_play(page)
    assert f"/catalog/{SUN_RAHA_HAI}/" in page.evaluate("document.getElementById('audio').currentSrc")
    shot(page, "search-playing-original-with-stems")
