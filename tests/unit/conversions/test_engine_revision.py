"""The neural engine's results are keyed by its weights: new weights never reuse (or overwrite) old stems."""

from __future__ import annotations

import json

import pytest

from melody.conversions.models import AudioResult, result_key_for
from melody.core.services import neural_weights_revision
from tests.unit.conversions.test_pipeline_steps import PROBED, make_steps, state

HASH = "ab" * 32
OLD, NEW = "11" * 32, "22" * 32


class KeyedResults:
    """Results by key, as the results table holds them."""

    def __init__(self, *stored: AudioResult) -> None:
        self.by_key = {r.result_key: r for r in stored}

    def get(self, result_key: str) -> AudioResult | None:
        return self.by_key.get(result_key)

    def put_if_absent(self, result: AudioResult) -> bool:
        return self.by_key.setdefault(result.result_key, result) is result

    def add_stems(self, result: AudioResult) -> bool:
        return False


def neural_result(key: str) -> AudioResult:
    return AudioResult(result_key=key, content_hash=HASH, engine="neural", engine_version="1",
                       instrumental_key="stems/old/instrumental.m4a", vocals_key="stems/old/vocals.m4a",
                       waveform_key="w", analysis_key="a", analysis={}, created_at=1.0)  # fmt: skip


def test_the_result_key_carries_a_revision_only_when_there_is_one():
    assert result_key_for(HASH, "dsp") == f"{HASH}#dsp"
    assert result_key_for(HASH, "neural", None) == f"{HASH}#neural"
    assert result_key_for(HASH, "neural", "2222") == f"{HASH}#neural@2222"


def test_persist_keys_a_neural_result_by_the_weights_and_never_links_the_old_weights_result(tmp_path):
    steps, jobs, _ = make_steps(tmp_path, engine_revisions={"neural": NEW[:16]})
    old_key = result_key_for(HASH, "neural", OLD[:16])
    steps._results = results = KeyedResults(neural_result(old_key))
    stems = {"instrumental_key": "stems/new/instrumental.m4a", "vocals_key": "stems/new/vocals.m4a",
             "extra_stem_keys": {}, "engine": "neural", "engine_version": "1"}  # fmt: skip
    analysis = {"analysis_key": "a", "waveform_key": "w", "analysis": {}}
    out = steps.persist(state("neural", results={"stems": stems, "analysis": analysis}, **PROBED))
    new_key = f"{HASH}#neural@{NEW[:16]}"
    assert out["result_key"] == new_key and jobs.changes[-1][1]["result_key"] == new_key
    assert results.by_key[new_key].vocals_key == "stems/new/vocals.m4a"
    assert results.by_key[old_key].vocals_key == "stems/old/vocals.m4a"  # untouched: earlier jobs still serve it


def test_reuse_reads_the_result_of_the_current_weights(tmp_path):
    steps, _, _ = make_steps(tmp_path, engine_revisions={"neural": NEW[:16]})
    steps._results = KeyedResults(neural_result(result_key_for(HASH, "neural", OLD[:16])))
    with pytest.raises(RuntimeError, match="disappeared"):  # only the old weights' result exists
        steps.reuse(state("neural", **PROBED))


def test_dsp_keys_are_unchanged_by_a_neural_revision(tmp_path):
    steps, _, _ = make_steps(tmp_path, engine_revisions={"neural": NEW[:16]})
    assert steps._result_key(HASH, "dsp") == f"{HASH}#dsp"


class _Settings:
    def __init__(self, **kw: object) -> None:
        self.__dict__.update(kw)


def test_the_revision_is_the_configured_checksum_else_the_local_manifest(tmp_path):
    assert neural_weights_revision(_Settings(neural_weights_sha256=NEW.upper(), neural_weights="s3://b/m")) == NEW[:16]
    (tmp_path / "model.json").write_text(json.dumps({"sha256": OLD}))
    assert neural_weights_revision(_Settings(neural_weights=str(tmp_path))) == OLD[:16]
    assert neural_weights_revision(_Settings(demucs_weights_path=tmp_path)) == OLD[:16]  # the former setting
    assert neural_weights_revision(_Settings()) is None
    assert neural_weights_revision(_Settings(neural_weights="s3://b/m")) is None  # s3 needs the checksum setting
    assert neural_weights_revision(_Settings(neural_weights=str(tmp_path / "missing"))) is None
