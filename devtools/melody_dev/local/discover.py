"""The local stand-in for EventBridge Scheduler → the Discover crawler: a thread that crawls the due
sources every ``discover_dev_schedule_s`` seconds with the same crawler code as the Lambda."""

from __future__ import annotations

import sys
import threading
from typing import Any

__all__ = ["DiscoverScheduler", "start_discover_scheduler"]


class DiscoverScheduler:
    def __init__(self, services: Any, interval_s: float) -> None:
        self._services = services
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="discover-scheduler", daemon=True)

    def start(self) -> DiscoverScheduler:
        if self._interval_s > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                summary = self._services.discover_crawler.crawl_due().summary()
            except Exception as exc:  # a failed run is retried at the next tick, as the schedule would
                print(f"melody dev: discover crawl failed: {type(exc).__name__}", file=sys.stderr, flush=True)
                continue
            if summary["sources"]:
                print(f"melody dev: discover crawl {summary}", file=sys.stderr, flush=True)


def start_discover_scheduler(services: Any) -> DiscoverScheduler:
    interval = float(getattr(services.settings, "discover_dev_schedule_s", 0) or 0)
    return DiscoverScheduler(services, interval).start()
