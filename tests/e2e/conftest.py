from __future__ import annotations

import os

import pytest

from tests.e2e.stack import DevStack


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory):
    """``melody dev`` on a free port with a fresh data folder, on its embedded defaults
    (its own PostgreSQL) unless ``E2E_DATABASE_URL`` points it at a server."""
    env = {"DATABASE_URL": os.environ.get("E2E_DATABASE_URL", "")}
    stack = DevStack(tmp_path_factory.mktemp("melody-data"), env=env)
    stack.wait_ready()
    yield stack
    stack.stop()
