"""Content hash used to key results (the same song uploaded twice is processed once)."""

from __future__ import annotations

import hashlib
import os


def content_hash(source, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of the file's bytes (or of ``bytes`` given directly)."""
    h = hashlib.sha256()
    if isinstance(source, (bytes, bytearray, memoryview)):
        h.update(source)
        return h.hexdigest()
    with open(os.fspath(source), "rb") as fh:
        for block in iter(lambda: fh.read(chunk_size), b""):
            h.update(block)
    return h.hexdigest()
