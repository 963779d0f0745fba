"""Where things live in the repository, and making ``melody.core.resources`` importable for CDK."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
SHARED_LAYER_DIR = REPO_ROOT / "layers" / "shared"
PYPROJECT = REPO_ROOT / "pyproject.toml"


def ensure_shared_package_importable() -> None:
    """``melody.core.resources`` is pure dataclasses; CDK imports it to build tables/buckets from the specs."""
    path = str(SHARED_LAYER_DIR / "python")
    if path not in sys.path:
        sys.path.insert(0, path)


ensure_shared_package_importable()
