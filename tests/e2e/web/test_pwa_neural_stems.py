"""Issue 14 in the PWA: when a job's results carry drums, bass and other (the neural engine), the
player's stem switch offers them and plays each; with two stems it shows only original,
instrumental and vocals. The results are handed to the player as the status route gives them
(``drums_url``... in ``results``); the URLs are the demo songs' signed audio, so each stem is real,
distinct audio served by the stack's gateway."""

from __future__ import annotations

import pytest

from .conftest import MOBILE, ui_login
from .test_pwa_listening_loop import DEMO_IDS, _wait_demo_audio
from .waits import wait_for_js

pytestmark = pytest.mark.e2e

LOAD = """([track, job]) => import('/js/player.js').then((m) => m.player().load(track, job, {stem: 'original'}))"""


def _visible_stems(page) -> list[str]:
    return page.evaluate(
        "[...document.querySelectorAll('#stems input[name=stem]')].filter((i) => !i.closest('label').hidden).map((i) => i.value)"
    )


def _switch_stem(page, stem: str, url: str) -> None:
    """Pick ``stem``: the player moves to its URL and plays on."""
    page.locator(f"#stems label:has(input[value={stem}])").click()
    wait_for_js(page, "(url) => document.getElementById('audio').getAttribute('src') === url", arg=url)
    assert page.locator(f"input[name=stem][value={stem}]").is_checked()
    t0 = page.evaluate("document.getElementById('audio').currentTime")
    wait_for_js(page, f"document.getElementById('audio').currentTime > {t0 + 0.5}", timeout=20_000)


def test_the_stem_switch_offers_the_extra_stems_when_the_job_has_them(new_page, melody_server, api_tokens, shot):
    urls = [_wait_demo_audio(melody_server, api_tokens, track_id)["audio_url"] for track_id in DEMO_IDS]
    _, page, _ = new_page(MOBILE)
    ui_login(page, melody_server)
    results = {"original_url": urls[0], "instrumental_url": urls[1], "vocals_url": urls[2],
               "drums_url": urls[1], "bass_url": urls[2], "other_url": urls[0],
               "stems": ["instrumental", "vocals", "drums", "bass", "other"]}
    page.evaluate(LOAD, [{"title": "Neural song"}, {"job_id": "job_neural", "status": "succeeded", "results": results}])
    page.locator("#stems").wait_for(state="visible")
    assert _visible_stems(page) == ["original", "instrumental", "vocals", "drums", "bass", "other"]
    shot(page, "neural-stems")
    for stem in ("drums", "bass", "other"):
        _switch_stem(page, stem, results[f"{stem}_url"])

    two = {key: value for key, value in results.items() if key not in ("drums_url", "bass_url", "other_url", "stems")}
    page.evaluate(LOAD, [{"title": "DSP song"}, {"job_id": "job_dsp", "status": "succeeded", "results": two}])
    page.locator("#player-title", has_text="DSP song").wait_for()
    page.locator("#stems").wait_for(state="visible")
    assert _visible_stems(page) == ["original", "instrumental", "vocals"]
