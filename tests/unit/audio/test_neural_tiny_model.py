"""A tiny model of HT-Demucs' architecture, built and exported by the tests (random weights).

Like HT-Demucs it has a time-domain branch (a strided conv encoder and a transposed-conv
decoder), a spectrogram branch (an STFT as a conv with a windowed DFT basis, magnitude masks,
the inverse as a transposed conv, so it lives inside the ONNX graph as the export tool puts it)
and a transformer cross-attention between the two branches' tokens. Four sources, random
weights: the outputs mean nothing, but every piece of the engine around the model is real.

Other test modules import :func:`export_tiny_hybrid` and :func:`export_gain_model`; the tests
here check the exports themselves. torch is in the ``dev`` extra: without it these are skipped.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

SOURCES = ["drums", "bass", "other", "vocals"]  # HT-Demucs' output order


def _torch():
    return pytest.importorskip("torch", reason="torch (dev extra) builds the tiny test model")


def _write_manifest(folder: Path, *, sources, sample_rate, channels, segment_s, overlap, normalisation, name) -> Path:
    model = folder / "model.onnx"
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    manifest = {
        "format": 1, "name": name, "sources": list(sources), "sample_rate": sample_rate, "channels": channels,
        "segment_s": segment_s, "overlap": overlap, "normalisation": normalisation, "sha256": sha,
    }
    (folder / "model.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


def _export(module, folder: Path, channels: int, segment: int) -> None:
    torch = _torch()
    folder.mkdir(parents=True, exist_ok=True)
    module.eval()
    example = torch.randn(1, channels, segment)
    with torch.no_grad():
        torch.onnx.export(
            module, (example,), str(folder / "model.onnx"), input_names=["mix"], output_names=["sources"],
            dynamic_axes={"mix": {0: "batch"}, "sources": {0: "batch"}}, opset_version=17, dynamo=False,
        )


def tiny_hybrid_module(channels: int = 2, sources: int = 4, hidden: int = 16, n_fft: int = 64, hop: int = 16, seed: int = 0):
    torch = _torch()
    nn = torch.nn
    torch.manual_seed(seed)

    class TinyHybrid(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c, self.s, self.f = channels, sources, n_fft // 2 + 1
            n = torch.arange(n_fft, dtype=torch.float32)
            k = torch.arange(self.f, dtype=torch.float32)[:, None]
            window = torch.hann_window(n_fft, periodic=True)
            angle = 2 * math.pi * k * n / n_fft
            basis = torch.cat([torch.cos(angle), -torch.sin(angle)]) * window  # (2F, n_fft)
            self.register_buffer("dft", basis[:, None, :])
            # inverse: a synthesis basis for overlap-add (scaled for a Hann window at hop n_fft/4)
            self.register_buffer("idft", (basis * (2.0 / (n_fft * 1.5)))[:, None, :])
            self.time_enc = nn.Conv1d(channels, hidden, 8, stride=4, padding=2)
            self.spec_enc = nn.Conv1d(channels * self.f, hidden, 1)
            self.cross_t = nn.MultiheadAttention(hidden, 2, batch_first=True)
            self.cross_s = nn.MultiheadAttention(hidden, 2, batch_first=True)
            self.norm_t = nn.LayerNorm(hidden)
            self.norm_s = nn.LayerNorm(hidden)
            self.time_dec = nn.ConvTranspose1d(hidden, sources * channels, 8, stride=4, padding=2)
            self.mask = nn.Conv1d(hidden, sources * channels * self.f, 1)

        def forward(self, mix):
            b, c, length = mix.shape
            # spectrogram branch: STFT as a strided conv with the windowed DFT basis
            z = nn.functional.conv1d(mix.reshape(b * c, 1, length), self.dft, stride=hop, padding=n_fft // 2)
            frames = z.shape[-1]
            re, im = z[:, : self.f], z[:, self.f :]
            mag = torch.sqrt(re * re + im * im + 1e-8).reshape(b, c * self.f, frames)
            s_tok = self.spec_enc(mag).transpose(1, 2)  # (b, frames, hidden)
            # time branch
            t_tok = nn.functional.gelu(self.time_enc(mix)).transpose(1, 2)  # (b, length/4, hidden)
            # cross-attention both ways (HT-Demucs' cross-domain transformer, one layer)
            t_att = self.norm_t(t_tok + self.cross_t(t_tok, s_tok, s_tok, need_weights=False)[0])
            s_att = self.norm_s(s_tok + self.cross_s(s_tok, t_tok, t_tok, need_weights=False)[0])
            time_out = self.time_dec(t_att.transpose(1, 2)).reshape(b, self.s, c, length)
            masks = torch.sigmoid(self.mask(s_att.transpose(1, 2))).reshape(b, self.s, c, self.f, frames)
            re_m = (masks * re.reshape(b, 1, c, self.f, frames)).reshape(b * self.s * c, self.f, frames)
            im_m = (masks * im.reshape(b, 1, c, self.f, frames)).reshape(b * self.s * c, self.f, frames)
            spec = torch.cat([re_m, im_m], dim=1)
            spec_out = nn.functional.conv_transpose1d(spec, self.idft, stride=hop, padding=n_fft // 2)
            return time_out + spec_out.reshape(b, self.s, c, length)

    return TinyHybrid()


def gain_module(gains: list[float]):
    """Source ``i`` = ``gains[i]`` x the mix: all ones is the identity per source."""
    torch = _torch()

    class Gains(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("g", torch.tensor(gains, dtype=torch.float32).reshape(1, len(gains), 1, 1))

        def forward(self, mix):
            return mix.unsqueeze(1) * self.g

    return Gains()


def export_tiny_hybrid(folder: Path, *, sample_rate: int = 44100, channels: int = 2, segment_s: float = 8192 / 44100,
                       overlap: float = 0.25, sources=SOURCES, seed: int = 0) -> Path:
    segment = int(round(segment_s * sample_rate))
    assert segment % 16 == 0, "the tiny model's hop and encoder stride need a multiple of 16 samples"
    _export(tiny_hybrid_module(channels, len(sources), seed=seed), folder, channels, segment)
    return _write_manifest(folder, sources=sources, sample_rate=sample_rate, channels=channels, segment_s=segment_s,
                           overlap=overlap, normalisation="mix_mean_std", name="tiny-hybrid")


def export_gain_model(folder: Path, gains: list[float], *, sample_rate: int = 44100, channels: int = 2,
                      segment_s: float = 0.25, overlap: float = 0.25, sources=SOURCES,
                      normalisation: str = "mix_mean_std") -> Path:
    segment = int(round(segment_s * sample_rate))
    _export(gain_module(gains), folder, channels, segment)
    return _write_manifest(folder, sources=sources, sample_rate=sample_rate, channels=channels, segment_s=segment_s,
                           overlap=overlap, normalisation=normalisation, name="gains")


def test_the_tiny_hybrid_exports_and_onnxruntime_matches_torch(tmp_path):
    torch = _torch()
    import onnxruntime as ort

    folder = export_tiny_hybrid(tmp_path / "m")
    manifest = json.loads((folder / "model.json").read_text())
    seg = int(round(manifest["segment_s"] * 44100))
    x = np.random.default_rng(1).standard_normal((3, 2, seg)).astype(np.float32)
    got = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"]).run(None, {"mix": x})[0]
    assert got.shape == (3, 4, 2, seg)
    module = tiny_hybrid_module()
    with torch.no_grad():
        want = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
    assert manifest["sha256"] == hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()
    # the architecture is really hybrid: the graph has the DFT conv, the attention and the transposed convs
    import onnx

    ops = {node.op_type for node in onnx.load(str(folder / "model.onnx")).graph.node}
    assert {"Conv", "ConvTranspose", "MatMul", "Softmax", "Sigmoid"} <= ops


def test_the_export_tools_real_valued_stft_matches_torch_stft_and_inverts():
    """devtools/melody_dev/export_demucs.py puts HT-Demucs' STFT/iSTFT in the graph as convolutions:
    they must equal demucs.spec.spectro/ispectro (torch.stft/istft, normalized, centred, reflect)."""
    torch = _torch()
    from melody_dev.export_demucs import real_istft, real_stft

    n_fft, hop, length = 256, 64, 4000
    x = torch.randn(2, 2, length)
    z = real_stft(x, n_fft, hop)
    want = torch.stft(x.reshape(-1, length), n_fft, hop, window=torch.hann_window(n_fft), win_length=n_fft, normalized=True,
                      center=True, return_complex=True, pad_mode="reflect")
    want = torch.view_as_real(want).reshape(2, 2, n_fft // 2 + 1, -1, 2)
    torch.testing.assert_close(z, want, atol=1e-4, rtol=1e-4)
    back = real_istft(z, n_fft, hop, length)
    torch.testing.assert_close(back, x, atol=1e-4, rtol=1e-4)
    reference = torch.istft(torch.view_as_complex(want.reshape(4, n_fft // 2 + 1, -1, 2).contiguous()), n_fft, hop,
                            window=torch.hann_window(n_fft), normalized=True, center=True, length=length)
    torch.testing.assert_close(back.reshape(4, length), reference, atol=1e-4, rtol=1e-4)
