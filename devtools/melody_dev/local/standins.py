"""Starting the local stand-ins for AWS: moto's server on loopback and an embedded PostgreSQL."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def use_fake_aws_credentials() -> None:
    """moto accepts any credentials; fixed fake ones keep a developer's real keys out of play."""
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)


def _serialise_dynamodb(app):
    """WSGI middleware: one DynamoDB request at a time.

    DynamoDB makes each conditional write atomic; moto's threaded server does not (two parallel
    ``UpdateItem`` calls can both pass the same condition). Serialising DynamoDB calls restores the
    guarantee the OTP attempt counter relies on; S3 transfers stay parallel.
    """
    import threading

    lock = threading.Lock()

    def middleware(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with lock:
                return list(app(environ, start_response))
        return app(environ, start_response)

    return middleware


def start_moto(host: str = "127.0.0.1", port: int | None = None):
    """moto's server on loopback (DynamoDB, S3, ...); returns the server and its endpoint URL."""
    import logging
    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns the dev log
    app = _serialise_dynamodb(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port or free_port(host), app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    return server, f"http://{host}:{server.server_port}"


class EmbeddedPostgres:
    """A running embedded PostgreSQL (pgserver): its URI, and a way to stop it."""

    def __init__(self, pg_dir: Path, uri: str) -> None:
        self.pg_dir = pg_dir
        self.uri = uri

    def stop(self, timeout: float = 15.0) -> bool:
        return stop_embedded_postgres(self.pg_dir, timeout=timeout)


def start_embedded_postgres(data_dir: Path) -> EmbeddedPostgres:
    """An embedded PostgreSQL (pgserver) whose data lives in the local data folder.

    pgserver starts the postmaster detached (``pg_ctl start``): it outlives this process unless
    :meth:`EmbeddedPostgres.stop` (or :func:`stop_embedded_postgres`) stops it. pgserver's own
    clean-up runs only from ``atexit`` and only when its on-disk list of handles holds this process
    alone, so the stack stops the server itself.
    """
    import warnings

    pg_dir = data_dir / "postgres"
    pg_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(pg_dir, cleanup_mode=None)
    return EmbeddedPostgres(pg_dir, server.get_uri())


def _psutil() -> Any:
    import psutil  # type: ignore[import-untyped]  # a pgserver dependency; no stubs installed

    return psutil


def _postmaster_pid(pg_dir: Path) -> int | None:
    """The PID in ``postmaster.pid`` when that process is a live postgres of ``pg_dir``."""
    psutil = _psutil()

    try:
        pid = int((pg_dir / "postmaster.pid").read_text().split("\n", 1)[0].strip())
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        cmdline = proc.cmdline()
    except (OSError, ValueError, psutil.Error):
        return None
    if not cmdline or "postgres" not in Path(cmdline[0]).name or str(pg_dir) not in " ".join(cmdline):
        return None  # a stale file whose PID now belongs to another process
    return pid


def _gone(pid: int, timeout: float) -> bool:
    psutil = _psutil()

    try:
        proc = psutil.Process(pid)
        proc.wait(timeout)  # polls: the postmaster is not our child (pg_ctl detached it)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        # Without a reaping init the stopped postmaster lingers as a zombie: it is gone all the same.
        try:
            return proc.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True
    return True


def stop_embedded_postgres(pg_dir: Path, *, timeout: float = 15.0) -> bool:
    """Stop the postmaster serving ``pg_dir`` (fast shutdown: SIGINT, then SIGQUIT, then SIGKILL).

    Reads ``postmaster.pid``, so it works without the handle that started the server (a test
    fixture cleaning up after a killed ``melody dev``). Returns True when a server was stopped.
    """
    import signal

    pid = _postmaster_pid(pg_dir.resolve())
    if pid is None:
        return False
    for sig, wait_s in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        if _gone(pid, wait_s):
            return True
    return False
