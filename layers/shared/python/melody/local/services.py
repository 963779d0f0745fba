"""Starting the local stand-ins for AWS: moto's server on loopback and an embedded PostgreSQL."""

from __future__ import annotations

import os
import socket
from pathlib import Path


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


def start_moto(host: str = "127.0.0.1", port: int | None = None):
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns the dev log
    server = ThreadedMotoServer(ip_address=host, port=port or free_port(host), verbose=False)
    server.start()
    return server, f"http://{host}:{server._port}"


def start_embedded_postgres(data_dir: Path) -> str:
    """An embedded PostgreSQL (pgserver) whose data lives in the local data folder; returns its URI."""
    import pgserver

    pg_dir = data_dir / "postgres"
    pg_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pg_dir, cleanup_mode=None)
    return server.get_uri()
