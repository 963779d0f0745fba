"""Placeholder for a Demucs engine (Défossez et al., "Hybrid Transformers for Music Source
Separation", ICASSP 2023).

Demucs needs torch and pretrained weights; nothing is downloaded here.  Construct it with
``weights_path=`` pointing at a local checkpoint *and* install torch/demucs to use it; until
that integration is written, any use raises ``AudioError("engine_unavailable", ...)``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .. import errors
from ..errors import AudioError

if TYPE_CHECKING:
    from ..audio import Audio, Stems


class DemucsEngine:
    name = "demucs"
    version = "htdemucs-placeholder"

    def __init__(self, weights_path: str | None = None, **_: object) -> None:
        self.weights_path = weights_path or os.environ.get("MELODY_DEMUCS_WEIGHTS") or None

    def separate(self, audio: Audio) -> Stems:
        if not self.weights_path:
            raise AudioError(
                errors.ENGINE_UNAVAILABLE,
                "the demucs engine needs a weights path (weights_path or MELODY_DEMUCS_WEIGHTS); none is configured",
            )
        if not os.path.isfile(self.weights_path):
            raise AudioError(errors.ENGINE_UNAVAILABLE, "the configured demucs weights file does not exist")
        try:  # pragma: no cover - torch is not part of the default install
            import torch  # noqa: F401
        except ImportError:
            raise AudioError(errors.ENGINE_UNAVAILABLE, "the demucs engine needs torch, which is not installed") from None
        raise AudioError(errors.ENGINE_UNAVAILABLE, "the demucs engine is not implemented in this build")  # pragma: no cover
