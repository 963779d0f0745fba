"""Files that are not scores fail with one of four stable codes, before or inside music21."""

from __future__ import annotations

import zipfile

import pytest

pytest.importorskip("music21")

import melody_scores.loader as loader  # noqa: E402
from melody_scores import ScoreError, analyse, load  # noqa: E402

from .builders import melody, write  # noqa: E402


def code_of(path) -> str:
    with pytest.raises(ScoreError) as info:
        analyse(path)
    return info.value.code


def test_unknown_extension_is_unsupported(tmp_path):
    path = tmp_path / "song.mp3"
    path.write_bytes(b"ID3" + b"\0" * 100)
    assert code_of(path) == "score_unsupported"


def test_empty_file_is_empty(tmp_path):
    path = tmp_path / "empty.musicxml"
    path.write_bytes(b"")
    assert code_of(path) == "score_empty"


def test_garbage_midi_is_corrupt(tmp_path):
    path = tmp_path / "bad.mid"
    path.write_bytes(b"not a midi file at all" * 10)
    assert code_of(path) == "score_corrupt"


def test_truncated_midi_is_corrupt(tmp_path):
    good = write(melody(["C4", "D4", "E4", "F4"]), tmp_path / "good.mid").read_bytes()
    path = tmp_path / "cut.mid"
    path.write_bytes(good[:30])
    assert code_of(path) == "score_corrupt"


def test_broken_xml_is_corrupt(tmp_path):
    path = tmp_path / "broken.musicxml"
    path.write_text('<?xml version="1.0"?><score-partwise><part-list><score-part id="P1">')
    assert code_of(path) == "score_corrupt"


def test_xml_with_entities_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.xml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><score-partwise>&lol;</score-partwise>')
    assert code_of(path) == "score_corrupt"


def test_mxl_that_is_not_a_zip_is_corrupt(tmp_path):
    path = tmp_path / "fake.mxl"
    path.write_bytes(b"<score-partwise/>")
    assert code_of(path) == "score_corrupt"


def test_mxl_that_unpacks_too_large_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_UNPACKED_BYTES", 1000)
    path = tmp_path / "big.mxl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("score.xml", "<a/>" + " " * 5000)
    assert code_of(path) == "score_too_large"


def test_a_file_over_the_size_limit_is_too_large(tmp_path, monkeypatch):

    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 100)
    path = write(melody(["C4", "D4"]), tmp_path / "ok.musicxml")
    assert code_of(path) == "score_too_large"


def test_a_score_without_notes_is_empty(tmp_path):
    path = write(melody([None, None, None, None]), tmp_path / "rests.musicxml")
    assert code_of(path) == "score_empty"


def test_a_valid_mxl_loads(tmp_path):
    xml = write(melody(["C4", "E4", "G4", "C5"]), tmp_path / "in.musicxml")
    path = tmp_path / "packed.mxl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("META-INF/container.xml",
                         '<?xml version="1.0"?><container><rootfiles><rootfile full-path="score.xml"/></rootfiles></container>')
        archive.writestr("score.xml", xml.read_text())
    assert len(load(path).recurse().notes) == 4


def test_score_error_refuses_unknown_codes():
    with pytest.raises(ValueError):
        ScoreError("nope", "x")
    assert ScoreError("score_empty", "m").to_dict() == {"code": "score_empty", "message": "m"}
