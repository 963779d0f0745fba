"""Results are keyed by what they depend on besides the song: the engine's version (the neural
engine: its weights) and the analysis' version. A new revision never reuses (or overwrites) old
stems and analyses, and a re-upload after an upgrade gets the new ones."""

from __future__ import annotations

import json
import re
import sys
from typing import get_args

import pytest

import melody_audio
from melody.conversions.models import AudioResult, Engine, result_key_for
from melody.core.services import neural_weights_revision, result_revisions
from melody_audio.separate import DspEngine
from tests.support.songs import song_wav
from tests.unit.conversions.test_pipeline_steps import PROBED, make_steps, needs_ffmpeg, state

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


class _Settings:
    def __init__(self, **kw: object) -> None:
        self.__dict__.update(kw)


ANALYSIS = f"a{melody_audio.__version__}"


def dsp_result(key: str) -> AudioResult:
    return AudioResult(result_key=key, content_hash=HASH, engine="dsp", engine_version="1.0.0",
                       instrumental_key="stems/old/instrumental.m4a", vocals_key="stems/old/vocals.m4a",
                       waveform_key="w", analysis_key="a", analysis={}, created_at=1.0)  # fmt: skip


def test_dsp_keys_carry_the_dsp_and_analysis_versions_not_a_neural_revision(tmp_path):
    steps, _, _ = make_steps(tmp_path, engine_revisions=result_revisions(_Settings(neural_weights_sha256=NEW)))
    assert steps._result_key(HASH, "dsp") == f"{HASH}#dsp@{DspEngine.version}.{ANALYSIS}"
    assert NEW[:16] not in steps._result_key(HASH, "dsp")


def test_every_engine_the_pipeline_accepts_has_a_revision_with_the_analysis_version():
    revisions = result_revisions(_Settings())
    assert set(revisions) == set(get_args(Engine))
    assert revisions == {"dsp": f"{DspEngine.version}.{ANALYSIS}", "lalal": ANALYSIS,
                         "neural": ANALYSIS, "demucs": ANALYSIS}  # fmt: skip
    assert ANALYSIS == "a0.2.0" and revisions["dsp"] == "1.1.0.a0.2.0"  # this release: the new analysis


def test_a_neural_key_carries_the_weights_and_the_analysis_version():
    revisions = result_revisions(_Settings(neural_weights_sha256=NEW, neural_weights="s3://b/m"))
    assert revisions["neural"] == revisions["demucs"] == f"{NEW[:16]}.{ANALYSIS}"
    assert result_key_for(HASH, "neural", revisions["neural"]) == f"{HASH}#neural@{NEW[:16]}.{ANALYSIS}"


def test_bumping_either_version_changes_the_key(monkeypatch):
    settings = _Settings(neural_weights_sha256=NEW)
    before = result_revisions(settings)
    monkeypatch.setattr(DspEngine, "version", "1.2.0")
    dsp_bumped = result_revisions(settings)
    assert dsp_bumped["dsp"] == f"1.2.0.{ANALYSIS}"
    assert {e: r for e, r in dsp_bumped.items() if e != "dsp"} == {e: r for e, r in before.items() if e != "dsp"}
    monkeypatch.setattr(melody_audio, "__version__", "0.3.0")
    weights = f"{NEW[:16]}.a0.3.0"
    assert result_revisions(settings) == {"dsp": "1.2.0.a0.3.0", "lalal": "a0.3.0", "neural": weights, "demucs": weights}
    assert result_key_for(HASH, "lalal", "a0.3.0") != result_key_for(HASH, "lalal", before["lalal"])


def test_revisions_use_only_characters_safe_in_s3_keys_and_urls(monkeypatch):
    monkeypatch.setattr(DspEngine, "version", "1.2.0+local build")
    monkeypatch.setattr(melody_audio, "__version__", "0.3.0+dirty")
    revisions = result_revisions(_Settings(neural_weights_sha256=NEW))
    assert revisions["dsp"] == "1.2.0-local-build.a0.3.0-dirty"
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", r) for r in revisions.values())


