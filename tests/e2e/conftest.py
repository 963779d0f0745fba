from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.stack import DevStack

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory):
    """One ``melody dev`` for every end-to-end test: a free port, a fresh data folder, its embedded
    PostgreSQL (unless ``E2E_DATABASE_URL`` names a server), and the PWA from ``web/``."""
    env = {
        "DATABASE_URL": os.environ.get("E2E_DATABASE_URL", ""),
        "MELODY_WEB_DIR": str(REPO / "web"),
        "MELODY_SMS_SENDER": "console",
        # Many logins from 127.0.0.1 within minutes: lift the per-IP OTP limits for this server only.
        "MELODY_OTP_PER_IP_PER_MINUTE": "1000",
        "MELODY_OTP_PER_IP_PER_HOUR": "1000",
    }
    stack = DevStack(tmp_path_factory.mktemp("melody-data"), env=env)
    stack.wait_ready(timeout=float(os.environ.get("MELODY_DEV_START_TIMEOUT", "180")))
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def melody_server(dev_stack: DevStack) -> DevStack:
    """The name the browser tests use for the same stack."""
    return dev_stack
