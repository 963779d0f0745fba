"""The analysis in a job's results is typed in the API: meter, downbeats, tuning and calibrated
confidences are documented, and analyses stored before those fields existed still validate."""

from __future__ import annotations

import json
from pathlib import Path

from melody.conversions.schemas import AnalysisOut

ROOT = Path(__file__).resolve().parents[3]

NEW = {
    "duration_s": 12.0, "sample_rate": 44100, "channels": 2,
    "tempo": {"bpm": 84.0, "confidence": 0.81, "beats": [0.5, 1.21], "downbeats": [0.5],
              "time_signature": "3/4", "beats_per_bar": 3},
    "key": {"tonic": "D", "mode": "minor", "confidence": 0.62, "camelot": "7A", "open_key": "12m",
            "tuning_hz": 437.2, "tuning_cents": -11.1,
            "runner_up": {"tonic": "F", "mode": "major", "camelot": "7B", "open_key": "12d", "probability": 0.21}},
    "loudness": {"integrated_lufs": -14.2, "range_lu": 6.1, "true_peak_dbtp": -1.0},
    "energy": 0.64, "engine": {"name": "dsp", "version": "3"},
}  # fmt: skip


def test_the_engines_analysis_validates_and_keeps_every_field():
    out = AnalysisOut.model_validate(NEW)
    assert out.tempo is not None and out.tempo.time_signature == "3/4" and out.tempo.downbeats == [0.5]
    assert out.key is not None and out.key.tuning_hz == 437.2 and out.key.runner_up is not None
    assert out.model_dump(exclude_none=True) == NEW


def test_an_analysis_stored_before_the_new_fields_still_validates():
    old = {"tempo": {"bpm": 120.0, "confidence": 0.9, "beats": []}, "key": {"tonic": "C", "mode": "major"}}
    out = AnalysisOut.model_validate(old)
    assert out.tempo is not None and out.tempo.time_signature is None and out.key is not None and out.key.tuning_hz is None


def test_the_openapi_document_describes_the_new_fields():
    schemas = json.loads((ROOT / "openapi.json").read_text())["components"]["schemas"]
    assert {"time_signature", "downbeats", "beats_per_bar", "confidence"} <= set(schemas["TempoOut"]["properties"])
    assert {"tuning_hz", "tuning_cents", "runner_up", "confidence"} <= set(schemas["KeyOut"]["properties"])
