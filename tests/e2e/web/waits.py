"""Waiting on the page's state under the PWA's Content-Security-Policy.

The PWA is served with the production CSP (``script-src 'self'``, no ``unsafe-eval``), and
Playwright's ``page.wait_for_function`` compiles its expression inside the page, which that policy
forbids. ``page.evaluate`` runs through the DevTools protocol, outside the page's CSP, so the tests
poll with it instead and the PWA is tested under the policy it ships with.
"""

from __future__ import annotations

import time
from typing import Any


def wait_for_js(page: Any, expression: str, *, arg: Any = None, timeout: float = 30_000, polling: float = 100) -> Any:
    """Evaluate ``expression`` (JS, or a function of ``arg``) until it is truthy; its value, or an error
    after ``timeout`` milliseconds."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression, arg) if arg is not None else page.evaluate(expression)
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"waited {timeout:.0f} ms for: {expression}")
        page.wait_for_timeout(polling)
