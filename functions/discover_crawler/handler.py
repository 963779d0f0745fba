"""Discover crawler: run by EventBridge Scheduler; crawls every due source politely and reports counts.

The event may name one source (``{"source_id": "src_…"}``) to crawl it whatever its schedule.
"""

from __future__ import annotations

from typing import Any

from melody.core.observability import logger
from melody.core.services import Services
from melody.core.settings import DiscoverSettings

services = Services(DiscoverSettings())


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    crawler = services.discover_crawler
    source_id = (event or {}).get("source_id")
    if source_id:
        report = services.discover.crawl_now(str(source_id))
        summary = {"sources": 1, "new_posts": report.new_posts, "updated_posts": report.updated_posts,
                   "not_modified": int(report.status == "not_modified"), "failed": int(report.status == "failed")}  # fmt: skip
    else:
        summary = crawler.crawl_due().summary()
    logger.info("discover crawl", extra=summary)
    return summary
