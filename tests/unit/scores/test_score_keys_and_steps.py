"""The key ranking rule, the failure codes the state machine records, and the ASL file's paths
(run by the local runner with in-memory stores: a refused file fails with its code, the rest persist)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("music21")

from melody.scores.models import Score  # noqa: E402
from melody.scores.service import display_title, extension_of, safe_filename  # noqa: E402
from melody.scores.steps import ScoreRejected, ScoreSteps, failure_reason  # noqa: E402
from melody_scores import keys  # noqa: E402

from .builders import C, satb, write  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
C_MAJOR_PROFILE = [("C", "major", 0.80), ("A", "minor", 0.78), ("G", "major", 0.70), ("E", "minor", 0.60)]


def test_the_signature_limits_the_key_to_its_major_and_relative_minor():
    # G major correlates best, but one flat is written: only F major and D minor compete.
    candidates = [("G", "major", 0.9), ("F", "major", 0.6), ("D", "minor", 0.7), ("C", "major", 0.8)]
    ranked = keys.rank_keys(candidates, final_bass_pc=None, final_pcs=set(), signature_sharps=-1)
    assert [(t, m) for t, m, _, _ in ranked[:2]] == [("D", "minor"), ("F", "major")]
    # Without a signature (a MIDI file without a key event) all keys compete.
    free = keys.rank_keys(candidates, final_bass_pc=None, final_pcs=set(), signature_sharps=None)
    assert free[0][:2] == ("G", "major")


def test_an_ending_on_the_tonic_decides_between_relative_keys():
    ranked = keys.rank_keys(C_MAJOR_PROFILE, final_bass_pc=9, final_pcs={9, 0, 4}, signature_sharps=0)
    assert ranked[0][:2] == ("A", "minor")
    ranked = keys.rank_keys(C_MAJOR_PROFILE, final_bass_pc=0, final_pcs={0, 4, 7}, signature_sharps=0)
    assert ranked[0][:2] == ("C", "major")


def test_confidence_is_the_margin_scaled_to_one():
    assert keys.confidence_of(0.9, 0.9) == 0.0
    assert keys.confidence_of(0.9, 0.8) == 0.5
    assert keys.confidence_of(1.5, 0.2) == 1.0


def test_failure_reason_keeps_a_rejected_files_code_and_hides_internals():
    cause = json.dumps({"errorMessage": "score_corrupt: The score could not be read: ZeroDivisionError.", "errorType": "ScoreRejected"})
    expected = ("score_corrupt", "The score could not be read: ZeroDivisionError.")
    assert failure_reason({"Error": "ScoreRejected", "Cause": cause}) == expected
    assert failure_reason({"Error": "States.Timeout"})[0] == "timeout"
    assert failure_reason({"Error": "KeyError", "Cause": "score_corrupt: looks like a code"})[0] == "processing_failed"


def test_file_names():
    assert safe_filename("../../etc/passwd.xml") == "passwd.xml"
    assert safe_filename("Bach – Chorale №1.musicxml") == "Bach _ Chorale _1.musicxml"
    assert display_title("C:\\scores\\Bach – Chorale.MXL") == "Bach – Chorale"
    assert extension_of("a.b.MIDI") == "midi" and extension_of("noext") == ""


# -- the ASL file through the local runner, with in-memory stores ---------------------------------


class MemoryScores:
    def __init__(self, score: Score) -> None:
        self.scores = {score.score_id: score}

    def get(self, score_id):
        return self.scores.get(score_id)

    def transition(self, score_id, *, allowed_from, changes):
        score = self.scores.get(score_id)
        if score is None or score.status not in allowed_from:
            return False
        self.scores[score_id] = Score.model_validate({**score.model_dump(), **changes})
        return True


class FolderStorage:
    """S3 as a folder: ``bucket/key`` files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, bucket, key) -> Path:
        return self.root / bucket / key

    def download(self, bucket, key, path):
        Path(path).write_bytes(self._path(bucket, key).read_bytes())

    def upload(self, path, bucket, key, *, content_type):
        target = self._path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(path).read_bytes())

    def get_json(self, bucket, key):
        path = self._path(bucket, key)
        return json.loads(path.read_text()) if path.exists() else None

    def put_json(self, bucket, key, document):
        target = self._path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document))


class Clock:
    def now(self) -> float:
        return 1000.0


def run_machine(tmp_path: Path, body: bytes, filename: str) -> tuple[dict, Score, FolderStorage]:
    from melody_dev.local.scores import SCORE_MACHINE, build_score_runner

    storage = FolderStorage(tmp_path / "s3")
    original = storage._path("media", f"originals/scores/usr_a/scr_1/etag/{filename}")
    original.parent.mkdir(parents=True, exist_ok=True)
    original.write_bytes(body)
    score = Score(score_id="scr_1", user_id="usr_a", status="queued", filename=filename, title="t", format="musicxml",
                  content_type="x", size_bytes=len(body), bucket="uploads", key="k", original_bucket="media",
                  original_key=f"originals/scores/usr_a/scr_1/etag/{filename}", created_at=1, updated_at=1)  # fmt: skip
    store = MemoryScores(score)
    steps = ScoreSteps(store, storage, Clock(), media_bucket="media", work_dir=tmp_path / "work", max_bytes=10**7)
    runner = build_score_runner(steps)
    try:
        state = {"score_id": "scr_1", "user_id": "usr_a", "bucket": "media", "key": score.original_key, "filename": filename}
        arn = runner.start_execution(SCORE_MACHINE, name="scr_1", input={**state, "format": "musicxml"})
        execution = runner.wait(arn, timeout=120)
    finally:
        runner.shutdown()
    return execution, store.get("scr_1"), storage


def test_the_machine_analyses_then_persists(tmp_path):
    body = write(satb([C[n] for n in ("I", "IV", "V7", "I")]), tmp_path / "p.musicxml").read_bytes()
    execution, score, storage = run_machine(tmp_path, body, "p.musicxml")
    assert execution["status"] == "SUCCEEDED", execution
    assert score.status == "succeeded" and score.summary["key"] == "C major" and score.content_hash
    # the results are the score's own (its delete deletes them), none are written by content hash
    assert score.owned_results and not score.reused
    assert storage.get_json("media", "scores/usr_a/scr_1/analysis.json")["measures"] == 1
    assert sorted(p.name for p in (tmp_path / "s3" / "media" / "scores" / "usr_a" / "scr_1").iterdir()) == [
        "analysis.json", "score.mid", "score.musicxml",
    ]  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "s3" / "media" / "scores").iterdir()) == ["usr_a"]
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())  # scratch removed


def test_a_refused_file_marks_the_score_failed_with_its_code(tmp_path):
    execution, score, _ = run_machine(tmp_path, b"\x00\x01 not xml", "bad.musicxml")
    assert execution["status"] == "FAILED"
    assert score.status == "failed" and score.error.code == "score_corrupt"


def test_score_rejected_carries_its_code():
    assert str(ScoreRejected("score_empty", "No notes.")) == "score_empty: No notes."


def test_the_asl_file_names_exactly_the_three_step_functions():
    text = (ROOT / "statemachines" / "score_analysis.asl.json").read_text()
    assert set(__import__("re").findall(r"\$\{(\w+)\}", text)) == {
        "ScoreAnalyseFunctionArn", "ScorePersistFunctionArn", "ScoreMarkFailedFunctionArn",
    }  # fmt: skip
