"""Lambda SnapStart hooks: what a restored snapshot must renew before it serves a request.

A snapshot is taken once per published version and restored into many execution environments,
so anything made before it is shared by all of them: ``random``'s state (``secrets`` and
``uuid4`` read the OS and need nothing) and network clients (boto3, httpx, PynamoDB connections,
whose connections and credentials may be stale). After a restore the ``random`` generator is
re-seeded and the services drop every client they built, to build fresh ones on first use.

Before the snapshot, the modules a function imports on first use (kept out of its init so that
cold starts without SnapStart stay small) are imported, so restored environments have them.

Outside a SnapStart runtime (the local stack, tests) ``snapshot_restore_py`` does not exist
and nothing is registered.
"""

from __future__ import annotations

import importlib
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from melody.core.services import Services

__all__ = ["after_restore", "before_snapshot", "install_snapstart_hooks"]


def before_snapshot(modules: tuple[str, ...]) -> None:
    for name in modules:
        importlib.import_module(name)


def after_restore(services: Services) -> None:
    random.seed()  # from os.urandom: each restored environment gets its own sequence
    services.renew_clients()


def install_snapstart_hooks(services: Services, *, preload: tuple[str, ...] = ()) -> bool:
    """Register the hooks with the runtime; False where SnapStart is not available."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    if preload:
        register_before_snapshot(before_snapshot, preload)
    register_after_restore(after_restore, services)
    return True
