"""The ``melody`` command: ``melody dev``, ``melody openapi`` and the audio engine's commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from melody.core.errors import AppError


def _cmd_dev(args: argparse.Namespace) -> int:
    from melody_dev.local.stack import run_dev

    return run_dev(args.host, args.port, Path(args.data_dir))


def openapi_document() -> dict:
    from melody.api.apps import full_app

    return full_app(None).openapi()


def _cmd_openapi(args: argparse.Namespace) -> int:
    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _catalog_executor():
    import os

    from pydantic import SecretStr

    from melody.core.errors import ServiceUnavailable
    from melody.core.settings import CatalogDatabaseSettings
    from melody.core.sql.connect import catalog_executor

    settings = CatalogDatabaseSettings()
    if settings.database_url is None and os.environ.get("DATABASE_URL"):
        # The libpq convention `melody dev` follows too; MELODY_DATABASE_URL wins when both are set.
        settings = settings.model_copy(update={"database_url": SecretStr(os.environ["DATABASE_URL"])})
    executor = catalog_executor(settings)
    if executor is None:
        raise ServiceUnavailable(
            "No catalog database: set DATABASE_URL (or MELODY_DATABASE_URL), or the Data API settings.",
            code="catalog_not_configured",
        )
    return executor


def _cmd_catalog_migrate(args: argparse.Namespace) -> int:
    from melody.catalog.postgres.migrations import migrate

    applied = migrate(_catalog_executor())
    print(f"catalog migrations applied: {applied or 'none (up to date)'}", file=sys.stderr)
    return 0


def _cmd_discover_crawl(args: argparse.Namespace) -> int:
    """Crawl the due Discover sources (or one, whatever its schedule) with the crawler's own code."""
    import json

    from melody.core.services import Services
    from melody.core.settings import DiscoverSettings

    services = Services(DiscoverSettings(), executor=_catalog_executor())
    if args.source:
        report = services.discover.crawl_now(args.source)
        summary = {"sources": 1, "new_posts": report.new_posts, "updated_posts": report.updated_posts,
                   "not_modified": int(report.status == "not_modified"), "failed": int(report.status == "failed"),
                   "error": report.error}  # fmt: skip
    else:
        summary = dict(services.discover_crawler.crawl_due(force=args.all).summary())
    print(json.dumps(summary))
    return 1 if summary["failed"] and args.source else 0


def _cmd_jobs_backfill_index(args: argparse.Namespace) -> int:
    from melody.conversions.dynamodb import backfill_user_track, bind_job_models
    from melody.core.settings import PipelineSettings

    bind_job_models(PipelineSettings())  # MELODY_JOBS_TABLE, region/endpoint from the environment
    print(f"indexed {backfill_user_track()} catalog conversion jobs", file=sys.stderr)
    return 0


def _cmd_renditions_backfill_index(args: argparse.Namespace) -> int:
    from melody.core.settings import PipelineSettings
    from melody.renditions.dynamodb import backfill_result_key, bind_rendition_model

    bind_rendition_model(PipelineSettings())  # MELODY_RENDITIONS_TABLE, region/endpoint from the environment
    print(f"indexed {backfill_result_key()} renditions", file=sys.stderr)
    return 0


def _cmd_catalog_load(args: argparse.Namespace) -> int:
    from melody.catalog.postgres.loader import load_file
    from melody.catalog.postgres.migrations import migrate
    from melody.catalog.postgres.repository import CatalogRepository

    executor = _catalog_executor()
    migrate(executor)
    report = load_file(Path(args.file), CatalogRepository(executor))
    for number, reason in report.rejected:
        print(f"{args.file}:{number}: rejected: {reason}", file=sys.stderr)
    print(f"loaded {report.loaded} songs, rejected {len(report.rejected)}", file=sys.stderr)
    return 1 if report.rejected and not report.loaded else 0


def _attach_settings():
    import os

    from pydantic import SecretStr

    from melody.core.settings import AudioApiSettings

    settings = AudioApiSettings()
    if settings.database_url is None and os.environ.get("DATABASE_URL"):
        settings = settings.model_copy(update={"database_url": SecretStr(os.environ["DATABASE_URL"])})
    return settings


