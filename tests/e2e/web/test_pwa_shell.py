"""The PWA's shell: login, session, logout, installability, offline shell, CSP and accessibility basics.

These need only the auth routes. Run: ``.venv/bin/pytest tests/e2e/web -v``.
"""

from __future__ import annotations

import json
import re
import struct

import pytest

from .conftest import DESKTOP, MOBILE, REPO, random_phone, ui_login
from .waits import wait_for_js

pytestmark = pytest.mark.e2e

STRICT_CSP = (
    "default-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob: https:; "
    "connect-src 'self' https:; style-src 'self'"
)


def test_login_with_console_code_then_logout(new_page, melody_server, shot):
    context, page, _ = new_page(MOBILE)
    page.goto("/")
    page.get_by_role("heading", name="Log in").wait_for()
    assert page.get_by_label("Country").input_value() == "+91"
    ui_login(page, melody_server, shot=shot)
    shot(page, "logged-in-mobile")
    # stays logged in across a reload (refresh token in localStorage, access token re-issued)
    page.reload()
    page.locator("#nav").wait_for(state="visible")
    assert page.get_by_role("link", name="Search").is_visible()
    # At 360 px, Log out is in the "More options" menu.
    page.get_by_role("button", name="More options").click()
    page.get_by_role("menuitem", name="Log out").click()
    page.get_by_role("heading", name="Log in").wait_for()
    shot(page, "logged-out")
    assert page.evaluate("localStorage.getItem('melody.refresh_token')") is None


def test_code_input_is_a_one_time_code_field_and_wrong_code_is_explained(new_page, melody_server, shot):
    _, page, _ = new_page(DESKTOP)
    page.goto("/")
    phone = random_phone()
    page.get_by_label("Mobile number").fill(phone)
    since = melody_server.mark()
    page.get_by_role("button", name="Send code").click()
    real = melody_server.otp_code("+91" + phone, since=since)
    code = page.get_by_label("Code", exact=True)
    code.wait_for()
    assert code.get_attribute("autocomplete") == "one-time-code"
    assert code.get_attribute("inputmode") == "numeric"
    wrong = "000000" if real != "000000" else "111111"
    code.fill(wrong)
    alert = page.locator("#login-msg")
    alert.filter(has_text="attempt").wait_for()
    shot(page, "wrong-code")
    assert page.locator("#nav").is_hidden()
    code.fill(real)
    page.locator("#nav").wait_for(state="visible")
    shot(page, "logged-in-desktop")


def test_invalid_number_is_refused_in_the_form(new_page):
    _, page, _ = new_page(MOBILE)
    page.goto("/")
    page.get_by_label("Mobile number").fill("12ab")
    page.get_by_role("button", name="Send code").click()
    page.locator("#login-msg").filter(has_text="digits").wait_for()
    assert page.get_by_label("Mobile number").get_attribute("aria-invalid") == "true"


