"""The neural engine on models exported by the tests: loading, checksums, chunking, overlap-add,
stem mapping, the memory guard, S3 weights and the CLI (``melody process --engine neural``)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import melody_audio as ma
from melody_audio import Audio, AudioError
from melody_audio.separate.neural import NeuralEngine, chunk_offsets, resolve, song_bytes, triangular_window
from tests.unit.audio.test_neural_tiny_model import export_gain_model, export_tiny_hybrid

pytest.importorskip("torch", reason="torch (dev extra) builds the test models")

SR = 44100


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    return export_gain_model(tmp_path_factory.mktemp("identity"), [1.0, 1.0, 1.0, 1.0])


@pytest.fixture(scope="module")
def gains(tmp_path_factory):
    # no normalisation: with it every source gets the mix's mean back (as demucs.separate does)
    return export_gain_model(tmp_path_factory.mktemp("gains"), [0.1, 0.2, 0.3, 0.4], normalisation="none")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return export_tiny_hybrid(tmp_path_factory.mktemp("tiny"))


def music(seconds: float, channels: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * rng.standard_normal(t.size) + 0.05  # a DC offset: normalisation matters
    return np.stack([x * (1 - 0.2 * c) for c in range(channels)]).astype(np.float32)


# -- overlap-add: exact ---------------------------------------------------------------------

@pytest.mark.parametrize("seconds", [0.1, 0.25, 1.0, 1.37])  # shorter than, equal to and many segments
def test_an_identity_model_gives_back_the_input_through_the_chunking(identity, seconds):
    x = music(seconds)
    stems = ma.separate(Audio(x, SR), engine="neural", weights=str(identity))
    np.testing.assert_allclose(stems.vocals, x, atol=2e-6)
    for name in ("drums", "bass", "other"):
        np.testing.assert_allclose(stems.extras[name], x, atol=2e-6)
    np.testing.assert_allclose(stems.instrumental, 3 * x, atol=6e-6)


def test_overlap_add_is_exact_for_any_overlap_and_batch(tmp_path):
    x = music(0.9, seed=3)
    for overlap, batch in ((0.0, 1), (0.5, 3), (0.1, 2)):
        folder = export_gain_model(tmp_path / f"m{overlap}", [1.0] * 4, segment_s=0.2, overlap=overlap, normalisation="none")
        stems = NeuralEngine(weights=folder, batch_size=batch).separate(Audio(x, SR))
        np.testing.assert_allclose(stems.vocals, x, atol=2e-6)


def test_stems_map_by_name_and_the_instrumental_is_the_non_vocal_sum(gains):
    x = music(0.8)
    stems = NeuralEngine(weights=gains).separate(Audio(x, SR))  # order: drums .1, bass .2, other .3, vocals .4
    assert stems.engine == "neural" and stems.names() == ["instrumental", "vocals", "drums", "bass", "other"]
    np.testing.assert_allclose(stems.vocals, 0.4 * x, atol=2e-6)
    np.testing.assert_allclose(stems.extras["drums"], 0.1 * x, atol=2e-6)
    np.testing.assert_allclose(stems.extras["bass"], 0.2 * x, atol=2e-6)
    np.testing.assert_allclose(stems.extras["other"], 0.3 * x, atol=2e-6)
    np.testing.assert_allclose(stems.instrumental + stems.vocals, x, atol=5e-6)
    sha = json.loads((gains / "model.json").read_text())["sha256"]
    assert stems.engine_version == f"onnx-{sha[:12]}" == NeuralEngine(weights=gains).version


def test_chunk_offsets_and_window_cover_every_sample():
    for n, seg, ov in ((100, 40, 0.25), (40, 40, 0.25), (10, 40, 0.5), (1000, 64, 0.0)):
        offs = chunk_offsets(n, seg, ov)
        covered = np.zeros(n, bool)
        for o in offs:
            covered[o : o + seg] = True
        assert covered.all() and offs[-1] + seg >= n and offs == sorted(set(offs))
    w = triangular_window(64)
    assert w.min() > 0 and w.max() == 1 and np.allclose(w, w[::-1])


# -- the tiny hybrid model -------------------------------------------------------------------

def test_the_tiny_hybrid_model_separates_stereo_and_mono_songs(tiny):
    x = music(1.1)
    stems = NeuralEngine(weights=tiny / "model.onnx").separate(Audio(x, SR))
    assert stems.vocals.shape == x.shape and set(stems.extras) == {"drums", "bass", "other"}
    assert all(np.isfinite(stems.stem(n)).all() and np.abs(stems.stem(n)).max() > 0 for n in stems.names())
    np.testing.assert_allclose(stems.instrumental, sum(stems.extras.values()), atol=1e-5)
    batched = NeuralEngine(weights=tiny, batch_size=4).separate(Audio(x, SR))
    np.testing.assert_allclose(batched.vocals, stems.vocals, atol=1e-5)  # batching chunks changes nothing
    mono = NeuralEngine(weights=tiny).separate(Audio(x[:1], SR))
    assert mono.vocals.shape == (1, x.shape[1])


def test_a_model_at_another_rate_is_fed_resampled_audio(tmp_path):
    folder = export_gain_model(tmp_path / "m", [0.0, 0.0, 0.0, 1.0], sample_rate=22050, segment_s=0.2)
    t = np.arange(int(0.7 * SR)) / SR
    x = np.stack([0.5 * np.sin(2 * np.pi * 440 * t)] * 2).astype(np.float32)
    stems = NeuralEngine(weights=folder).separate(Audio(x, SR))
    assert stems.vocals.shape == x.shape and stems.sample_rate == SR
    inner = slice(2000, -2000)  # away from the resampler's edges
    np.testing.assert_allclose(stems.vocals[:, inner], x[:, inner], atol=2e-3)
    assert np.abs(stems.instrumental).max() < 1e-4  # silent sources (plus the mix mean, tiny here)


# -- configuration failures: clear codes -----------------------------------------------------

def code_of(fn) -> str:
    with pytest.raises(AudioError) as exc:
        fn()
    return exc.value.code


def test_missing_weights_are_model_missing(tmp_path, identity, monkeypatch):
    monkeypatch.delenv("MELODY_NEURAL_WEIGHTS", raising=False)
    audio = Audio(music(0.3), SR)
    assert code_of(lambda: NeuralEngine().separate(audio)) == "model_missing"
    assert code_of(lambda: NeuralEngine(weights=tmp_path / "nope.onnx").separate(audio)) == "model_missing"
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy(identity / "model.onnx", lonely / "model.onnx")  # no model.json beside it
    assert code_of(lambda: NeuralEngine(weights=lonely).separate(audio)) == "model_missing"
    assert code_of(lambda: ma.separate(audio, engine="demucs", weights_path=str(tmp_path / "x"))) == "model_missing"


def test_a_checksum_mismatch_refuses_to_load(tmp_path, identity):
    audio = Audio(music(0.3), SR)
    assert code_of(lambda: NeuralEngine(weights=identity, weights_sha256="0" * 64).separate(audio)) == "model_checksum_mismatch"
    tampered = tmp_path / "tampered"
    shutil.copytree(identity, tampered)
    with open(tampered / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    assert code_of(lambda: NeuralEngine(weights=tampered).separate(audio)) == "model_checksum_mismatch"
    sha = json.loads((identity / "model.json").read_text())["sha256"]
    assert NeuralEngine(weights=identity, weights_sha256=sha.upper()).separate(audio).vocals.shape == audio.samples.shape


def test_the_memory_guard_refuses_before_loading(identity):
    long = Audio(np.zeros((2, 15 * 60 * SR // 100), np.float32) + 0.1, SR)
    engine = NeuralEngine(weights=identity, memory_budget_mb=1)
    with pytest.raises(AudioError) as exc:
        engine.separate(long)
    assert exc.value.code == "model_out_of_memory" and exc.value.details["budget_mb"] == 1
    # the estimate for a 15-minute stereo song at 44.1 kHz: ~138 MB a minute for the song's arrays
    per_minute = song_bytes(60 * SR, 2, 4) / 2**20
    assert 130 < per_minute < 140
    assert NeuralEngine(weights=identity, memory_budget_mb=4096).check_memory(engine.model().manifest, 0, 15 * 60 * SR) < 4096 * 2**20


def test_a_bad_manifest_is_model_invalid(tmp_path, identity):
    broken = tmp_path / "broken"
    shutil.copytree(identity, broken)
    data = json.loads((broken / "model.json").read_text())
    (broken / "model.json").write_text(json.dumps({**data, "sources": ["drums", "bass"]}))  # no vocals
    assert code_of(lambda: NeuralEngine(weights=broken).separate(Audio(music(0.3), SR))) == "model_invalid"
    wrong_shape = tmp_path / "wrong"
    shutil.copytree(identity, wrong_shape)
    (wrong_shape / "model.json").write_text(json.dumps({**data, "sources": ["vocals", "other"]}))  # the graph gives 4
    assert code_of(lambda: NeuralEngine(weights=wrong_shape).separate(Audio(music(0.3), SR))) == "model_invalid"


class FakeS3:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files, self.calls = files, []

    def download_file(self, bucket, key, filename):
        self.calls.append((bucket, key))
        if key not in self.files:
            raise FileNotFoundError(key)
        with open(filename, "wb") as handle:
            handle.write(self.files[key])


def test_s3_weights_are_fetched_once_into_the_cache_and_verified(tmp_path, identity):
    sha = json.loads((identity / "model.json").read_text())["sha256"]
    s3 = FakeS3({"models/v1/model.onnx": (identity / "model.onnx").read_bytes(),
                 "models/v1/model.json": (identity / "model.json").read_bytes()})
    uri = "s3://weights-bucket/models/v1/model.onnx"
    cache = tmp_path / "cache"
    first = resolve(uri, expected_sha256=sha, cache_dir=cache, s3_client=lambda: s3)
    again = resolve(uri, expected_sha256=sha, cache_dir=cache, s3_client=lambda: s3)
    assert first == again and first.model_path == cache / sha / "model.onnx"
    assert s3.calls == [("weights-bucket", "models/v1/model.json"), ("weights-bucket", "models/v1/model.onnx")]
    x = music(0.3)
    stems = NeuralEngine(weights=uri, weights_sha256=sha, cache_dir=cache, s3_client=lambda: s3).separate(Audio(x, SR))
    np.testing.assert_allclose(stems.vocals, x, atol=2e-6)
    assert len(s3.calls) == 2  # a warm container never fetches again
    # no configured checksum: remote weights are not trusted
    assert code_of(lambda: resolve(uri, cache_dir=cache, s3_client=lambda: s3)) == "model_missing"
    # the object is not there
    assert code_of(lambda: resolve("s3://b/other/model.onnx", expected_sha256="1" * 64, cache_dir=cache,
                                   s3_client=lambda: s3)) == "model_missing"
    # the bucket holds other bytes than the configured checksum
    evil = FakeS3({"m/model.onnx": b"not a model", "m/model.json": (identity / "model.json").read_bytes()})
    assert code_of(lambda: resolve("s3://b/m/model.onnx", expected_sha256=sha, cache_dir=tmp_path / "c2",
                                   s3_client=lambda: evil)) == "model_checksum_mismatch"


def test_cuda_is_refused_clearly_where_onnxruntime_has_none(identity):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    assert NeuralEngine(weights=identity, device="auto").providers() == ["CPUExecutionProvider"]
    assert code_of(lambda: NeuralEngine(weights=identity, device="cuda").separate(Audio(music(0.3), SR))) == "engine_unavailable"
    assert code_of(lambda: NeuralEngine(device="tpu")) == "invalid_argument"


# -- the CLI --------------------------------------------------------------------------------

@pytest.mark.usefixtures("ffmpeg")
def test_melody_process_with_the_neural_engine_writes_four_stems_and_the_instrumental(tmp_path, tiny, synth, capsys):
    from melody_dev.cli import main

    song = synth.write_audio(tmp_path / "song.wav", synth.tone(330, seconds=1.5))
    out = tmp_path / "out"
    assert main(["process", str(song), "-o", str(out), "--format", "wav", "--engine", "neural", "--weights", str(tiny)]) == 0
    for name in ("instrumental", "vocals", "drums", "bass", "other"):
        assert (out / f"{name}.wav").stat().st_size > 1000
    data = json.loads((out / "analysis.json").read_text())
    assert data["engine"]["name"] == "neural" and data["engine"]["version"].startswith("onnx-")
    assert "drums:" in capsys.readouterr().out
    # a wrong checksum: the clear code, exit status 2, no traceback
    assert main(["process", str(song), "-o", str(out), "--engine", "neural", "--weights", str(tiny),
                 "--weights-sha256", "f" * 64]) == 2
    assert "error: model_checksum_mismatch:" in capsys.readouterr().err
    assert main(["process", str(song), "-o", str(out), "--engine", "dsp", "--weights", str(tiny)]) == 2
