"""The ``neural`` engine: an operator-supplied ONNX separation model run by onnxruntime.

Inference (the same steps as ``demucs.apply.apply_model`` with ``split=True``):

1. the mix is brought to the model's rate (``scipy.signal.resample_poly``) and channel count;
2. ``mix_mean_std`` normalisation: minus the mono mix's mean, divided by its standard deviation,
   over the whole song (as ``demucs.separate`` does), so every chunk sees the same scale;
3. fixed-length chunks (``segment_s``) hop by ``segment * (1 - overlap)``; each chunk's output is
   weighted by a triangular window and added into one float32 accumulator per source, and the
   window sums are kept, so the division at the end is an exact overlap-add (a model that copies
   its input to every source gives back the input, see ``tests/unit/audio/test_neural_engine.py``);
4. de-normalisation, back to the song's rate and channels, and the stems: ``vocals``,
   ``drums``, ``bass``, ``other`` (whichever the model gives), ``instrumental`` = the sum of the
   non-vocal sources.

Memory is bounded by the song's length, not by a whole-song tensor per model layer: besides the
model and one batch of chunk activations, the engine holds the input, one accumulator per source
and the instrumental, each ``channels x samples`` float32. At 44.1 kHz stereo with four sources
and the model at the song's rate that is ``(1 + 4 + 1) x 2 x 4 B + 4 B`` (window sums) per
sample: about 138 MB per audio minute, 2.1 GB for a 15-minute song. The guard
(``model_out_of_memory``) compares that plus the model file and ``memory_factor`` times one
batch's input bytes with the configured budget before anything is loaded.

CPU by default; ``device="cuda"`` (or ``"auto"``) adds onnxruntime's CUDAExecutionProvider
when the installed onnxruntime has it.
"""

from __future__ import annotations

import math
import os
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from ... import errors
from ...audio import Audio, Stems
from ...errors import AudioError
from .manifest import STEM_NAMES, ModelManifest
from .weights import MANIFEST_FILE, ResolvedModel, resolve

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

DEVICES = ("cpu", "cuda", "auto")
_SESSIONS: dict[tuple[str, str, tuple[str, ...], int], Any] = {}
_SESSION_LOCK = threading.Lock()


def song_bytes(n_samples: int, channels: int, n_sources: int) -> int:
    """Bytes the engine holds for a song of ``n_samples`` (input, accumulators, instrumental, window sums)."""
    return n_samples * 4 * (channels * (n_sources + 2) + 1)


def triangular_window(length: int) -> np.ndarray:
    """Demucs' overlap-add weight: rises linearly to the middle and falls back, never zero."""
    half = length // 2
    w = np.concatenate([np.arange(1, half + 1), np.arange(length - half, 0, -1)]).astype(np.float32)
    return w / w.max()


def chunk_offsets(n: int, segment: int, overlap: float) -> list[int]:
    """Start of every chunk: hop ``segment * (1 - overlap)``, the last chunk reaching the end."""
    stride = max(1, int(round(segment * (1.0 - overlap))))
    offsets = [0]
    while offsets[-1] + segment < n:
        offsets.append(offsets[-1] + stride)
    return offsets