def test_without_the_audio_layer_only_the_neural_weights_revision(monkeypatch):
    """The API functions do not ship the audio layer and never compute a result key."""
    monkeypatch.setitem(sys.modules, "melody_audio", None)  # import melody_audio raises ImportError
    monkeypatch.setitem(sys.modules, "melody_audio.separate.dsp", None)
    assert result_revisions(_Settings(neural_weights_sha256=NEW)) == {"neural": NEW[:16], "demucs": NEW[:16]}
    assert result_revisions(_Settings()) == {}


def test_a_dsp_result_under_the_old_key_is_not_reused_by_a_new_job(tmp_path):
    steps, jobs, _ = make_steps(tmp_path, engine_revisions=result_revisions(_Settings()))
    old_key = f"{HASH}#dsp"  # as results were keyed before the versions were part of the key
    steps._results = results = KeyedResults(dsp_result(old_key))
    with pytest.raises(RuntimeError, match="disappeared"):  # nothing under the new key to reuse
        steps.reuse(state("dsp", **PROBED))
    stems = {"instrumental_key": "stems/new/instrumental.m4a", "vocals_key": "stems/new/vocals.m4a",
             "extra_stem_keys": {}, "engine": "dsp", "engine_version": DspEngine.version}  # fmt: skip
    analysis = {"analysis_key": "a2", "waveform_key": "w", "analysis": {}}
    out = steps.persist(state("dsp", results={"stems": stems, "analysis": analysis}, **PROBED))
    new_key = f"{HASH}#dsp@{DspEngine.version}.{ANALYSIS}"
    assert out["result_key"] == new_key and jobs.changes[-1][1]["result_key"] == new_key
    assert results.by_key[old_key].vocals_key == "stems/old/vocals.m4a"  # untouched: its jobs still serve it


@needs_ffmpeg
def test_the_probe_offers_only_a_result_of_the_current_versions(tmp_path):
    body = song_wav(2, seed=21)
    steps, _, _ = make_steps(tmp_path, body, engine_revisions=result_revisions(_Settings()))
    import hashlib

    digest = hashlib.sha256(body).hexdigest()
    steps._results = results = KeyedResults(dsp_result(f"{digest}#dsp"))
    assert steps.probe(state("dsp"))["cached"] is False  # the old result: separated and analysed again
    current = f"{digest}#dsp@{DspEngine.version}.{ANALYSIS}"
    results.by_key[current] = dsp_result(current)
    assert steps.probe(state("dsp"))["cached"] is True


@needs_ffmpeg
def test_stems_and_analysis_of_a_new_revision_go_beside_the_old_ones(tmp_path):
    """Their folders carry the revision: deleting an old result (its last job) deletes its own
    ``analysis/<hash>/dsp/analysis.json`` and stems, never the new result's."""
    revisions = result_revisions(_Settings())
    steps, _, storage = make_steps(tmp_path, song_wav(3, seed=8), engine_revisions=revisions)
    folder = f"dsp@{revisions['dsp']}"
    analysed = steps.analyse(state("dsp", **PROBED))
    separated = steps.separate(state("dsp", **PROBED))
    assert analysed["analysis_key"] == f"analysis/{HASH}/{folder}/analysis.json"
    assert separated["vocals_key"] == f"stems/{HASH}/{folder}/vocals.m4a"
    assert ("media", analysed["analysis_key"]) in storage.json
    assert analysed["waveform_key"] == f"analysis/{HASH}/waveform.json"  # shared by every engine, never deleted


def test_the_revision_is_the_configured_checksum_else_the_local_manifest(tmp_path):
    assert neural_weights_revision(_Settings(neural_weights_sha256=NEW.upper(), neural_weights="s3://b/m")) == NEW[:16]
    (tmp_path / "model.json").write_text(json.dumps({"sha256": OLD}))
    assert neural_weights_revision(_Settings(neural_weights=str(tmp_path))) == OLD[:16]
    assert neural_weights_revision(_Settings(demucs_weights_path=tmp_path)) == OLD[:16]  # the former setting
    assert neural_weights_revision(_Settings()) is None
    assert neural_weights_revision(_Settings(neural_weights="s3://b/m")) is None  # s3 needs the checksum setting
    assert neural_weights_revision(_Settings(neural_weights=str(tmp_path / "missing"))) is None
