"""The house rules of the layout, read from the sources: what may import what.

- What Lambda ships (the shared layer) imports no dev-only code: the local stack, the ASL runner
  and the CLI live in ``melody_dev``, outside every bundle.
- Domain modules (a feature's logic, models and ports) import no AWS SDK and no web framework;
  adapters and routers do, beside them in the same feature folder.
- Features import plumbing (``melody.core``) and, at most, the features they build on; plumbing
  imports no feature at module level (``melody.core.services`` builds them lazily, by design).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "layers" / "shared" / "python"
PACKAGE = SHARED / "melody"

DEV_ONLY = ("melody_dev", "uvicorn", "moto", "pgserver", "werkzeug")
INFRASTRUCTURE = ("boto3", "botocore", "pynamodb", "psycopg", "fastapi", "starlette", "mangum", "httpx")
DOMAIN_MODULES = (
    "auth/otp.py", "auth/phone.py", "auth/tokens.py", "auth/verify.py", "auth/rate_limit.py", "auth/models.py",
    "auth/ports.py", "users/service.py", "users/models.py", "users/ports.py", "catalog/keys.py", "catalog/models.py",
    "catalog/ports.py", "catalog/ranking.py", "catalog/search.py", "catalog/service.py", "library/service.py",
    "conversions/models.py", "conversions/ports.py", "conversions/service.py", "catalog/audio_admin.py",
    "catalog/home.py", "catalog/attributes.py", "conversions/matching.py", "conversions/completion.py",
    "renditions/models.py", "renditions/ports.py", "renditions/service.py", "renditions/analysis.py", "renditions/steps.py",
    "scores/models.py", "scores/ports.py", "scores/service.py", "scores/steps.py",
    "lyrics/lrc.py", "lyrics/ports.py", "lyrics/service.py",
)  # fmt: skip
FEATURES = ("auth", "users", "catalog", "library", "conversions", "system", "renditions", "scores", "lyrics")


def imports_of(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Absolute module names imported by ``path`` (``TYPE_CHECKING`` blocks excluded)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(nodes: list[ast.stmt], nested: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue  # type-only: never imported at run time
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt) and not (top_level_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)):
                    visit([child], True)

    visit(tree.body, False)
    return found


def under(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def test_the_shared_layer_holds_no_dev_only_code():
    offenders = {
        str(path.relative_to(SHARED)): sorted(n for n in imports_of(path) if under(n, DEV_ONLY))
        for path in PACKAGE.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert not (PACKAGE / "local").exists() and not (PACKAGE / "workflow").exists() and not (PACKAGE / "cli.py").exists()


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_modules_import_no_aws_sdk_and_no_web_framework(module):
    assert sorted(n for n in imports_of(PACKAGE / module) if under(n, INFRASTRUCTURE)) == []


def test_plumbing_imports_no_feature_at_module_level():
    features = tuple(f"melody.{f}" for f in FEATURES)
    offenders = {
        str(path.relative_to(SHARED)): sorted(n for n in imports_of(path, top_level_only=True) if under(n, features))
        for path in (PACKAGE / "core").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_rules_above_would_see_a_violation(tmp_path):
    """The reader finds real imports, nested ones too, and skips type-only ones."""
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nimport boto3\nif TYPE_CHECKING:\n    import fastapi\n"
        "def f():\n    from melody_dev.local import stack\n"
    )
    assert {"boto3", "melody_dev.local"} <= imports_of(source)
    assert "fastapi" not in imports_of(source)
    assert "melody_dev.local" not in imports_of(source, top_level_only=True)
