"""The ``neural`` separation engine: an operator's ONNX model (e.g. HT-Demucs exported with
``devtools/melody_dev/export_demucs.py``) run chunk by chunk with onnxruntime.

Model contract: ``model.onnx`` with input ``mix`` float32 ``[batch, channels, samples]`` and one
output float32 ``[batch, sources, channels, samples]`` (``samples`` = the manifest's fixed
segment), plus ``model.json`` beside it (see :mod:`.manifest`). Weights come only from the
configured location (:mod:`.weights`) and are checked against a SHA-256 before loading.
"""

from __future__ import annotations

from .engine import NeuralEngine, chunk_offsets, song_bytes, triangular_window
from .manifest import ModelManifest
from .weights import MANIFEST_FILE, MODEL_FILE, resolve, sha256_file

__all__ = [
    "MANIFEST_FILE", "MODEL_FILE", "ModelManifest", "NeuralEngine", "chunk_offsets", "resolve", "sha256_file",
    "song_bytes", "triangular_window",
]
