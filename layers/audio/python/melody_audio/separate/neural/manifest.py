"""The sidecar manifest (``model.json``) that describes an exported separation model.

Every field is required unless marked optional::

    {
      "format": 1,
      "name": "htdemucs",                         # free text, part of the engine version
      "sources": ["drums", "bass", "other", "vocals"],   # the model's output order
      "sample_rate": 44100,
      "channels": 2,
      "segment_s": 7.8,                            # the fixed input length the graph was exported with
      "overlap": 0.25,                             # fraction of a segment shared by neighbouring chunks
      "normalisation": "mix_mean_std",             # or "none"
      "sha256": "<hex of model.onnx>",
      "memory_factor": 60                          # optional: activation bytes per input byte (guard)
    }

``mix_mean_std`` is HT-Demucs' own convention (``demucs.separate``): the mono mix's mean is
subtracted and the signal divided by its standard deviation before inference, and the sources
are scaled back afterwards.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ... import errors
from ...errors import AudioError

if TYPE_CHECKING:
    from pathlib import Path

NORMALISATIONS = ("mix_mean_std", "none")
STEM_NAMES = ("vocals", "drums", "bass", "other")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Activations of a hybrid transformer separator run at ~60x the input chunk's bytes (measured
# with onnxruntime on HT-Demucs-sized graphs is not possible here; this is a conservative guess
# an operator overrides in model.json after measuring their own export).
DEFAULT_MEMORY_FACTOR = 60.0


@dataclass(frozen=True)
class ModelManifest:
    name: str
    sources: tuple[str, ...]
    sample_rate: int
    channels: int
    segment_s: float
    overlap: float
    normalisation: str
    sha256: str
    memory_factor: float = DEFAULT_MEMORY_FACTOR

    @property
    def segment_samples(self) -> int:
        return int(round(self.segment_s * self.sample_rate))

    @classmethod
    def from_dict(cls, data: Any) -> ModelManifest:
        def bad(why: str) -> AudioError:
            return AudioError(errors.MODEL_INVALID, f"model.json: {why}")

        if not isinstance(data, dict):
            raise bad("not a JSON object")
        if data.get("format", 1) != 1:
            raise bad(f"unsupported format {data.get('format')!r}")
        try:
            sources = tuple(str(s) for s in data["sources"])
            manifest = cls(
                name=str(data.get("name") or "model"),
                sources=sources,
                sample_rate=int(data["sample_rate"]),
                channels=int(data["channels"]),
                segment_s=float(data["segment_s"]),
                overlap=float(data["overlap"]),
                normalisation=str(data["normalisation"]),
                sha256=str(data["sha256"]).lower(),
                memory_factor=float(data.get("memory_factor", DEFAULT_MEMORY_FACTOR)),
            )
        except KeyError as exc:
            raise bad(f"missing field {exc.args[0]!r}") from None
        except (TypeError, ValueError):
            raise bad("a field has the wrong type") from None
        if "vocals" not in sources or len(set(sources)) != len(sources) or not set(sources) <= set(STEM_NAMES):
            raise bad(f"sources must be distinct names from {STEM_NAMES} and include 'vocals'")
        if manifest.channels not in (1, 2) or not 8000 <= manifest.sample_rate <= 192000:
            raise bad("channels must be 1 or 2 and sample_rate 8000..192000")
        if manifest.segment_samples < 64 or not 0.0 <= manifest.overlap <= 0.5:
            raise bad("segment_s must be positive and overlap within 0..0.5")
        if manifest.normalisation not in NORMALISATIONS:
            raise bad(f"normalisation must be one of {NORMALISATIONS}")
        if not _SHA256.match(manifest.sha256):
            raise bad("sha256 must be 64 hex digits")
        if manifest.memory_factor <= 0:
            raise bad("memory_factor must be positive")
        return manifest

    @classmethod
    def load(cls, path: Path) -> ModelManifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AudioError(errors.MODEL_MISSING, "the model's manifest (model.json) is missing") from None
        except (OSError, ValueError):
            raise AudioError(errors.MODEL_INVALID, "model.json is not readable JSON") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": 1, "name": self.name, "sources": list(self.sources), "sample_rate": self.sample_rate,
            "channels": self.channels, "segment_s": self.segment_s, "overlap": self.overlap,
            "normalisation": self.normalisation, "sha256": self.sha256, "memory_factor": self.memory_factor,
        }
