"""Issue 14's settings: the engines a deployment offers, and the neural engine's options as the
pipeline's steps receive them (from MELODY_* variables, as CDK sets them)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError


def test_engines_come_from_a_comma_separated_variable_and_include_the_default(monkeypatch):
    from melody.core.settings import PipelineSettings

    monkeypatch.setenv("MELODY_ENGINES", "dsp, neural")
    assert PipelineSettings().offered_engines() == ["dsp", "neural"]
    monkeypatch.setenv("MELODY_ENGINES", "dsp")
    monkeypatch.setenv("MELODY_DEFAULT_ENGINE", "lalal")
    assert PipelineSettings().offered_engines() == ["dsp", "lalal"]
    monkeypatch.setenv("MELODY_ENGINES", "dsp,torchhub")
    with pytest.raises(ValidationError):
        PipelineSettings()


def test_the_steps_get_the_neural_options_and_the_former_name_still_works(monkeypatch, tmp_path):
    from melody.core.services import Services
    from melody.core.settings import PipelineSettings

    sha = "cd" * 32
    monkeypatch.setenv("MELODY_NEURAL_WEIGHTS", "s3://models/htdemucs/model.onnx")
    monkeypatch.setenv("MELODY_NEURAL_WEIGHTS_SHA256", sha)
    monkeypatch.setenv("MELODY_NEURAL_DEVICE", "auto")
    monkeypatch.setenv("MELODY_NEURAL_MEMORY_BUDGET_MB", "9000")
    steps = Services(PipelineSettings(work_dir=tmp_path), workflow=object()).steps
    options = steps._engine_options["neural"]
    assert options == {"weights": "s3://models/htdemucs/model.onnx", "weights_sha256": sha, "device": "auto",
                       "memory_budget_mb": 9000, "batch_size": 1}
    assert steps._engine_options["demucs"] == options
    # the engine built from these options names its version without fetching anything
    from melody_audio import get_engine

    assert get_engine("neural", **options).version == f"onnx-{sha[:12]}"

    monkeypatch.delenv("MELODY_NEURAL_WEIGHTS")
    monkeypatch.setenv("MELODY_DEMUCS_WEIGHTS_PATH", str(tmp_path / "model"))
    steps = Services(PipelineSettings(work_dir=tmp_path), workflow=object()).steps
    assert steps._engine_options["neural"]["weights"] == str(tmp_path / "model")
    with pytest.raises(ValidationError):
        PipelineSettings(neural_weights_sha256="not-hex")