class NeuralEngine:
    """``NeuralEngine(weights=PATH_OR_S3_URI, weights_sha256=HEX, device="cpu", memory_budget_mb=N)``."""

    name = "neural"

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        weights_sha256: str | None = None,
        *,
        weights_path: str | os.PathLike[str] | None = None,  # the former ``demucs`` engine's option
        device: str = "cpu",
        memory_budget_mb: float | None = None,
        batch_size: int = 1,
        threads: int = 0,
        cache_dir: str | os.PathLike[str] | None = None,
        s3_client: Callable[[], Any] | None = None,
        **_: object,
    ) -> None:
        self.weights = weights or weights_path or os.environ.get("MELODY_NEURAL_WEIGHTS") or None
        self.weights_sha256 = (weights_sha256 or os.environ.get("MELODY_NEURAL_WEIGHTS_SHA256") or "").lower() or None
        if device not in DEVICES:
            raise AudioError(errors.INVALID_ARGUMENT, f"device must be one of {DEVICES}")
        self.device = device
        self.memory_budget_mb = memory_budget_mb if memory_budget_mb is not None else _default_budget_mb()
        self.batch_size = max(1, int(batch_size))
        self.threads = max(0, int(threads))
        self._cache_dir = cache_dir
        self._s3_client = s3_client
        self._resolved: ResolvedModel | None = None
        # ``onnx-<first 12 hex of the weights' SHA-256>``, known without loading (or fetching) the
        # model, because the analysis step names the engine while the separation step runs it.
        sha = self.weights_sha256 or self._local_manifest_sha()
        self.version = f"onnx-{sha[:12]}" if sha else "onnx-unconfigured"

    def _local_manifest_sha(self) -> str | None:
        if not self.weights or str(self.weights).startswith("s3://"):
            return None
        from pathlib import Path

        path = Path(self.weights)
        manifest = (path if path.is_dir() else path.parent) / MANIFEST_FILE
        try:
            return ModelManifest.load(manifest).sha256
        except AudioError:
            return None

    # -- loading -----------------------------------------------------------------------------
    def model(self) -> ResolvedModel:
        if self._resolved is None:
            kwargs: dict[str, Any] = {"expected_sha256": self.weights_sha256}
            if self._cache_dir is not None:
                from pathlib import Path

                kwargs["cache_dir"] = Path(self._cache_dir)
            if self._s3_client is not None:
                kwargs["s3_client"] = self._s3_client
            self._resolved = resolve(self.weights, **kwargs)
        return self._resolved

    def providers(self) -> list[str]:
        import onnxruntime as ort

        available = ort.get_available_providers()
        if self.device == "cpu":
            return ["CPUExecutionProvider"]
        if "CUDAExecutionProvider" in available:
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        if self.device == "cuda":
            raise AudioError(errors.ENGINE_UNAVAILABLE, "device=cuda but this onnxruntime has no CUDAExecutionProvider")
        return ["CPUExecutionProvider"]

    def _session(self, model_path: Path, sha: str) -> Any:
        providers = tuple(self.providers())
        key = (str(model_path), sha, providers, self.threads)
        with _SESSION_LOCK:
            if key not in _SESSIONS:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                try:
                    _SESSIONS[key] = ort.InferenceSession(str(model_path), options, providers=list(providers))
                except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
                    raise AudioError(errors.MODEL_INVALID, f"onnxruntime cannot load the model ({type(exc).__name__})") from None
            return _SESSIONS[key]

    def estimate_peak_bytes(self, manifest: ModelManifest, model_bytes: int, n_samples: int) -> int:
        """Model + one batch's activations (``memory_factor`` x its input bytes) + the song's arrays."""
        chunk_in = self.batch_size * manifest.channels * manifest.segment_samples * 4
        activations = int(chunk_in * (manifest.memory_factor + len(manifest.sources)))
        return model_bytes + activations + song_bytes(n_samples, manifest.channels, len(manifest.sources))

    def check_memory(self, manifest: ModelManifest, model_bytes: int, n_samples: int) -> int:
        peak = self.estimate_peak_bytes(manifest, model_bytes, n_samples)
        if self.memory_budget_mb is not None and peak > self.memory_budget_mb * 1024 * 1024:
            raise AudioError(
                errors.MODEL_OUT_OF_MEMORY,
                f"the model needs about {math.ceil(peak / 2**20)} MB for this song; the budget is {self.memory_budget_mb:g} MB",
                {"estimated_mb": math.ceil(peak / 2**20), "budget_mb": self.memory_budget_mb},
            )
        return peak

    # -- separation --------------------------------------------------------------------------
    def separate(self, audio: Audio) -> Stems:
        resolved = self.model()
        m = resolved.manifest
        n_model = int(math.ceil(audio.n_samples * m.sample_rate / audio.sample_rate))
        peak = self.check_memory(m, resolved.model_path.stat().st_size, n_model)
        session = self._session(resolved.model_path, m.sha256)

        x = _to_channels(audio.samples, m.channels)
        x = _resample(x, audio.sample_rate, m.sample_rate)
        sources = self.run_chunks(session, x, m)  # (S, C, n) at the model's rate
        del x
        out: dict[str, np.ndarray] = {}
        for i, name in enumerate(m.sources):
            y = _resample(sources[i], m.sample_rate, audio.sample_rate)
            out[name] = _fit(_to_channels(y, audio.channels), audio.n_samples)
        del sources
        vocals = out.pop("vocals")
        instrumental = np.zeros_like(vocals)
        for y in out.values():
            instrumental += y
        extras = {name: out[name] for name in STEM_NAMES if name in out}
        meta = {"model": m.name, "sources": list(m.sources), "estimated_peak_mb": math.ceil(peak / 2**20)}
        return Stems(instrumental, vocals, audio.sample_rate, self.name, f"onnx-{m.sha256[:12]}", meta=meta, extras=extras)

    def run_chunks(self, session: Any, x: np.ndarray, m: ModelManifest) -> np.ndarray:
        """Chunked inference with overlap-add: ``x`` (C, n) normalised per ``m`` → (S, C, n)."""
        channels, n = x.shape
        seg = m.segment_samples
        mean, std = 0.0, 1.0
        if m.normalisation == "mix_mean_std":
            ref = x.mean(axis=0)
            mean, std = float(ref.mean()), float(ref.std())
            if not std > 1e-8:  # digital silence: nothing to scale
                std = 1.0
        window = triangular_window(seg)
        acc = np.zeros((len(m.sources), channels, n), dtype=np.float32)
        weight = np.zeros(n, dtype=np.float32)
        inputs = session.get_inputs()
        input_name = next((i.name for i in inputs if i.name == "mix"), inputs[0].name)
        offsets = chunk_offsets(n, seg, m.overlap)
        for start in range(0, len(offsets), self.batch_size):
            batch_offsets = offsets[start : start + self.batch_size]
            batch = np.zeros((len(batch_offsets), channels, seg), dtype=np.float32)
            for b, off in enumerate(batch_offsets):
                piece = x[:, off : off + seg]
                batch[b, :, : piece.shape[1]] = (piece - mean) / std
            result = session.run(None, {input_name: batch})[0]
            if result.shape[1:] != (len(m.sources), channels, seg):
                raise AudioError(
                    errors.MODEL_INVALID,
                    f"the model returned shape {tuple(result.shape)}; model.json promises "
                    f"[batch, {len(m.sources)}, {channels}, {seg}]",
                )
            for b, off in enumerate(batch_offsets):
                valid = min(seg, n - off)
                acc[:, :, off : off + valid] += result[b, :, :, :valid] * window[:valid]
                weight[off : off + valid] += window[:valid]
        acc /= weight
        if m.normalisation == "mix_mean_std":
            acc *= std
            acc += mean
        return acc


def _default_budget_mb() -> float | None:
    """``MELODY_NEURAL_MEMORY_BUDGET_MB``, else 90 % of the Lambda's memory, else no guard."""
    configured = os.environ.get("MELODY_NEURAL_MEMORY_BUDGET_MB")
    if configured:
        return float(configured)
    lambda_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    return float(lambda_mb) * 0.9 if lambda_mb else None


def _to_channels(x: np.ndarray, channels: int) -> np.ndarray:
    if x.shape[0] == channels:
        return x
    if channels == 1:
        return x.mean(axis=0, keepdims=True, dtype=np.float32)
    return np.repeat(x[:1], channels, axis=0)


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return x
    from scipy.signal import resample_poly

    g = math.gcd(src, dst)
    return np.asarray(resample_poly(x, dst // g, src // g, axis=-1), dtype=np.float32)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    if x.shape[-1] < n:
        x = np.pad(x, ((0, 0), (0, n - x.shape[-1])))
    return np.ascontiguousarray(x[:, :n], dtype=np.float32)
