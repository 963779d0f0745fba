"""Lighthouse benchmark of the PWA served by ``melody dev``.

    (cd benchmarks/lighthouse && npm ci)        # once: the pinned Lighthouse CLI
    .venv/bin/python benchmarks/lighthouse.py   # starts melody dev, audits /, prints PASS/FAIL

Prints the performance, accessibility and best-practices scores (mobile and desktop presets)
against the target of 90, an installability check (web app manifest + service worker, asked of
Chromium itself through the DevTools protocol when Playwright is installed, else checked
statically), and the first-load JavaScript size against the 100 KB (compressed) budget.
Always exits 0: it is a report, not a gate. ``--json PATH`` writes the figures.

Environment: ``CHROME_PATH`` (default /usr/bin/chromium); Lighthouse 12+ no longer has a PWA
category, hence the separate installability check.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.stack import DevStack  # noqa: E402

LH_DIR = Path(__file__).resolve().parent / "lighthouse"
WEB = ROOT / "web"
TARGET = 90
JS_BUDGET = 100 * 1024
CATEGORIES = ("performance", "accessibility", "best-practices")
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def start_server(data_dir: Path) -> DevStack:
    stack = DevStack(data_dir, env={"MELODY_WEB_DIR": str(WEB)})
    stack.wait_ready(timeout=240)
    return stack


def lighthouse_bin() -> Path | None:
    candidate = LH_DIR / "node_modules" / ".bin" / "lighthouse"
    return candidate if candidate.exists() else None


def run_lighthouse(url: str, preset: str, out_dir: Path) -> dict:
    binary = lighthouse_bin()
    if binary is None:
        raise RuntimeError(f"Lighthouse is not installed: run `npm ci` in {LH_DIR}")
    report = out_dir / f"lighthouse-{preset}.json"
    command = [
        str(binary),
        url,
        "--output=json",
        f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={' '.join(CHROME_FLAGS)}",
        "--quiet",
        "--max-wait-for-load=60000",
    ]
    if preset == "desktop":
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not report.exists():
        raise RuntimeError(f"lighthouse failed ({result.returncode}): {result.stderr[-2000:]}")
    data = json.loads(report.read_text(encoding="utf-8"))
    scores = {name: round((data["categories"][name]["score"] or 0) * 100) for name in CATEGORIES}
    failing = []
    for name in CATEGORIES:
        for ref in data["categories"][name]["auditRefs"]:
            audit = data["audits"].get(ref["id"], {})
            if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 0.9:
                failing.append(f"{name}: {audit.get('title', ref['id'])} ({audit.get('displayValue', audit['score'])})")
    metrics = {
        key: data["audits"][key].get("displayValue")
        for key in ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift")
        if key in data["audits"]
    }
    return {"scores": scores, "metrics": metrics, "failing": failing, "report": str(report)}


def first_load_js() -> dict:
    """Bytes of every JS module the shell loads at start (the import graph of js/app.js), gzip -9."""
    seen: list[Path] = []
    queue = [WEB / "js" / "app.js"]
    while queue:
        path = queue.pop()
        if path in seen or not path.exists():
            continue
        seen.append(path)
        for spec in re.findall(r"""(?:import|from)\s*['"](\.{1,2}/[^'"]+)['"]""", path.read_text(encoding="utf-8")):
            queue.append((path.parent / spec).resolve())
    raw = b"".join(p.read_bytes() for p in seen)
    gz = sum(len(gzip.compress(p.read_bytes(), 9)) for p in seen)
    return {"files": len(seen), "raw_bytes": len(raw), "gzip_bytes": gz}


def installability(base: str) -> dict:
    """Ask Chromium (DevTools Page.getInstallabilityErrors) after the service worker takes control."""
    checks: dict = {"method": "static", "errors": []}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is not None:
        try:
            # a persistent profile: Chromium never offers to install from an incognito context
            with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="melody-profile-", ignore_cleanup_errors=True) as profile:
                context = pw.chromium.launch_persistent_context(
                    profile,
                    executable_path=os.environ.get("CHROME_PATH", "/usr/bin/chromium"),
                    args=[flag for flag in CHROME_FLAGS if not flag.startswith("--headless")],
                    headless=True,
                )
                page = context.new_page()
                page.goto(base + "/")
                # Polled from outside the page: the PWA's CSP forbids wait_for_function's in-page eval.
                deadline = time.monotonic() + 30
                while not page.evaluate("navigator.serviceWorker && navigator.serviceWorker.controller !== null"):
                    if time.monotonic() > deadline:
                        raise TimeoutError("no service worker took control within 30 s")
                    page.wait_for_timeout(100)
                cdp = context.new_cdp_session(page)
                errors = cdp.send("Page.getInstallabilityErrors").get("installabilityErrors", [])
                manifest = cdp.send("Page.getAppManifest")
                context.close()
            checks = {
                "method": "chromium-devtools",
                "errors": [e.get("errorId") for e in errors],
                "service_worker_controls_page": True,
                "manifest_url": manifest.get("url"),
            }
        except Exception as exc:  # noqa: BLE001 - report and fall back
            checks["errors"].append(f"browser check failed: {exc}")
            checks["method"] = "static (browser check failed)"
    if checks["method"].startswith("static"):
        manifest = json.loads((WEB / "manifest.webmanifest").read_text(encoding="utf-8"))
        icons = {(i.get("sizes"), i.get("purpose", "any")) for i in manifest.get("icons", [])}
        required = [
            ("name", bool(manifest.get("name"))),
            ("start_url", bool(manifest.get("start_url"))),
            ("display standalone", manifest.get("display") in ("standalone", "fullscreen", "minimal-ui")),
            ("icon 192", ("192x192", "any") in icons),
            ("icon 512", ("512x512", "any") in icons),
            ("maskable icon", any(p == "maskable" for _, p in icons)),
            ("theme_color", bool(manifest.get("theme_color"))),
            ("service worker with a fetch handler", "addEventListener('fetch'" in (WEB / "sw.js").read_text(encoding="utf-8")),
        ]
        checks["errors"] += [name for name, ok in required if not ok]
    checks["pass"] = not checks["errors"]
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="audit this running server instead of starting melody dev")
    parser.add_argument("--presets", default="mobile,desktop", help="comma list of mobile,desktop")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--out-dir", help="where to keep the Lighthouse reports (default: a temp folder)")
    args = parser.parse_args()

    results: dict = {"target": TARGET}
    process = None
    tmp = tempfile.TemporaryDirectory(prefix="melody-lh-")
    out_dir = Path(args.out_dir) if args.out_dir else Path(tmp.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        if args.url:
            base = args.url.rstrip("/")
        else:
            print("starting melody dev …", flush=True)
            process = start_server(Path(tmp.name) / "data")
            base = process.base_url
        for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
            print(f"lighthouse ({preset}) on {base}/ …", flush=True)
            try:
                results[preset] = run_lighthouse(base + "/", preset, out_dir)
            except Exception as exc:  # noqa: BLE001 - a report, not a gate
                results[preset] = {"error": str(exc)}
        results["installable"] = installability(base)
    finally:
        if process is not None:
            process.stop()
    results["first_load_js"] = first_load_js()

    print()
    print(f"{'preset':<9} {'category':<16} {'score':>5}  target  result")
    all_ok = True
    for preset in ("mobile", "desktop"):
        entry = results.get(preset)
        if not entry:
            continue
        if "error" in entry:
            print(f"{preset:<9} ERROR: {entry['error'][:300]}")
            all_ok = False
            continue
        for name, score in entry["scores"].items():
            ok = score >= TARGET
            all_ok &= ok
            print(f"{preset:<9} {name:<16} {score:>5}  {TARGET:>6}  {'PASS' if ok else 'FAIL'}")
        print(f"{'':<9} metrics: " + ", ".join(f"{k} {v}" for k, v in entry["metrics"].items()))
        for line in entry["failing"]:
            print(f"{'':<9} below 0.9: {line}")
    inst = results["installable"]
    print(f"installable ({inst['method']}): {'PASS' if inst['pass'] else 'FAIL'}"
          + (f" — {', '.join(map(str, inst['errors']))}" if inst["errors"] else ""))
    all_ok &= inst["pass"]
    js = results["first_load_js"]
    js_ok = js["gzip_bytes"] <= JS_BUDGET
    all_ok &= js_ok
    print(f"first-load JS: {js['files']} modules, {js['raw_bytes'] / 1024:.1f} KB raw, "
          f"{js['gzip_bytes'] / 1024:.1f} KB gzip (budget 100 KB): {'PASS' if js_ok else 'FAIL'}")
    print(f"overall: {'PASS' if all_ok else 'FAIL'}")
    results["pass"] = all_ok
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    if args.out_dir is None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("CHROME_PATH", "/usr/bin/chromium")
    sys.exit(main())
