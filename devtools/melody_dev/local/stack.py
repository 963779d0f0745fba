"""``melody dev``: every API router in one process, on moto and PostgreSQL, with dev keys."""

from __future__ import annotations

import os
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
    )


def web_dir() -> Path | None:
    """The PWA's folder: ``MELODY_WEB_DIR``, else ``web/`` of this checkout."""
    configured = os.environ.get("MELODY_WEB_DIR")
    candidate = Path(configured) if configured else Path(__file__).resolve().parents[3] / "web"
    return candidate if (candidate / "index.html").is_file() else None


def mount_web(app) -> None:
    """Serve the PWA at ``/`` after the API routes, as CloudFront does in AWS."""
    from fastapi.staticfiles import StaticFiles

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


def run_dev(host: str, port: int, data_dir: Path) -> None:
    import uvicorn

    from melody.api.apps import full_app
    from melody.core.services import Services
    from melody_dev.local.pipeline import attach_local_pipeline
    from melody_dev.local.provision import provision
    from melody_dev.local.standins import start_embedded_postgres, start_moto, use_fake_aws_credentials

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    use_fake_aws_credentials()
    moto_server, moto_url = start_moto()
    database_url = os.environ.get("DATABASE_URL") or start_embedded_postgres(data_dir)
    settings = build_dev_settings(
        data_dir,
        dynamodb_url=moto_url,
        s3_url=moto_url,
        database_url=database_url,
        public_s3_url=f"http://{host}:{port}/local-s3",
    )
    provision(settings)
    prepare_catalog(settings)
    app = full_app(Services(settings))
    pipeline = attach_local_pipeline(app, settings)
    mount_web(app)

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    sock = config.bind_socket()
    sock.listen(2048)  # accept into the backlog now, so the line below is true when printed
    print(f"melody dev: listening on http://{host}:{port} (data {data_dir})", file=sys.stderr, flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        pipeline.stop()
        moto_server.shutdown()