def _cmd_catalog_attach_audio(args: argparse.Namespace) -> int:
    """Store a licensed audio file for a catalog track under the media bucket's ``catalog/`` prefix
    and run the pipeline on it: Step Functions when MELODY_STATE_MACHINE_ARN is set (returns once
    started), else the local ASL runner in this process (waits for the job)."""
    import mimetypes
    import time

    from melody.catalog.audio_admin import CATALOG_OPERATOR
    from melody.core.services import Services

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    settings = _attach_settings()
    services = Services(settings, executor=_catalog_executor())
    runner = None
    if not settings.state_machine_arn:
        from melody_dev.local.pipeline import STATE_MACHINE, build_runner
        from melody_dev.local.workflow_starter import LocalWorkflowStarter

        Path(settings.work_dir).mkdir(parents=True, exist_ok=True)
        # the reconciler: an execution that ends outside the Catch still fails the job (the wait below ends)
        runner = build_runner(services.steps, reconciler=services.execution_reconciler)
        services.use_workflow(LocalWorkflowStarter(runner, STATE_MACHINE))
    content_type = args.content_type or mimetypes.guess_type(path.name)[0] or "audio/mpeg"
    result = services.catalog_audio.attach_file(
        args.track_id, str(path), user_id=CATALOG_OPERATOR, content_type=content_type, engine=args.engine
    )
    print(f"attached s3://{settings.media_bucket}/{result.key} to {result.track_id}; job {result.job.job_id}", file=sys.stderr)
    if runner is None:
        return 0
    from melody.conversions.dynamodb import DynamoJobStore

    try:
        store = DynamoJobStore()
        while (job := store.get(result.job.job_id)) is not None and job.status not in ("succeeded", "failed"):
            time.sleep(0.5)
    finally:
        runner.shutdown()
    if job is None or job.status != "succeeded":
        reason = job.error.message if job is not None and job.error else "unknown"
        print(f"pipeline failed: {reason}", file=sys.stderr)
        return 1
    print(f"pipeline succeeded: {job.result_key}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="melody", description="Melody Studio developer commands.")
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the local stack (API, moto, PostgreSQL) on its embedded defaults")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--data-dir", default=".melody", help="local data folder (keys, PostgreSQL data)")
    dev.set_defaults(func=_cmd_dev)

    openapi = sub.add_parser("openapi", help="print the OpenAPI document")
    openapi.add_argument("-o", "--output", help="write to this file instead of stdout")
    openapi.set_defaults(func=_cmd_openapi)

    catalog = sub.add_parser("catalog", help="song catalog: migrations and imports (DATABASE_URL or Data API)")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    migrate_cmd = catalog_sub.add_parser("migrate", help="apply pending catalog migrations")
    migrate_cmd.set_defaults(func=_cmd_catalog_migrate)
    load_cmd = catalog_sub.add_parser("load", help="import a JSON Lines catalogue (idempotent)")
    load_cmd.add_argument("file")
    load_cmd.set_defaults(func=_cmd_catalog_load)

    attach_cmd = catalog_sub.add_parser(
        "attach-audio",
        help="store licensed audio for a catalog track (media bucket, catalog/ prefix) and run the pipeline on it",
    )
    attach_cmd.add_argument("track_id")
    attach_cmd.add_argument("file")
    attach_cmd.add_argument("--content-type", help="default: from the file name")
    attach_cmd.add_argument("--engine", choices=["dsp", "lalal", "neural", "demucs"])
    attach_cmd.set_defaults(func=_cmd_catalog_attach_audio)

    discover = sub.add_parser("discover", help="Discover: crawl blog and feed sources (DATABASE_URL)")
    discover_sub = discover.add_subparsers(dest="discover_command", required=True)
    crawl_cmd = discover_sub.add_parser("crawl", help="crawl the due sources now (or one with --source)")
    crawl_cmd.add_argument("--source", metavar="ID", help="crawl this source (src_…) whatever its schedule")
    crawl_cmd.add_argument("--all", action="store_true", help="crawl every active source, due or not")
    crawl_cmd.set_defaults(func=_cmd_discover_crawl)

    jobs = sub.add_parser("jobs", help="conversion jobs (DynamoDB): maintenance")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    backfill_cmd = jobs_sub.add_parser(
        "backfill-index", help="index catalog conversions written before the by_user_track index (idempotent)"
    )
    backfill_cmd.set_defaults(func=_cmd_jobs_backfill_index)

    renditions = sub.add_parser("renditions", help="renditions (DynamoDB): maintenance")
    renditions_sub = renditions.add_subparsers(dest="renditions_command", required=True)
    renditions_sub.add_parser(
        "backfill-index", help="index renditions written before the by_result index (idempotent)"
    ).set_defaults(func=_cmd_renditions_backfill_index)

    try:
        from melody_audio.cli import register as register_audio
    except ImportError:  # the audio engine is an optional extra
        pass
    else:
        register_audio(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except AppError as exc:  # a clear line, never a traceback, for a misconfiguration
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
