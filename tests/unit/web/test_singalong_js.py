"""The sing-along panel's pure logic (web/js/singalong/), run in Node: count-in plan, beat interval,
the guide's drift controller, and the position mapping between renditions."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

SINGALONG = Path(__file__).resolve().parents[3] / "web" / "js" / "singalong"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def js(module: str, expression: str):
    """Import ``module`` (a file of web/js/singalong without imports) and print ``expression`` as JSON."""
    code = f"import * as m from {json.dumps((SINGALONG / module).as_uri())}; console.log(JSON.stringify({expression}));"
    out = subprocess.run([NODE, "--input-type=module", "-e", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_count_in_continues_the_songs_beat_grid():
    beats = [0.5 * i + 0.1 for i in range(40)]  # 120 BPM, first beat at 0.1 s
    plan = js("countin.js", f"m.countInPlan({{beats: {beats}, bpm: 120, position: 5.0, count: 4}})")
    assert plan["interval"] == pytest.approx(0.5)
    assert plan["clicks"] == pytest.approx([0, 0.5, 1.0, 1.5])
    assert plan["accents"] == [True, False, False, False]
    # The next beat after 5.0 s is 5.1 s: playback starts 0.1 s before the 5th click's time.
    assert plan["startAfter"] == pytest.approx(2.0 - 0.1)


def test_count_in_without_beats_uses_the_bpm_then_a_default():
    assert js("countin.js", "m.beatInterval([], 3, 90)") == pytest.approx(60 / 90)
    assert js("countin.js", "m.beatInterval(null, 3, undefined)") == 0.5
    # A wild gap in the beats (a missed beat) does not stretch the interval: the median of the gaps.
    beats = [0, 0.5, 1.0, 1.5, 3.0, 3.5, 4.0, 4.5]
    assert js("countin.js", f"m.beatInterval({beats}, 2.0, 120)") == pytest.approx(0.5)


def test_drift_controller_has_hysteresis_and_follows_the_main_rate():
    cases = js(
        "guide.js",
        "[m.correctedRate(0.005, 1, false), m.correctedRate(0.009, 1, false), m.correctedRate(0.005, 1, true),"
        " m.correctedRate(0.001, 1, true), m.correctedRate(-0.02, 0.9, false)]",
    )
    assert cases[0] == [1, False]  # inside the band: untouched
    assert cases[1][0] == pytest.approx(0.97) and cases[1][1] is True  # ahead: slow down
    assert cases[2][0] == pytest.approx(0.97) and cases[2][1] is True  # keep correcting until under 2 ms
    assert cases[3] == [1, False]
    assert cases[4][0] == pytest.approx(0.9 * 1.03) and cases[4][1] is True  # behind: catch up


def test_rendition_position_keeps_the_musical_position_and_keys_shift():
    # 60 s into the original is 60 / 0.9 s into the 90 % rendition; from 90 % to 125 %: × 0.9 / 1.25.
    assert js("timeline.js", "[m.mapPosition(60, 1, 0.9), m.mapPosition(30, 0.9, 1.25), m.mapPosition(10, 1, 1)]") == (
        pytest.approx([60 / 0.9, 30 * 0.9 / 1.25, 10])
    )
    assert js("timeline.js", "[m.isIdentity(0, 1), m.isIdentity(0, 0.9), m.isIdentity(-2, 1)]") == [True, False, False]
    assert js("timeline.js", "[m.shiftTonic('C', -2), m.shiftTonic('A', 3), m.shiftTonic('F#', 6), m.shiftTonic('H', 1)]") == [
        "B♭", "C", "C", None,
    ]  # fmt: skip
