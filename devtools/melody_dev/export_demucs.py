"""Export HT-Demucs to the neural engine's contract: ``model.onnx`` + ``model.json``.

Operators only, never CI or a Lambda: needs ``torch`` and ``demucs`` (MIT) installed by the
operator, and a checkpoint they are licensed to use (the public HT-Demucs weights were trained on
MUSDB18-HQ plus 800 extra songs; check the terms that apply to you before serving them)::

    pip install torch demucs onnx
    python -m melody_dev.export_demucs --checkpoint ~/models/htdemucs.th -o ~/models/htdemucs/
    # or a model from a local demucs repo folder (files the operator downloaded themselves):
    python -m melody_dev.export_demucs --name htdemucs --repo ~/models/demucs-repo -o ~/models/htdemucs/
    melody process song.wav -o out/ --engine neural --weights ~/models/htdemucs/

Where the STFT happens: **inside the exported graph.** ONNX has no complex tensors and
``torch.stft``/``torch.istft`` with complex outputs do not export, so this tool replaces HT-Demucs'
``_spec``/``_magnitude``/``_mask``/``_ispec`` with real-valued equivalents: the STFT as a strided
convolution with a Hann-windowed DFT basis (reflect padding, ``normalized=True``, as
``demucs.spec.spectro``), the complex-as-channels layout kept as a trailing axis of 2, and the
inverse STFT as a transposed convolution divided by the window's squared-sum envelope (a constant
for the fixed segment length). Everything else (encoders, the cross-domain transformer, decoders)
is the model's own code. The graph therefore takes ``mix`` float32 ``[batch, channels, samples]``
and returns ``sources`` ``[batch, sources, channels, samples]`` for exactly one training segment
(7.8 s for HT-Demucs), which is what ``melody_audio.separate.neural`` feeds it, chunk by chunk with
overlap-add, after normalising the whole song by its mean and standard deviation (``mix_mean_std``,
as ``demucs.separate`` does).

Honest status: this tool is not run in this repository's CI (no real weights, no ``demucs``
package here). ``--check`` compares onnxruntime's output with the PyTorch model's on random audio
and prints the largest difference; run it once after exporting.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any


def _load(args: argparse.Namespace) -> Any:
    try:
        import torch  # noqa: F401
        from demucs.apply import BagOfModels
        from demucs.pretrained import get_model
        from demucs.states import load_model
    except ImportError:
        raise SystemExit("export_demucs needs torch and demucs (pip install torch demucs onnx)") from None
    if args.checkpoint:
        model = load_model(args.checkpoint)
    else:
        if not args.repo:
            raise SystemExit("give --checkpoint FILE.th, or --name with --repo DIR (nothing is downloaded here)")
        model = get_model(args.name, repo=Path(args.repo))
    if isinstance(model, BagOfModels):
        if len(model.models) != 1:
            raise SystemExit(f"{args.name} is a bag of {len(model.models)} models; export one (e.g. htdemucs, not htdemucs_ft)")
        model = model.models[0]
    if type(model).__name__ != "HTDemucs":
        raise SystemExit(f"expected an HTDemucs model, got {type(model).__name__}")
    return model.eval()


def _dft_bases(n_fft: int) -> tuple[Any, Any]:
    import torch

    n = torch.arange(n_fft, dtype=torch.float64)
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)[:, None]
    window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
    angle = 2 * math.pi * k * n / n_fft
    norm = 1.0 / math.sqrt(n_fft)  # normalized=True
    forward = torch.cat([torch.cos(angle), -torch.sin(angle)]) * window * norm  # (2F, n_fft)
    weight = torch.full((n_fft // 2 + 1, 1), 2.0, dtype=torch.float64)
    weight[0] = weight[-1] = 1.0  # DC and Nyquist appear once in a one-sided spectrum
    inverse = torch.cat([torch.cos(angle) * weight, -torch.sin(angle) * weight]) * window * math.sqrt(n_fft) / n_fft
    return forward.float()[:, None, :], inverse.float()[:, None, :]


def real_stft(x: Any, n_fft: int, hop: int) -> Any:
    """``(..., length)`` -> ``(..., F, T, 2)``: ``torch.stft(center=True, pad_mode="reflect",
    normalized=True, window=hann)`` as a strided convolution, real and imaginary parts last."""
    import torch
    import torch.nn.functional as F

    forward_basis, _ = _dft_bases(n_fft)
    freqs = n_fft // 2 + 1
    *other, length = x.shape
    flat = F.pad(x.reshape(-1, 1, length), (n_fft // 2, n_fft // 2), mode="reflect")
    z = F.conv1d(flat, forward_basis, stride=hop)  # (N, 2F, T)
    z = torch.stack([z[:, :freqs], z[:, freqs:]], dim=-1)  # (N, F, T, 2)
    return z.reshape(*other, freqs, z.shape[-2], 2)


def real_istft(z: Any, n_fft: int, hop: int, length: int) -> Any:
    """The inverse of :func:`real_stft` (``torch.istft(center=True, normalized=True)``) as a
    transposed convolution divided by the window's squared-sum envelope (a constant of the length)."""
    import torch
    import torch.nn.functional as F

    _, inverse_basis = _dft_bases(n_fft)
    window_sq = torch.hann_window(n_fft, periodic=True) ** 2
    *other, fr, frames, _ = z.shape
    spec = torch.cat([z[..., 0], z[..., 1]], dim=-2).reshape(-1, 2 * fr, frames)
    y = F.conv_transpose1d(spec, inverse_basis, stride=hop)
    envelope = torch.zeros(n_fft + hop * (frames - 1))
    for t in range(frames):  # traced once: a constant in the exported graph
        envelope[t * hop : t * hop + n_fft] += window_sq
    y = y[..., n_fft // 2 : n_fft // 2 + length] / envelope[n_fft // 2 : n_fft // 2 + length].clamp_min(1e-11)
    return y.reshape(*other, length)


def patch_for_onnx(model: Any) -> Any:
    """Replace the complex-valued STFT steps of ``model`` (HTDemucs) with real-valued convolutions."""
    import torch.nn.functional as F

    n_fft, hop = model.nfft, model.hop_length

    def stft(x: Any) -> Any:
        return real_stft(x, n_fft, hop)

    def istft(z: Any, length: int) -> Any:
        return real_istft(z, n_fft, hop, length)

    def _spec(x: Any) -> Any:
        le = int(math.ceil(x.shape[-1] / hop))
        pad = hop // 2 * 3
        x = F.pad(x, (pad, pad + le * hop - x.shape[-1]), mode="reflect")
        z = stft(x)[..., :-1, :, :]
        return z[..., 2 : 2 + le, :]

    def _magnitude(z: Any) -> Any:  # cac: the complex parts become channels
        b, c, fr, t, _ = z.shape
        return z.permute(0, 1, 4, 2, 3).reshape(b, c * 2, fr, t)

    def _mask(z: Any, m: Any) -> Any:
        b, s, _, fr, t = m.shape
        return m.view(b, s, -1, 2, fr, t).permute(0, 1, 2, 4, 5, 3)

    def _ispec(z: Any, length: int | None = None, scale: int = 0) -> Any:
        assert length is not None
        hl = hop // (4**scale)
        z = F.pad(z, (0, 0, 0, 0, 0, 1))  # the Nyquist bin _spec dropped
        z = F.pad(z, (0, 0, 2, 2))  # the two frames each side _spec dropped
        pad = hl // 2 * 3
        le = hl * int(math.ceil(length / hl)) + 2 * pad
        return istft(z, le)[..., pad : pad + length]

    if not getattr(model, "cac", True):
        raise SystemExit("only complex-as-channels (cac=True) HT-Demucs models export (the default)")
    model._spec, model._magnitude, model._mask, model._ispec = _spec, _magnitude, _mask, _ispec
    return model


def export(model: Any, out: Path, *, opset: int = 17) -> dict[str, Any]:
    import torch

    out.mkdir(parents=True, exist_ok=True)
    segment = int(float(model.segment) * model.samplerate)
    patch_for_onnx(model)
    example = torch.zeros(1, model.audio_channels, segment)
    with torch.no_grad():
        torch.onnx.export(model, (example,), str(out / "model.onnx"), input_names=["mix"], output_names=["sources"],
                          dynamic_axes={"mix": {0: "batch"}, "sources": {0: "batch"}}, opset_version=opset, dynamo=False)
    sha = hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()
    manifest = {
        "format": 1, "name": "htdemucs", "sources": list(model.sources), "sample_rate": int(model.samplerate),
        "channels": int(model.audio_channels), "segment_s": segment / model.samplerate, "overlap": 0.25,
        "normalisation": "mix_mean_std", "sha256": sha,
    }
    (out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def check(model: Any, out: Path) -> float:
    """Largest absolute difference between onnxruntime and the (patched) PyTorch model on noise."""
    import numpy as np
    import onnxruntime as ort
    import torch

    manifest = json.loads((out / "model.json").read_text())
    n = round(manifest["segment_s"] * manifest["sample_rate"])
    x = np.random.default_rng(0).standard_normal((1, manifest["channels"], n)).astype(np.float32) * 0.1
    got = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"]).run(None, {"mix": x})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    return float(np.abs(got - want).max())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m melody_dev.export_demucs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="a demucs .th checkpoint file")
    parser.add_argument("--name", default="htdemucs", help="model name in --repo (default htdemucs)")
    parser.add_argument("--repo", help="a local demucs model repository folder (nothing is downloaded)")
    parser.add_argument("-o", "--outdir", required=True, help="writes model.onnx and model.json here")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--check", action="store_true", help="compare onnxruntime with PyTorch after exporting")
    args = parser.parse_args(argv)
    model = _load(args)
    out = Path(args.outdir)
    manifest = export(model, out, opset=args.opset)
    print(f"wrote {out / 'model.onnx'} (sha256 {manifest['sha256']}) and {out / 'model.json'}")
    if args.check:
        print(f"max |onnxruntime - torch| = {check(model, out):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
