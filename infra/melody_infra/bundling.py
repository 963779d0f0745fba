"""Lambda packaging: function code, the shared ``melody`` layer and the third-party dependency layer.

* each function's code is its ``functions/<area>`` folder;
* the shared package is a layer built from ``layers/shared`` (a layer's files live under ``python/``);
* third-party runtime dependencies (``[project].dependencies`` of ``pyproject.toml``) are a second
  layer, built at synth time by ``pip install --platform manylinux2014_aarch64 --only-binary=:all:``
  on the host (:class:`PipLocalBundling`), or in the SAM build image when local pip fails.

Synthesising with context ``aws:cdk:bundling-stacks=[]`` skips bundling altogether (tests do).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import tomllib
from functools import lru_cache
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from melody_infra.paths import FUNCTIONS_DIR, PYPROJECT, SHARED_LAYER_DIR

PYTHON_VERSION = "3.13"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"
ASSET_EXCLUDE = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache", "**/*.egg-info"]


def runtime_dependencies(pyproject: Path = PYPROJECT) -> list[str]:
    """The pinned runtime requirements: ``[project].dependencies`` (no audio/local/infra extras)."""
    data = tomllib.loads(pyproject.read_text())
    return list(data["project"]["dependencies"])


def pip_install_command(target: str, requirements: list[str] | str, *, python: str = "python") -> list[str]:
    reqs = ["-r", requirements] if isinstance(requirements, str) else list(requirements)
    return [
        python, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--quiet",
        "--platform", PIP_PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION,
        "--only-binary=:all:", "--upgrade", "--target", target, *reqs,
    ]  # fmt: skip


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Builds the dependency layer with the host's pip (no Docker needed: wheels only, cross-platform)."""

    def __init__(self, requirements: list[str], *, python: str = sys.executable) -> None:
        self.requirements = requirements
        self.python = python

    def try_bundle(self, output_dir: str, *args: object, **kwargs: object) -> bool:
        target = Path(output_dir) / "python"
        command = pip_install_command(str(target), self.requirements, python=self.python)
        try:
            subprocess.run(command, check=True, stdout=sys.stderr, stderr=sys.stderr, timeout=900)
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"[melody] local pip bundling failed ({exc}); falling back to Docker", file=sys.stderr)
            shutil.rmtree(target, ignore_errors=True)
            return False
        for cache in target.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        return True


@lru_cache
def _requirements_dir(requirements: tuple[str, ...]) -> tuple[Path, str]:
    """A stable folder holding ``requirements.txt`` (the Docker fallback mounts it) and its hash."""
    text = "\n".join(requirements) + "\n"
    digest = hashlib.sha256(f"{PIP_PLATFORM}|{PYTHON_VERSION}|{text}".encode()).hexdigest()
    folder = Path(tempfile.gettempdir()) / f"melody-deps-{digest[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requirements.txt").write_text(text)
    return folder, digest


def dependencies_layer_code(requirements: list[str] | None = None) -> lambda_.Code:
    reqs = tuple(requirements if requirements is not None else runtime_dependencies())
    folder, digest = _requirements_dir(reqs)
    docker_cmd = " ".join(pip_install_command("/asset-output/python", "/asset-input/requirements.txt"))
    return lambda_.Code.from_asset(
        str(folder),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=digest,
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            platform="linux/arm64",
            command=["bash", "-c", docker_cmd],
            local=PipLocalBundling(list(reqs)),
        ),
    )


def shared_layer_code() -> lambda_.Code:
    return lambda_.Code.from_asset(str(SHARED_LAYER_DIR), exclude=ASSET_EXCLUDE)


def function_code(area: str) -> lambda_.Code:
    folder = FUNCTIONS_DIR / area
    if not (folder / "handler.py").is_file():
        raise FileNotFoundError(f"no handler at {folder / 'handler.py'}")
    return lambda_.Code.from_asset(str(folder), exclude=ASSET_EXCLUDE)
