"""The developer page in the PWA (headless Chromium, production CSP): keys shown once with copy,
listed by prefix, revoked; the usage chart; the "try it" box calling the query API with the key."""

from __future__ import annotations

import pytest

from .conftest import DESKTOP, ui_login
from .waits import wait_for_js

pytestmark = pytest.mark.e2e

DEV_JS = "performance.getEntriesByType('resource').some(e => e.name.endsWith('/js/views/developer.js'))"


def test_developer_page_keys_usage_and_try_it(new_page, melody_server, shot):
    _, page, errors = new_page(viewport=DESKTOP)
    ui_login(page, melody_server)
    assert page.evaluate(DEV_JS) is False  # not part of the first load: loaded when the view opens

    page.locator("#menu-btn").click()
    page.get_by_role("menuitem", name="Developer").click()
    page.get_by_role("heading", name="Developer", level=1).wait_for()
    assert page.evaluate(DEV_JS) is True
    wait_for_js(page, "document.querySelector('#dev-keys li') !== null")
    assert page.locator("#dev-keys").inner_text().strip() == "No keys yet."

    page.locator("#dev-key-name").fill("Browser test app")
    page.get_by_role("button", name="Create key").click()
    page.locator("#dev-new-key").wait_for()
    key = page.locator("#dev-new-key").input_value()
    assert key.startswith("mk_live_") and len(key) == 51
    assert page.get_by_role("button", name="Copy").is_visible()
    wait_for_js(page, "document.querySelectorAll('#dev-keys li.dev-key').length === 1")
    row = page.locator("#dev-keys li.dev-key").first
    assert "Browser test app" in row.inner_text() and key[:14] in row.inner_text()
    assert key not in page.locator("#dev-keys").inner_text()  # the list shows the prefix only
    shot(page, "key-created")

    # "Try it" is filled with the new key (memory only) and calls POST /b2b/query with it.
    assert page.locator("#dev-try-key").input_value() == key
    page.locator("#dev-try-text").fill("chill songs in A minor")
    page.get_by_role("button", name="Run query").click()
    limits = page.locator("#dev-try-limits")
    limits.wait_for()
    assert limits.inner_text().startswith("HTTP 200") and "RateLimit-Limit: 2" in limits.inner_text()
    assert '"key"' in page.locator("#dev-try-interpretation").inner_text()
    wait_for_js(page, "(document.querySelector('#dev-usage-total') || {}).textContent?.startsWith('1 calls')")
    bars = page.locator("#dev-usage svg.usage-chart rect.usage-bar")
    assert bars.count() == 30 and bars.last.get_attribute("data-calls") == "1"
    shot(page, "usage-and-try-it")

    # Revoke (two steps): the row says revoked and the key is refused at once.
    page.get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Confirm revoke").click()
    wait_for_js(page, "document.querySelector('#dev-keys li.dev-key-revoked') !== null")
    page.get_by_role("button", name="Run query").click()
    wait_for_js(page, "(document.querySelector('#dev-try-limits') || {}).textContent?.startsWith('HTTP 401')")
    assert not storage_holds(page, key)
    assert errors.csp == []
    shot(page, "revoked")


def storage_holds(page, key: str) -> bool:
    return page.evaluate(
        "(key) => JSON.stringify({...localStorage}).includes(key) || JSON.stringify({...sessionStorage}).includes(key)", key
    )
