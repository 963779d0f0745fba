"""The vocal guide's alignment over a 6-minute song, in headless Chromium, against a baseline.

Two media elements play a 6-minute "instrumental" and "vocals" (generated WAVs, 8 kHz mono so the
files stay small), three ways, in the same browser at the same time: two plain elements started
together and left free-running (no Web Audio: the floor, but no guide level or analyser);
the vocals routed through Web Audio as the guide needs, uncorrected (the real baseline: the
element feeding the AudioContext runs on the context's clock and starts late); and
``web/js/singalong/guide.js``, the vocals slaved to the main element with drift correction.
Every 250 ms the drift (vocals − main − the graph's latency) is read; the table
gives, after the first 2 s of convergence, the median, 95th percentile and max |drift| and the
drift at the end. Target: |drift| ≤ 10 ms (p95) over the whole song.

The song plays in real time by default; ``--rate 2`` halves the wall time (the media timeline
is the same, but the elements' time-stretchers then work at 2× and jitter more).

    .venv/bin/python benchmarks/singalong_guide.py                  # ~6.5 min wall
    .venv/bin/python benchmarks/singalong_guide.py --seconds 40     # quick
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import statistics
import tempfile
import threading
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "web" / "js" / "singalong" / "guide.js"
CHROMIUM = "/usr/bin/chromium"
SR = 8000
MODES = ("baseline", "webaudio", "guide")
NAMES = {
    "baseline": "baseline: two free elements",
    "webaudio": "baseline: vocals via Web Audio",
    "both": "both via one AudioContext",
    "guide": "guide.js (drift-corrected)",
}

HARNESS_JS = """
import { VocalGuide } from './guide.js';
const drifts = [];
window.drifts = drifts;
window.run = async (mode, rate) => {
  const main = new Audio('inst.wav');
  let vocalsTime, lead = () => 0;
  if (mode === 'guide') {
    const guide = new VocalGuide(main);
    guide.setSource('voc.wav');
    guide.setLevel(100);
    vocalsTime = () => guide.vocals.currentTime;
    lead = () => guide.lead();
  } else {
    const vocals = new Audio('voc.wav');
    if (mode === 'webaudio' || mode === 'both') {  // the vocals through Web Audio, uncorrected
      const ctx = new AudioContext({ latencyHint: 'interactive' });
      ctx.createMediaElementSource(vocals).connect(ctx.destination);
      if (mode === 'both') ctx.createMediaElementSource(main).connect(ctx.destination);
    }
    vocalsTime = () => vocals.currentTime;
    main.addEventListener('play', () => vocals.play());
    main.addEventListener('ratechange', () => { vocals.playbackRate = main.playbackRate; });
    vocals.playbackRate = rate;
  }
  main.playbackRate = rate;
  await main.play();
  const timer = setInterval(() => {
    if (!main.paused) drifts.push([main.currentTime, (vocalsTime() - main.currentTime - lead()) * 1000]);
  }, 250);
  await new Promise((resolve) => main.addEventListener('ended', resolve, { once: true }));
  clearInterval(timer);
  window.done = true;
};
"""
HARNESS_HTML = '<!doctype html><meta charset="utf-8"><script type="module" src="harness.js"></script>'


def write_wav(path: Path, signal: np.ndarray) -> None:
    pcm = (np.clip(signal, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SR)
        out.writeframes(pcm.tobytes())


def make_song(folder: Path, seconds: float) -> None:
    t = np.arange(int(seconds * SR)) / SR
    beat = (np.sin(2 * np.pi * 110 * t) * np.exp(-8 * (t % 0.5))) * 0.5
    voice = np.sin(2 * np.pi * 440 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.25 * t)) * 0.4
    write_wav(folder / "inst.wav", beat)
    write_wav(folder / "voc.wav", voice)


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def summary(drifts: list[list[float]], settle_s: float) -> dict[str, float]:
    steady = [abs(d) for t, d in drifts if t >= settle_s]
    if not steady:
        return {"n": 0, "median": float("nan"), "p95": float("nan"), "max": float("nan"), "end": float("nan")}
    ordered = sorted(steady)
    return {
        "n": len(steady),
        "median": statistics.median(steady),
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "max": ordered[-1],
        "end": abs(drifts[-1][1]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=360.0)
    parser.add_argument("--rate", type=float, default=1.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="melody-guide-bench-") as tmp:
        folder = Path(tmp)
        make_song(folder, args.seconds)
        shutil.copy(GUIDE, folder / "guide.js")
        (folder / "harness.js").write_text(HARNESS_JS, encoding="utf-8")
        (folder / "index.html").write_text(HARNESS_HTML, encoding="utf-8")
        server, base = serve(folder)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM, headless=True,
                    args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--disable-gpu"],
                )  # fmt: skip
                pages = {}
                for mode in MODES:
                    page = browser.new_page()
                    page.goto(f"{base}/index.html")
                    page.wait_for_function("typeof window.run === 'function'")
                    page.evaluate(f"() => {{ window.run('{mode}', {args.rate}); }}")
                    pages[mode] = page
                wall = args.seconds / args.rate + 60
                for page in pages.values():
                    page.wait_for_function("window.done === true", timeout=wall * 1000, polling=1000)
                results = {mode: summary(page.evaluate("window.drifts"), 2.0) for mode, page in pages.items()}
                browser.close()
        finally:
            server.shutdown()
    print(f"Vocal guide alignment: {args.seconds / 60:.1f}-minute song at {args.rate:g}x, |vocals − main| in ms "
          "after 2 s (250 ms readings)")
    print(f"{'method':<34}{'n':>6}{'median':>9}{'p95':>9}{'max':>9}{'end':>9}")
    for mode in MODES:
        r = results[mode]
        print(f"{NAMES[mode]:<34}{r['n']:>6}{r['median']:>9.1f}{r['p95']:>9.1f}{r['max']:>9.1f}{r['end']:>9.1f}")
    ok = results["guide"]["p95"] <= 10.0
    print(f"target p95 |drift| <= 10 ms: {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
