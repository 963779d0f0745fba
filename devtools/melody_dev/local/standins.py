"""Starting the local stand-ins for AWS: moto's server on loopback and an embedded PostgreSQL."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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


def start_embedded_postgres(data_dir: Path) -> str:
    """An embedded PostgreSQL (pgserver) whose data lives in the local data folder; returns its URI."""
    import warnings

    pg_dir = data_dir / "postgres"
    pg_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(pg_dir, cleanup_mode=None)
    return server.get_uri()
