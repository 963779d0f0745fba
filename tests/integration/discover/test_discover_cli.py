"""``melody discover crawl [--source ID]``: the crawler's own code on the configured catalog."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


def test_cli_crawls_one_source_then_the_due_ones(services, feeds, database_url, catalog_schema, monkeypatch, capsys):
    from melody_dev.cli import main

    source = services.discover.add_source(feeds.base + "/feed.json", name=None, language=None)["source_id"]
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MELODY_CATALOG_DB_SCHEMA", catalog_schema)
    monkeypatch.setenv("MELODY_DISCOVER_ALLOW_LOOPBACK", "1")
    monkeypatch.setenv("MELODY_DISCOVER_MIN_HOST_DELAY_S", "0")
    assert main(["discover", "crawl", "--source", source]) == 0
    assert json.loads(capsys.readouterr().out)["new_posts"] == 2
    assert main(["discover", "crawl"]) == 0  # nothing due: it was just crawled
    assert json.loads(capsys.readouterr().out)["sources"] == 0
    assert main(["discover", "crawl", "--all"]) == 0
    assert json.loads(capsys.readouterr().out) == {"sources": 1, "new_posts": 0, "updated_posts": 0, "not_modified": 1, "failed": 0}
