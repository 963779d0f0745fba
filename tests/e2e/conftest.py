from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.e2e.stack import DevStack

REPO = Path(__file__).resolve().parents[2]
# An operator of the e2e stack (MELODY_ADMIN_PHONES); other tests' random numbers start 9 + 9 random digits.
E2E_ADMIN_NATIONAL = "9000001717"
E2E_ADMIN_PHONE = "+91" + E2E_ADMIN_NATIONAL


@pytest.fixture(scope="session")
def dev_stack():
    """One ``melody dev`` for every end-to-end test: a free port, a fresh data folder, its embedded
    PostgreSQL (unless ``E2E_DATABASE_URL`` names a server), and the PWA from ``web/``."""
    env = {
        "DATABASE_URL": os.environ.get("E2E_DATABASE_URL", ""),
        "MELODY_WEB_DIR": str(REPO / "web"),
        "MELODY_SMS_SENDER": "console",
        # Many logins from 127.0.0.1 within minutes: lift the per-IP OTP limits for this server only.
        "MELODY_OTP_PER_IP_PER_MINUTE": "1000",
        "MELODY_OTP_PER_IP_PER_HOUR": "1000",
        # Developer API: a free plan slow enough that a test exceeds it at once; pro keys self-serve here.
        "MELODY_PLAN_FREE_RATE_PER_S": "2",
        "MELODY_DEVELOPER_SELF_SERVE_PLANS": "free,pro",
        # Discover (issue 17): this number's tokens carry the admin role (tests/e2e/test_discover_over_http.py).
        "MELODY_ADMIN_PHONES": E2E_ADMIN_PHONE,
    }
    # Not under tmp_path_factory: as root pgserver runs PostgreSQL as the user `pgserver`, and any
    # pytest session starting meanwhile resets /tmp/pytest-of-root to 0700, locking that user out.
    data_dir = Path(tempfile.mkdtemp(prefix="melody-e2e-"))
    stack = DevStack(data_dir, env=env)
    try:
        stack.wait_ready(timeout=float(os.environ.get("MELODY_DEV_START_TIMEOUT", "180")))
        yield stack
    finally:
        stack.stop()  # SIGTERM: the stack stops its embedded PostgreSQL (and this makes sure of it)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def admin_token(dev_stack: DevStack):
    """An operator's access token (``E2E_ADMIN_PHONE``): one OTP login per session, since a second
    code for the same number within the resend window is refused; later calls refresh it."""
    tokens: dict = {}

    def token() -> str:
        if not tokens:
            tokens.update(dev_stack.login_api(E2E_ADMIN_NATIONAL))
        else:
            status, body = dev_stack.request("POST", "/api/v1/auth/refresh-token", {"refresh_token": tokens["refresh_token"]})
            assert status == 200, body
            tokens.update(body)
        return tokens["access_token"]

    return token


@pytest.fixture(scope="session")
def melody_server(dev_stack: DevStack) -> DevStack:
    """The name the browser tests use for the same stack."""
    return dev_stack
