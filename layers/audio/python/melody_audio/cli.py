"""``melody process`` and ``melody analyze``.

The project's ``melody`` CLI calls :func:`register` with its argparse sub-parsers; until
then (and in tests) ``python -m melody_audio.cli process ...`` works through :func:`main`.
Each sub-command sets ``func`` (``args.func(args) -> int`` exit code).  Failures print
``error: <code>: <message>`` on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import config
from .errors import AudioError

EXIT_ERROR = 2


class Progress:
    """A plain-text progress bar per stage on stderr, only when stderr is a terminal."""

    def __init__(self, stages: list[str], stream=None, enabled: bool | None = None) -> None:
        self.stages = stages
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.i = 0
        self.t0 = time.monotonic()

    def start(self, name: str) -> None:
        if not self.enabled:
            return
        self.i += 1
        n = len(self.stages)
        width = 24
        filled = int(width * (self.i - 1) / n)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {self.i}/{n} {name:<22} {time.monotonic() - self.t0:6.1f}s")
        self.stream.flush()

    def done(self) -> None:
        if not self.enabled:
            return
        self.stream.write(f"\r[{'#' * 24}] {len(self.stages)}/{len(self.stages)} {'done':<22} "
                          f"{time.monotonic() - self.t0:6.1f}s\n")
        self.stream.flush()


def _engine_config(name: str) -> dict:
    """Engine settings from the environment (never from literals in code)."""
    if name == "lalal":
        cfg = {"license_key": os.environ.get("MELODY_LALAL_LICENSE_KEY") or None}
        if os.environ.get("MELODY_LALAL_BASE_URL"):
            cfg["base_url"] = os.environ["MELODY_LALAL_BASE_URL"]
        return cfg
    if name in ("neural", "demucs"):
        cfg = {"weights": os.environ.get("MELODY_NEURAL_WEIGHTS") or os.environ.get("MELODY_DEMUCS_WEIGHTS") or None,
               "weights_sha256": os.environ.get("MELODY_NEURAL_WEIGHTS_SHA256") or None}
        if os.environ.get("MELODY_NEURAL_DEVICE"):
            cfg["device"] = os.environ["MELODY_NEURAL_DEVICE"]
        return cfg
    return {}


def _cli_engine_config(args) -> dict:
    """The environment's engine settings, overridden by ``--weights`` / ``--weights-sha256`` / ``--device``."""
    cfg = _engine_config(args.engine)
    for option, key in (("weights", "weights"), ("weights_sha256", "weights_sha256"), ("device", "device")):
        value = getattr(args, option, None)
        if value:
            if args.engine not in ("neural", "demucs"):
                raise AudioError("invalid_argument", f"--{option.replace('_', '-')} applies to the neural engine only")
            cfg[key] = value
    return cfg


def _fail(err: AudioError) -> int:
    print(f"error: {err.code}: {err.message}", file=sys.stderr)
    return EXIT_ERROR


