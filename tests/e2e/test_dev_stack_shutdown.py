"""``melody dev`` leaves no process behind: SIGTERM or SIGINT stops its embedded PostgreSQL too.

pgserver starts the postmaster detached (``pg_ctl start``), so it outlived ``melody dev`` until the
stack stopped it itself. Each case starts its own stack on a fresh data folder without
``DATABASE_URL`` (the embedded server), signals it directly (not through ``DevStack.stop``, which
also cleans up after a killed stack) and looks for what is left.
"""

from __future__ import annotations

import shutil
import signal
import socket
import tempfile
from pathlib import Path

import pytest

from tests.e2e.stack import DevStack

SMALL_CATALOG = Path(__file__).resolve().parents[1] / "integration" / "catalog" / "songs_fixture.jsonl"


def postgres_processes_under(folder: Path) -> list[tuple[int, str]]:
    """Live ``postgres`` processes whose command line names a path under ``folder`` (zombies have none)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if words and "postgres" in Path(words[0]).name and any(str(folder) in w for w in words):
            found.append((int(entry.name), " ".join(words)))
    return found


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_stack_and_its_embedded_postgres(sig: signal.Signals):
    # Not under pytest's tmp_path: as root pgserver runs PostgreSQL as the user `pgserver`, and any
    # pytest session starting meanwhile resets /tmp/pytest-of-root to 0700, locking that user out.
    data_dir = Path(tempfile.mkdtemp(prefix="melody-shutdown-")).resolve()
    env = {"DATABASE_URL": "", "MELODY_SEED_CATALOG": str(SMALL_CATALOG), "MELODY_SMS_SENDER": "console"}
    stack = DevStack(data_dir, env=env)
    try:
        stack.wait_ready(timeout=180)
        assert postgres_processes_under(data_dir), "the stack should run an embedded PostgreSQL in its data folder"

        stack.process.send_signal(sig)
        status = stack.process.wait(timeout=60)

        assert status == (0 if sig == signal.SIGTERM else 130), "\n".join(stack.lines[-20:])
        assert postgres_processes_under(data_dir) == []
        assert port_is_free(stack.port)
        assert any("melody dev: stopped" in line for line in stack.lines)
    finally:
        stack.stop()  # a no-op when the stack stopped itself; else it kills it and its PostgreSQL
        shutil.rmtree(data_dir, ignore_errors=True)
