"""``melody dev``: every API router in one process, on moto and PostgreSQL, with dev keys."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from melody.core.settings import DevSettings


def build_dev_settings(
    data_dir: Path, *, dynamodb_url: str, s3_url: str, database_url: str | None, public_s3_url: str | None = None
) -> DevSettings:
    """Dev settings: the environment may override anything except where the stand-ins listen."""
    from melody.auth.key_file import ensure_local_key_file

    key_file = ensure_local_key_file(data_dir / "signing-key.json")
    return DevSettings(
        stage="dev",
        dynamodb_endpoint_url=dynamodb_url,
        s3_endpoint_url=s3_url,
        s3_public_endpoint_url=public_s3_url,
        work_dir=data_dir / "work",
        database_url=database_url,
        signing_key_file=key_file,
        signing_key_secret_id=None,
        sms_sender=os.environ.get("MELODY_SMS_SENDER", "console"),
        aws_region=os.environ.get("MELODY_AWS_REGION", "ap-south-1"),
        discover_allow_loopback=True,  # the local stack crawls fixture feeds served on loopback
    )


def web_dir() -> Path | None:
    """The PWA's folder: ``MELODY_WEB_DIR``, else ``web/`` of this checkout."""
    configured = os.environ.get("MELODY_WEB_DIR")
    candidate = Path(configured) if configured else Path(__file__).resolve().parents[3] / "web"
    return candidate if (candidate / "index.html").is_file() else None


class SecurityHeadersMiddleware:
    """Every response gets the security headers CloudFront's response-headers policy sets in AWS
    (``melody.api.security_headers``, the one definition both read), replacing any the app set, as
    the policy's ``override`` does."""

    def __init__(self, app, headers: dict[str, str] | None = None) -> None:
        from melody.api.security_headers import SECURITY_HEADERS

        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or SECURITY_HEADERS).items()]
        self._names = {name for name, _ in self.headers}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self._names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount_web(app) -> None:
    """Serve the PWA at ``/`` after the API routes, as CloudFront does in AWS, with CloudFront's
    security headers on every response (the PWA's and the API's).

    The static mount matches every path, so a wrong method on an API path reaches it: the app's
    error handlers answer that 405 with the methods the path really serves (melody.api.errors).
    """
    from fastapi.staticfiles import StaticFiles

    app.add_middleware(SecurityHeadersMiddleware)
    folder = web_dir()
    if folder is not None:
        app.mount("/", StaticFiles(directory=folder, html=True), name="web")


def seed_catalog_path() -> Path | None:
    """``MELODY_SEED_CATALOG``, else ``../shared/catalog/songs.jsonl`` next to this checkout."""
    configured = os.environ.get("MELODY_SEED_CATALOG")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3].parent / "shared" / "catalog" / "songs.jsonl"


def prepare_catalog(settings: DevSettings) -> None:
    """Migrate the catalog and load the seed catalogue on first start (skipped quietly if absent)."""
    from melody.catalog.postgres.loader import ensure_catalog
    from melody.core.services import Services

    executor = Services(settings).executor
    applied, report = ensure_catalog(executor, seed_catalog_path())
    if applied:
        print(f"melody dev: catalog migrations applied {applied}", file=sys.stderr, flush=True)
    if report is not None:
        print(f"melody dev: loaded {report.loaded} seed songs", file=sys.stderr, flush=True)


class _Stop(BaseException):
    """Raised in the main thread by SIGTERM (SIGINT raises KeyboardInterrupt): unwind and clean up."""


def _raise_stop(signum: int, _frame: object) -> None:
    # Once: a second signal must not cut the clean-up short (PostgreSQL's stop above all).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt if signum == signal.SIGINT else _Stop(signum)


def run_dev(host: str, port: int, data_dir: Path) -> int:
    """Serve until SIGTERM or SIGINT (Ctrl+C); then stop everything it started and return.

    Everything started here is stopped on every way out (a signal during start-up included): the
    HTTP server, the pipeline's trigger thread and ASL runner, moto's server, the catalog's
    connections and the embedded PostgreSQL (a detached postmaster that outlives this process
    otherwise). Returns the exit status: 0 after SIGTERM, 130 after SIGINT.
    """
    import contextlib

    import uvicorn

    from melody.api.apps import full_app
    from melody.core.services import Services
    from melody_dev.local.demo import start_demo_songs
    from melody_dev.local.pipeline import attach_local_pipeline
    from melody_dev.local.provision import provision
    from melody_dev.local.standins import start_embedded_postgres, start_moto, use_fake_aws_credentials

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # uvicorn handles SIGTERM/SIGINT while it serves, restores these handlers when it is done and
    # re-raises the signal: with the default SIGTERM action the process would die before clean-up.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    cleanup = contextlib.ExitStack()
    try:
        with cleanup:
            use_fake_aws_credentials()
            database_url = os.environ.get("DATABASE_URL")
            if not database_url:
                postgres = start_embedded_postgres(data_dir)
                cleanup.callback(postgres.stop)
                database_url = postgres.uri
            moto_server, moto_url = start_moto()
            cleanup.callback(moto_server.server_close)
            cleanup.callback(moto_server.shutdown)
            settings = build_dev_settings(
                data_dir,
                dynamodb_url=moto_url,
                s3_url=moto_url,
                database_url=database_url,
                public_s3_url=f"http://{host}:{port}/local-s3",
            )
            provision(settings)
            prepare_catalog(settings)
            services = Services(settings)
            cleanup.callback(_close_executor, services)
            app = full_app(services)
            pipeline = attach_local_pipeline(app, settings)
            cleanup.callback(app.state.pipeline_runner.shutdown, wait=False)
            cleanup.callback(pipeline.stop)
            start_demo_songs(services)  # tracks now; their audio and pipeline in the background
            from melody_dev.local.discover import start_discover_scheduler

            cleanup.callback(start_discover_scheduler(services).stop)  # EventBridge Scheduler's stand-in
            from melody_dev.local.scores import attach_local_scores

            score_runner, score_pipeline = attach_local_scores(app, settings)  # uploads/scores/ -> score_analysis
            cleanup.callback(score_runner.shutdown, wait=False)
            cleanup.callback(score_pipeline.stop)
            mount_web(app)

            config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
            server = uvicorn.Server(config)
            sock = config.bind_socket()
            cleanup.callback(sock.close)
            sock.listen(2048)  # accept into the backlog now, so the line below is true when printed
            print(f"melody dev: listening on http://{host}:{port} (data {data_dir})", file=sys.stderr, flush=True)
            server.run(sockets=[sock])
            # uvicorn swallows SIGINT while serving: a stop it captured ends up here or as _Stop.
    except _Stop:
        status = 0
    except KeyboardInterrupt:
        status = 130
    else:
        status = 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("melody dev: stopped", file=sys.stderr, flush=True)
    return status


def _close_executor(services: object) -> None:
    """Close the catalog's connections if the services opened any (before PostgreSQL stops)."""
    executor = vars(services).get("executor")  # a cached_property: absent when never used
    close = getattr(executor, "close", None)
    if close is not None:
        close()
