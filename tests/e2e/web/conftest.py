"""Fixtures for the PWA's browser tests.

``melody_server`` is the end-to-end suite's one ``melody dev`` (``tests/e2e/conftest.py``), whose
stderr carries the console SMS sender's ``otp phone=+91XXXXXXXXXX code=123456`` lines. ``browser`` is Debian's Chromium driven by Playwright
(Playwright's own browser download is not used). Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.stack import DevStack
from .waits import wait_for_js

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
MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = pytest.mark.e2e


def random_phone() -> str:
    return "9" + "".join(random.choice("0123456789") for _ in range(9))


@pytest.fixture(scope="session")
def api_tokens(melody_server: DevStack) -> dict:
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

    def when(self, page, condition_js: str, step: str, *, timeout_ms: int = 10_000) -> Path | None:
        """A screenshot of a passing state (live progress) if it shows within ``timeout_ms``; it may be
        too quick to catch, and that is no failure."""
        try:
            wait_for_js(page, condition_js, timeout=timeout_ms, polling=100)
        except Exception:  # noqa: BLE001 - a screenshot only
            return None
        return self(page, step)


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
def new_page(browser, melody_server: DevStack):
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


def ui_login(page, server: DevStack, phone: str | None = None, shot: Shots | None = None) -> str:
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
