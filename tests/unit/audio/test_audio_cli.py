import json

import pytest

from melody_audio import cli

pytestmark = pytest.mark.usefixtures("ffmpeg")


@pytest.fixture
def song(tmp_path, synth):
    x = synth.click_track(120, seconds=4.0) + synth.chord_progression(7, "major", seconds=4.0) * 0.5
    return synth.write_audio(tmp_path / "song.wav", x)


def test_process_writes_stems_and_json(tmp_path, song, capsys):
    out = tmp_path / "out"
    assert cli.main(["process", str(song), "-o", str(out), "--format", "wav"]) == 0
    for name in ("instrumental.wav", "vocals.wav", "analysis.json", "waveform.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    data = json.loads((out / "analysis.json").read_text())
    from melody_audio.separate import DspEngine

    assert data["engine"] == {"name": "dsp", "version": DspEngine.version}  # the engine of the stems
    assert abs(data["tempo"]["bpm"] - 120) < 2.5
    assert data["key"]["camelot"] and data["loudness"]["integrated_lufs"] < 0
    wf = json.loads((out / "waveform.json").read_text())
    assert wf["version"] == 2 and wf["bits"] == 8 and len(wf["data"]) == 2 * wf["length"]
    printed = capsys.readouterr()
    assert "tempo" in printed.out and "instrumental" in printed.out
    assert printed.err == ""  # no progress bar when stderr is not a terminal


def test_process_default_m4a(tmp_path, song):
    out = tmp_path / "o"
    assert cli.main(["process", str(song), "-o", str(out)]) == 0
    assert (out / "instrumental.m4a").is_file() and (out / "vocals.m4a").is_file()


def test_analyze_json_prints_only_json(song, capsys):
    assert cli.main(["analyze", str(song), "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert set(data) == {"duration_s", "sample_rate", "channels", "tempo", "key", "loudness", "energy", "engine"}
    import melody_audio

    # no separation: the analysis engine itself, never null
    assert data["engine"] == {"name": "melody_audio", "version": melody_audio.__version__}


def test_errors_exit_2_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.mp3"
    bad.write_text("hello")
    assert cli.main(["analyze", str(bad), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: not_audio: the input is not a recognised audio or media file"
    assert cli.main(["process", str(bad), "-o", str(tmp_path / "x")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_too_long_and_unavailable_engine(tmp_path, song, capsys, monkeypatch):
    assert cli.main(["analyze", str(song), "--max-duration", "2"]) == 2
    assert capsys.readouterr().err.startswith("error: too_long: ")
    monkeypatch.delenv("MELODY_LALAL_LICENSE_KEY", raising=False)
    assert cli.main(["process", str(song), "-o", str(tmp_path / "y"), "--engine", "lalal"]) == 2
    assert capsys.readouterr().err.startswith("error: engine_unavailable: ")


def test_progress_bar_on_a_terminal():
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    s = Tty()
    p = cli.Progress(["a", "b"], stream=s)
    p.start("a")
    p.start("b")
    p.done()
    text = s.getvalue()
    assert "1/2 a" in text and "2/2 done" in text and text.endswith("\n")


def test_register_adds_subcommands():
    import argparse

    parser = argparse.ArgumentParser(prog="melody")
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    args = parser.parse_args(["process", "in.mp3", "-o", "out", "--format", "wav", "--engine", "lalal"])
    assert args.func is cli.cmd_process and args.format == "wav" and args.engine == "lalal"
    args = parser.parse_args(["analyze", "in.mp3", "--json"])
    assert args.func is cli.cmd_analyze and args.json
