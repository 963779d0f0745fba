"""The score view in the PWA (headless Chromium, production CSP): upload a MusicXML file, the list
shows it analysed, the view engraves it with OpenSheetMusicDisplay (loaded by that view only: not
part of the first load), the key timeline and chords sit under the staff, and Play moves the cursor."""

from __future__ import annotations

import pytest

pytest.importorskip("music21")

from tests.unit.scores.builders import C, satb, write  # noqa: E402

from .conftest import DESKTOP, ui_login  # noqa: E402
from .waits import wait_for_js  # noqa: E402

pytestmark = pytest.mark.e2e

OSMD_JS = "performance.getEntriesByType('resource').some(e => e.name.endsWith('/vendor/osmd/opensheetmusicdisplay.min.js'))"
PIECE = [C[n] for n in ("I", "IV", "V", "I", "vi", "ii", "V7", "I")] * 2


def cursor_left(page) -> float:
    return page.evaluate(
        "(() => { const c = document.querySelector('#score-sheet img[id^=cursorImg]'); return c ? parseFloat(c.style.left) : -1; })()"
    )


def test_upload_engrave_and_play_a_score(new_page, melody_server, shot, tmp_path):
    _, page, errors = new_page(viewport=DESKTOP)
    ui_login(page, melody_server)
    assert page.evaluate(OSMD_JS) is False  # OSMD is not part of the first load

    page.locator("#nav").get_by_role("link", name="Scores").click()
    page.get_by_role("heading", name="Scores", level=1).wait_for()
    assert page.evaluate(OSMD_JS) is False  # nor of the list
    path = write(satb(PIECE, bpm=150, title="Browser chorale", composer="Test Composer"), tmp_path / "chorale.musicxml")
    page.locator("#score-file").set_input_files(str(path))
    page.get_by_role("button", name="Upload score").click()
    wait_for_js(page, "document.querySelector('.score-item[data-status=succeeded]') !== null", timeout=120_000)
    shot(page, "list")
    page.locator(".score-item a").first.click()

    wait_for_js(page, "document.querySelector('#score-view').dataset.engraved === 'true'", timeout=60_000)
    assert page.evaluate(OSMD_JS) is True
    assert page.get_by_role("heading", name="Browser chorale", level=1).is_visible()
    # Notes are drawn: OSMD/VexFlow's SVG holds note heads (one per note of every chord).
    heads = page.evaluate("document.querySelectorAll('#score-sheet svg .vf-notehead').length")
    assert heads >= len(PIECE) * 4 - 8, heads
    meta = page.locator(".score-meta").inner_text()
    assert "C major" in meta and "4/4" in meta and "♩ = 150" in meta
    assert page.locator(".score-key").first.inner_text() == "C major"
    assert page.locator(".score-chords li").first.locator(".score-romans").inner_text() == "I IV V I"
    assert "authentic cadence" in page.locator(".score-chords").inner_text()
    shot(page, "engraved", full_page=True)
    png = (shot.folder / "02-engraved.png").read_bytes()
    assert len(png) > 20_000  # a blank sheet compresses to far less

    start = cursor_left(page)
    page.get_by_role("button", name="Play").click()
    wait_for_js(page, "Number(document.querySelector('#score-view').dataset.cursorStep || 0) >= 6", timeout=20_000)
    moved = cursor_left(page)
    assert moved > start >= 0, (start, moved)
    assert page.evaluate("document.querySelector('#score-view').dataset.playing") == "true"
    shot(page, "playing")
    page.get_by_role("button", name="Stop").click()

    # Delete, confirmed; back on the list, the score is gone
    page.get_by_role("button", name="Delete score").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("heading", name="Scores", level=1).wait_for()
    page.get_by_text("No scores yet").wait_for()  # the list, loaded again, is empty
    assert page.locator(".score-item").count() == 0
    assert errors.csp == [], errors.csp