def test_parallel_401s_refresh_once(new_page, melody_server):
    """Two requests meeting token_expired at once share one refresh (no reuse detection)."""
    _, page, _ = new_page(DESKTOP)
    ui_login(page, melody_server)
    refreshes = []
    page.on("request", lambda r: refreshes.append(r.url) if r.url.endswith("/auth/refresh-token") else None)
    expired = {"left": 2}

    def expire(route):
        if expired["left"] > 0:
            expired["left"] -= 1
            route.fulfill(status=401, content_type="application/json",
                          body=json.dumps({"error": {"code": "token_expired", "message": "The access token has expired.", "details": None}}))
        else:
            route.continue_()

    page.route("**/api/v1/users/me", expire)
    result = page.evaluate("""async () => {
        const { api } = await import('/js/api.js');
        const [a, b] = await Promise.all([api('/users/me'), api('/users/me')]);
        return [a.user_id, b.user_id];
    }""")
    assert result[0] and result[0] == result[1]
    assert len(refreshes) == 1, refreshes
    # the rotated token is the one kept, and it still works after a reload
    page.unroute("**/api/v1/users/me")
    page.reload()
    page.locator("#nav").wait_for(state="visible")
    assert page.evaluate("localStorage.getItem('melody.refresh_token')")


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_manifest_and_service_worker_make_it_installable_and_offline(new_page, melody_server, shot):
    context, page, _ = new_page(MOBILE)
    page.goto("/")
    manifest_href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = page.evaluate("async (href) => (await fetch(href)).json()", manifest_href)
    assert manifest["name"] == "Melody Studio"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"].startswith("/")
    assert manifest["theme_color"]
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert ("192x192", "any") in sizes and ("512x512", "any") in sizes and ("512x512", "maskable") in sizes
    for icon in manifest["icons"]:
        w, h = _png_size(REPO / "web" / icon["src"].lstrip("/"))
        assert f"{w}x{h}" == icon["sizes"]
    # the service worker takes control, then the shell loads with the network off
    wait_for_js(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=20_000)
    context.set_offline(True)
    page.reload()
    page.get_by_role("heading", name="Log in").wait_for()
    assert page.locator("#offline-banner").is_visible()
    shot(page, "offline-shell")
    context.set_offline(False)


def test_strict_csp_breaks_nothing(new_page, melody_server, shot):
    """Serve the page with the production CSP: no inline script/style may be needed."""
    context, page, errors = new_page(MOBILE, service_workers="block")

    def with_csp(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    page.route(lambda url: url.endswith("/") or url.endswith("/index.html"), with_csp)
    ui_login(page, melody_server)
    page.get_by_role("link", name="Library").click()
    page.get_by_role("heading", name="Your library").wait_for()
    page.get_by_role("link", name="Upload").click()
    page.get_by_role("heading", name="Make an instrumental").wait_for()
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Search songs").fill("tum hi ho")
    page.wait_for_timeout(800)
    shot(page, "under-strict-csp")
    assert errors.csp == [], errors.csp
    # and the markup itself carries no inline script, handler or style attribute
    html = (REPO / "web" / "index.html").read_text(encoding="utf-8")
    assert " style=" not in html and " onclick=" not in html
    assert "<script>" not in html and "<script type=\"module\">" not in html


def test_keyboard_and_labels_and_small_screen(new_page, melody_server, shot):
    _, page, _ = new_page(MOBILE)
    page.goto("/")
    page.get_by_role("heading", name="Log in").wait_for()
    # first Tab reaches the skip link, then the brand, then the form fields in order
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    assert order[0] == "Skip to content"
    assert order.index("country") < order.index("phone") < order.index("Send code")
    ui_login(page, melody_server)
    for view in ("Search", "Library", "Upload"):
        page.get_by_role("link", name=view).click()
        page.wait_for_timeout(300)
        unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, select, button, canvas[role]')]
            .filter((el) => el.offsetParent !== null || el.closest('#player:not([hidden])'))
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !(el.textContent || '').trim())
            .map((el) => el.outerHTML.slice(0, 80))""")
        assert unlabeled == [], unlabeled
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{view} scrolls sideways at 360 px by {overflow}px"
        shot(page, f"view-{view.lower()}-360")


def test_service_worker_precaches_every_shell_file():
    """Each module and stylesheet of the shell is in sw.js's precache list (else offline breaks)."""
    sw = (REPO / "web" / "sw.js").read_text(encoding="utf-8")
    listed = set(re.findall(r"'(/[^']*)'", sw.split("const SHELL = [", 1)[1].split("];", 1)[0]))
    web = REPO / "web"
    # Vendored libraries (OpenSheetMusicDisplay, 1 MB) are loaded by the score view when it opens,
    # never precached: every install would pay for them.
    needed = {
        "/" + p.relative_to(web).as_posix()
        for p in web.rglob("*")
        if p.suffix in {".js", ".css"} and p.name != "sw.js" and "vendor" not in p.relative_to(web).parts
    }
    assert needed <= listed, needed - listed
