"""Fixtures for the PWA's browser tests.

``melody_server`` starts ``melody dev`` on a free port with a temporary data folder, waits for its
``listening on`` line and keeps reading its stderr, where the console SMS sender prints
``otp phone=+91XXXXXXXXXX code=123456``. ``browser`` is Debian's Chromium driven by Playwright
(Playwright's own browser download is not used). Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
WEB_DIR = REPO / "web"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("MELODY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
OTP_LINE = re.compile(r"otp phone=(\+\d+) code=(\d{4,8})")
MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MelodyServer:
    base_url: str
    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def _pump(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            with self.cond:
                self.lines.append(raw.rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, pattern: re.Pattern[str], *, since: int = 0, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[since:]:
                    match = pattern.search(line)
                    if match:
                        return match
                if self.process.poll() is not None:
                    raise RuntimeError("melody dev exited:\n" + "\n".join(self.lines[-40:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no line matching {pattern.pattern!r} on melody dev's stderr")
                self.cond.wait(left)

    def mark(self) -> int:
        with self.cond:
            return len(self.lines)

    def otp_code(self, phone_e164: str, *, since: int, timeout: float = 20.0) -> str:
        pattern = re.compile(rf"otp phone={re.escape(phone_e164)} code=(\d{{4,8}})")
        return self.wait_for(pattern, since=since, timeout=timeout).group(1)

    # --- plain HTTP, for set-up and for probing which routes exist ---------------------------
    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict | None]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw)
            except ValueError:
                return err.code, None

    def login_api(self, phone_national: str) -> dict:
        since = self.mark()
        status, body = self.request("POST", "/api/v1/auth/request-otp", {"phone_number": phone_national, "country_code": "+91"})
        assert status == 202, body
        code = self.otp_code("+91" + phone_national, since=since)
        status, tokens = self.request("POST", "/api/v1/auth/verify-otp", {"challenge_id": body["challenge_id"], "code": code})
        assert status == 200, tokens
        return tokens

    def route_missing(self, method: str, path: str, token: str | None, body: dict | None = None) -> bool:
        """True when the server has no such route yet (its generic 404/405), not a resource 404."""
        status, payload = self.request(method, path, body, token)
        if status == 405:
            return True
        if status != 404:
            return False
        message = ((payload or {}).get("error") or {}).get("message", "")
        return message.strip().lower() == "not found"


def random_phone() -> str:
    return "9" + "".join(random.choice("0123456789") for _ in range(9))


@pytest.fixture(scope="session")
def melody_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MelodyServer]:
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("melody-web-e2e")
    env = {
        **os.environ,
        "MELODY_WEB_DIR": str(WEB_DIR),
        "MELODY_SMS_SENDER": "console",
        # Many logins from 127.0.0.1 in a few minutes: lift the per-IP OTP limits for this run only.
        "MELODY_OTP_PER_IP_PER_MINUTE": "1000",
        "MELODY_OTP_PER_IP_PER_HOUR": "1000",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "melody.cli", "dev", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    server = MelodyServer(base_url=f"http://127.0.0.1:{port}", process=process)
    threading.Thread(target=server._pump, daemon=True).start()
    try:
        server.wait_for(re.compile(r"listening on"), timeout=float(os.environ.get("MELODY_DEV_START_TIMEOUT", "180")))
        # the line comes when the socket is bound; wait until the app answers
        deadline = time.monotonic() + 60
        while True:
            try:
                server.request("GET", "/api/v1/system/health")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.25)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def api_tokens(melody_server: MelodyServer) -> dict:
    """A logged-in user through the API, to probe which routes exist."""
    return melody_server.login_api(random_phone())


@pytest.fixture(scope="package")
def browser():
    # Package scope: Playwright's sync API keeps an event loop running on the main thread while
    # it lives, which breaks asyncio.run() in any test collected after this package.
    if os.environ.get("CI"):  # CI installs both: a missing browser must fail, not skip
        from playwright import sync_api
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI"):
            raise RuntimeError(f"Chromium not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Shots:
    """Numbered screenshots for one test: test-artifacts/screenshots/<test>/<nn>-<step>.png."""

    def __init__(self, name: str) -> None:
        self.folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page, step: str, *, full_page: bool = False) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture()
def shot(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


@dataclass
class PageErrors:
    errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

        def on_console(msg) -> None:
            text = msg.text
            if "Content Security Policy" in text or "Refused to" in text:
                self.csp.append(text)

        page.on("console", on_console)


@pytest.fixture()
def new_page(browser, melody_server: MelodyServer):
    """Factory: new_page(viewport=MOBILE|DESKTOP, **context options) → (context, page, errors)."""
    contexts = []
    all_errors: list[PageErrors] = []

    def make(viewport: dict = MOBILE, **options):
        context = browser.new_context(viewport=viewport, base_url=melody_server.base_url, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors = PageErrors()
        errors.attach(page)
        all_errors.append(errors)
        return context, page, errors

    yield make
    for context in contexts:
        context.close()
    uncaught = [e for errs in all_errors for e in errs.errors]
    assert not uncaught, f"uncaught errors in the page: {uncaught}"


def ui_login(page, server: MelodyServer, phone: str | None = None, shot: Shots | None = None) -> str:
    """Log in through the UI with the code printed by the console sender; returns the phone."""
    phone = phone or random_phone()
    page.goto("/")
    page.get_by_label("Mobile number").fill(phone)
    if shot:
        shot(page, "login-number")
    since = server.mark()
    page.get_by_role("button", name="Send code").click()
    code = server.otp_code("+91" + phone, since=since)
    code_input = page.get_by_label("Code", exact=True)
    code_input.wait_for()
    if shot:
        shot(page, "login-code")
    code_input.fill(code)  # six digits submit the form by themselves
    page.locator("#nav").wait_for(state="visible")
    return phone
