"""``functions/discover_crawler/handler.py``, the function EventBridge Scheduler invokes: an empty
event crawls every due source; ``{"source_id"}`` crawls that one now; it answers with counts."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

HANDLER = Path(__file__).resolve().parents[3] / "functions" / "discover_crawler" / "handler.py"
CONTEXT = SimpleNamespace(
    function_name="melody-discover-crawler", memory_limit_in_mb=512, aws_request_id="req-1",
    invoked_function_arn="arn:aws:lambda:ap-south-1:123456789012:function:melody-discover-crawler",
)  # fmt: skip


@pytest.fixture()
def crawler_handler(services, monkeypatch):
    monkeypatch.setenv("MELODY_STAGE", "test")
    spec = importlib.util.spec_from_file_location("discover_crawler_handler", HANDLER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.services = services  # the test's catalog schema and loopback-permitting settings
    return module.handler


def test_a_scheduled_run_crawls_the_due_sources_and_a_named_source_is_crawled_now(crawler_handler, services, feeds):
    rss = services.discover.add_source(feeds.base + "/rss.xml", name="Filmi Beats", language="hi")
    services.discover.add_source(feeds.base + "/atom.xml", name="Indie Notes", language="en")

    summary = crawler_handler({}, CONTEXT)  # what the schedule sends
    assert summary["sources"] == 2 and summary["new_posts"] == 3 and summary["failed"] == 0, summary

    assert crawler_handler({}, CONTEXT)["sources"] == 0  # nothing is due again before the interval

    again = crawler_handler({"source_id": rss["source_id"]}, CONTEXT)
    assert again == {"sources": 1, "new_posts": 0, "updated_posts": 0, "not_modified": 1, "failed": 0}
    assert feeds.not_modified == 1
