"""Where the neural engine's weights come from: a configured local path or an ``s3://`` URI.

Nothing is ever fetched from a model hub. An S3 object is downloaded once per container into
``/tmp`` (Lambda's only writable disk; a warm container reuses it) under a name that includes
the expected SHA-256, so a new configured checksum never reuses stale bytes. Every file is
hashed before it is handed to onnxruntime: a mismatch is ``model_checksum_mismatch`` and the
model is not loaded.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import errors
from ...errors import AudioError
from .manifest import ModelManifest

if TYPE_CHECKING:
    from collections.abc import Callable

MODEL_FILE = "model.onnx"
MANIFEST_FILE = "model.json"
_LOCK = threading.Lock()
# path -> sha256 of files already verified in this process (hashing 300 MB costs ~1 s)
_VERIFIED: dict[tuple[str, float, int], str] = {}


@dataclass(frozen=True)
class ResolvedModel:
    model_path: Path
    manifest: ModelManifest


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _split_s3(uri: str) -> tuple[str, str]:
    rest = uri[len("s3://"):]
    bucket, _, key = rest.partition("/")
    if not bucket or not key:
        raise AudioError(errors.MODEL_MISSING, "the weights URI must be s3://bucket/key")
    return bucket, key


def _default_s3_client() -> Any:
    import boto3  # only when an s3:// location is configured (the step function's image has it)

    return boto3.client("s3", endpoint_url=os.environ.get("MELODY_S3_ENDPOINT_URL") or None)


def _fetch_s3(uri: str, target: Path, s3_client: Callable[[], Any]) -> None:
    """``uri`` to ``target`` (atomically: a half-written file is never taken for the model)."""
    bucket, key = _split_s3(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    try:
        s3_client().download_file(bucket, key, str(part))
    except Exception as exc:  # botocore's ClientError/NoCredentials...: the weights are not reachable
        part.unlink(missing_ok=True)
        raise AudioError(errors.MODEL_MISSING, f"the weights at {uri} could not be fetched ({type(exc).__name__})") from None
    os.replace(part, target)


def _manifest_uri(model_uri: str) -> str:
    head, _, _ = model_uri.rpartition("/")
    return f"{head}/{MANIFEST_FILE}"


def resolve(
    location: str | os.PathLike[str] | None,
    *,
    expected_sha256: str | None = None,
    cache_dir: Path = Path("/tmp/melody-models"),
    s3_client: Callable[[], Any] = _default_s3_client,
) -> ResolvedModel:
    """The verified local model file and its manifest.

    ``location`` is a folder holding ``model.onnx`` and ``model.json``, the ``.onnx`` file itself
    (its ``model.json`` beside it), or ``s3://bucket/prefix/model.onnx`` (``model.json`` beside it
    in the bucket). The reference checksum is ``expected_sha256`` when configured (the manifest
    must agree), else the manifest's own.
    """
    if not location:
        raise AudioError(errors.MODEL_MISSING, "the neural engine needs weights; none are configured (MELODY_NEURAL_WEIGHTS)")
    text = os.fspath(location)
    expected = expected_sha256.lower() if expected_sha256 else None
    with _LOCK:
        if text.startswith("s3://"):
            model_path, manifest_path = _s3_local_paths(text, expected, cache_dir, s3_client)
        else:
            path = Path(text)
            model_path = path / MODEL_FILE if path.is_dir() else path
            manifest_path = model_path.with_name(MANIFEST_FILE)
            if not model_path.is_file():
                raise AudioError(errors.MODEL_MISSING, "the configured weights file does not exist")
        manifest = ModelManifest.load(manifest_path)
        reference = expected or manifest.sha256
        if manifest.sha256 != reference:
            raise AudioError(errors.MODEL_CHECKSUM_MISMATCH, "model.json names other weights than the configured SHA-256")
        actual = _verified_sha(model_path)
        if actual != reference:
            raise AudioError(
                errors.MODEL_CHECKSUM_MISMATCH,
                "the weights' SHA-256 is not the configured one; refusing to load them",
                {"expected": reference, "actual": actual},
            )
    return ResolvedModel(model_path, manifest)


def _s3_local_paths(uri: str, expected: str | None, cache_dir: Path, s3_client: Callable[[], Any]) -> tuple[Path, Path]:
    if not expected:
        # A remote file is trusted only against a checksum the operator configured.
        raise AudioError(errors.MODEL_MISSING, "weights from S3 need a configured SHA-256 (MELODY_NEURAL_WEIGHTS_SHA256)")
    folder = cache_dir / expected
    model_path, manifest_path = folder / MODEL_FILE, folder / MANIFEST_FILE
    if not manifest_path.is_file():
        _fetch_s3(_manifest_uri(uri), manifest_path, s3_client)
    if not model_path.is_file():
        _fetch_s3(uri, model_path, s3_client)
    elif _verified_sha(model_path) != expected:  # a stale or damaged copy: fetch it again, once
        model_path.unlink()
        _fetch_s3(uri, model_path, s3_client)
    return model_path, manifest_path


def _verified_sha(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime, st.st_size)
    if key not in _VERIFIED:
        _VERIFIED[key] = sha256_file(path)
    return _VERIFIED[key]