def _guard(fn):
    def run(args) -> int:
        try:
            return fn(args)
        except AudioError as err:
            return _fail(err)
        except KeyboardInterrupt:
            print("error: interrupted: stopped by the user", file=sys.stderr)
            return 130
        except Exception as exc:  # never a traceback to the user
            print(f"error: internal_error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    run.__name__ = fn.__name__
    return run


@_guard
def cmd_process(args) -> int:
    from . import analyse, decode, encode, get_engine, waveform
    from .separate import LalalEngine

    fmt = args.format
    out = Path(args.outdir)
    progress = Progress(["decode", "separate", "analyse", "waveform", "encode stems", "write json"])
    progress.start("decode")
    source_bytes = None
    audio = decode(args.input, max_duration_s=args.max_duration)
    progress.start("separate")
    engine = get_engine(args.engine, **_cli_engine_config(args))
    if args.engine == "lalal" and isinstance(engine, LalalEngine):
        source_bytes = Path(args.input).read_bytes()
        stems = engine.separate(audio, source_bytes=source_bytes, filename=Path(args.input).name)
    else:
        stems = engine.separate(audio)
    progress.start("analyse")
    result = analyse(audio, engine={"name": stems.engine, "version": stems.engine_version})
    progress.start("waveform")
    peaks = waveform(audio)
    out.mkdir(parents=True, exist_ok=True)
    progress.start("encode stems")
    # instrumental, vocals, then whatever else the engine gave (neural: drums, bass, other)
    paths = {name: encode(stems.stem(name), stems.sample_rate, out / f"{name}.{fmt}", fmt) for name in stems.names()}
    progress.start("write json")
    data = result.to_dict()
    (out / "analysis.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (out / "waveform.json").write_text(json.dumps(peaks, separators=(",", ":")) + "\n", encoding="utf-8")
    progress.done()
    print(_summary(args.input, data))
    for name, path in paths.items():
        print(f"  {name + ':':<14}{path}")
    print(f"  analysis:     {out / 'analysis.json'}")
    print(f"  waveform:     {out / 'waveform.json'}")
    return 0


def _fmt(value, unit="", digits=1):
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def _summary(path, d: dict) -> str:
    t, k, lo = d["tempo"], d["key"], d["loudness"]
    eng = d.get("engine") or {}
    lines = [
        f"{Path(path).name}: {d['duration_s']:.1f} s, {d['sample_rate']} Hz, {d['channels']} ch",
        f"  tempo {t['bpm']:.1f} BPM (confidence {t['confidence']:.2f}, {len(t['beats'])} beats)",
        f"  key {k['tonic']} {k['mode']} ({k['camelot']} / {k['open_key']}, confidence {k['confidence']:.2f})",
        f"  loudness {_fmt(lo['integrated_lufs'], ' LUFS')}, range {_fmt(lo['range_lu'], ' LU')}, "
        f"true peak {_fmt(lo['true_peak_dbtp'], ' dBTP')}; energy {d['energy']:.2f}",
    ]
    if eng:
        lines.append(f"  engine {eng.get('name')} {eng.get('version')}")
    return "\n".join(lines)


@_guard
def cmd_analyze(args) -> int:
    from . import analyse, decode

    progress = Progress(["decode", "analyse"], enabled=False if args.json else None)
    progress.start("decode")
    audio = decode(args.input, max_duration_s=args.max_duration)
    progress.start("analyse")
    data = analyse(audio).to_dict()
    progress.done()
    if args.json:
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        print(_summary(args.input, data))
    return 0


def register(subparsers) -> None:
    """Add ``process`` and ``analyze`` to the ``melody`` CLI's sub-parsers."""
    from .separate import engine_names

    p = subparsers.add_parser("process", help="separate stems and analyse an audio file",
                              description="Write instrumental.<ext>, vocals.<ext> (and drums, bass, other with the neural engine), "
                              "analysis.json and waveform.json.")
    p.add_argument("input", help="audio file (anything ffmpeg reads)")
    p.add_argument("-o", "--outdir", required=True, help="output folder")
    p.add_argument("--format", choices=["m4a", "wav"], default="m4a", help="stem format (default m4a: AAC, fast start)")
    p.add_argument("--engine", choices=engine_names(), default="dsp", help="separation engine (default dsp)")
    p.add_argument("--weights", metavar="PATH_OR_S3_URI",
                   help="neural engine: folder with model.onnx + model.json, the .onnx file, or s3://... (default MELODY_NEURAL_WEIGHTS)")
    p.add_argument("--weights-sha256", metavar="HEX", help="neural engine: the weights' expected SHA-256 (default: model.json's)")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], help="neural engine: where onnxruntime runs (default cpu)")
    p.add_argument("--max-duration", type=float, default=config.MAX_DURATION_S, metavar="SECONDS",
                   help=f"refuse longer inputs (default {config.MAX_DURATION_S})")
    p.set_defaults(func=cmd_process)

    a = subparsers.add_parser("analyze", aliases=["analyse"], help="analyse an audio file",
                              description="Tempo, beats, key, loudness, energy.")
    a.add_argument("input", help="audio file (anything ffmpeg reads)")
    a.add_argument("--json", action="store_true", help="print only the analysis JSON on stdout")
    a.add_argument("--max-duration", type=float, default=config.MAX_DURATION_S, metavar="SECONDS")
    a.set_defaults(func=cmd_analyze)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="melody", description="Melody Studio audio engine")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
