"""Decode anything ffmpeg reads into float32 at the engine's working rate.

The container/codec is identified with ffprobe first (cheap: refuses non-audio and
over-long inputs before any decoding), then ffmpeg decodes the first audio stream to
raw float32, resampled to ``sample_rate`` (default 44.1 kHz) and down-mixed to at most two
channels (mono stays mono; 5.1 etc. use ffmpeg's standard down-mix matrix).

Every failure is an :class:`~melody_audio.errors.AudioError` with a stable code.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import ffmpeg
import numpy as np

from . import config, errors
from .audio import Audio
from .errors import AudioError

Source = str | os.PathLike | bytes | bytearray | memoryview

_CORRUPT_HINTS = (
    "moov atom not found",
    "truncat",
    "end of file",
    "invalid frame",
    "error while decoding",
    "corrupt",
    "invalid data found when processing input",
    "header missing",
    "packet too small",
    "invalid sync",
    "error submitting packet",
    "decode_frame",
    "incomplete frame",
)


def require_ffmpeg() -> None:
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            raise AudioError(errors.FFMPEG_MISSING, f"{tool} is not installed or not on PATH")


def _stderr(exc: ffmpeg.Error) -> str:
    return (exc.stderr or b"").decode("utf-8", "replace")


def probe(path: str) -> dict:
    """ffprobe the file; map failures to ``not_audio`` / ``corrupt_audio``."""
    require_ffmpeg()
    try:
        info = ffmpeg.probe(path)
    except ffmpeg.Error as exc:
        text = _stderr(exc).lower()
        if "moov atom not found" in text or "truncat" in text:
            raise AudioError(errors.CORRUPT_AUDIO, "the media file is truncated or damaged") from None
        raise AudioError(errors.NOT_AUDIO, "the input is not a recognised audio or media file") from None
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise AudioError(errors.NOT_AUDIO, "the input has no audio stream")
    info["audio_stream"] = streams[0]
    return info


def _duration(info: dict) -> float | None:
    for value in (info.get("format", {}).get("duration"), info["audio_stream"].get("duration")):
        try:
            if value not in (None, "N/A"):
                return float(value)
        except (TypeError, ValueError):
            continue
    return None


def decode(
    source: Source,
    *,
    sample_rate: int = config.WORKING_RATE,
    max_duration_s: float | None = config.MAX_DURATION_S,
    mono: bool = False,
    allow_silence: bool = False,
    filename_hint: str = "input",
) -> Audio:
    """Decode a path or raw bytes to :class:`Audio` (float32, ``(channels, n)``).

    Raises :class:`AudioError` with codes ``file_not_found``, ``not_audio``,
    ``corrupt_audio``, ``empty_audio``, ``silent_audio`` or ``too_long``.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise AudioError(errors.EMPTY_AUDIO, "the input is empty (0 bytes)")
        suffix = Path(filename_hint).suffix[:10]
        with tempfile.TemporaryDirectory(prefix="melody-audio-") as tmp:
            path = os.path.join(tmp, "input" + suffix)
            with open(path, "wb") as fh:
                fh.write(data)
            return _decode_path(path, sample_rate, max_duration_s, mono, allow_silence)
    return _decode_path(os.fspath(source), sample_rate, max_duration_s, mono, allow_silence)


def _decode_path(path, sample_rate, max_duration_s, mono, allow_silence) -> Audio:
    if not os.path.isfile(path):
        raise AudioError(errors.FILE_NOT_FOUND, f"no such file: {os.path.basename(path)}")
    if os.path.getsize(path) == 0:
        raise AudioError(errors.EMPTY_AUDIO, "the input is empty (0 bytes)")
    info = probe(path)
    stream = info["audio_stream"]
    src_channels = int(stream.get("channels") or 0)
    src_rate = int(stream.get("sample_rate") or 0)
    declared = _duration(info)
    if max_duration_s is not None and declared is not None and declared > max_duration_s:
        raise AudioError(
            errors.TOO_LONG,
            f"the audio lasts {declared:.0f} s, the limit is {max_duration_s:.0f} s",
            {"duration_s": round(declared, 3), "limit_s": max_duration_s},
        )
    out_ch = 1 if (mono or src_channels == 1) else 2
    # Read at most limit + 1 s, so a file that lies about its length cannot exhaust memory.
    out_kwargs = dict(format="f32le", acodec="pcm_f32le", ac=out_ch, ar=sample_rate, map="0:a:0")
    if max_duration_s is not None:
        out_kwargs["t"] = max_duration_s + 1.0
    proc = (
        ffmpeg.input(path)
        .output("pipe:", **out_kwargs)
        .global_args("-nostdin", "-hide_banner", "-v", "error")
        .run_async(pipe_stdout=True, pipe_stderr=True)
    )
    x, err = _read_planar(proc, out_ch)
    failed = proc.returncode != 0
    text = err.decode("utf-8", "replace").lower()
    n = x.shape[1]
    if n == 0:
        if failed or any(h in text for h in _CORRUPT_HINTS):
            raise AudioError(errors.CORRUPT_AUDIO, "the audio could not be decoded (truncated or damaged)")
        raise AudioError(errors.EMPTY_AUDIO, "the audio has zero length")
    decoded_s = n / sample_rate
    damaged = failed or any(h in text for h in _CORRUPT_HINTS) or _riff_truncated(path)
    if declared and decoded_s < 0.9 * declared - 0.05:
        # fewer samples than the header promises: truncated
        damaged = True
    if damaged:
        raise AudioError(
            errors.CORRUPT_AUDIO,
            "the audio is truncated or damaged",
            {"decoded_s": round(decoded_s, 3), "declared_s": round(declared or 0.0, 3)},
        )
    if max_duration_s is not None and decoded_s > max_duration_s:
        raise AudioError(
            errors.TOO_LONG,
            f"the audio lasts more than {max_duration_s:.0f} s",
            {"limit_s": max_duration_s},
        )
    audio = Audio(
        x,
        sample_rate,
        source_channels=src_channels or out_ch,
        source_sample_rate=src_rate or sample_rate,
        source_codec=str(stream.get("codec_name", "")),
        meta={"format": info.get("format", {}).get("format_name", "")},
    )
    if not allow_silence:
        check_not_silent(audio.samples)
    return audio


def _read_planar(proc, channels: int, chunk_bytes: int = 1 << 22):
    """Read ffmpeg's interleaved float32 stdout into a planar (channels, n) array.

    De-interleaving chunk by chunk keeps the peak memory near twice the decoded size
    (chunks + the final array) instead of the three copies bytes → array → transpose cost.
    """
    import threading

    err_chunks: list[bytes] = []
    t = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    t.start()
    frame = 4 * channels
    parts: list[np.ndarray] = []
    carry = b""
    while True:
        buf = proc.stdout.read(chunk_bytes)
        if not buf:
            break
        buf = carry + buf
        usable = len(buf) - len(buf) % frame
        carry = buf[usable:]
        if usable:
            parts.append(np.frombuffer(buf[:usable], dtype="<f4").reshape(-1, channels).T.copy())
    proc.stdout.close()
    proc.wait()
    t.join()
    if not parts:
        return np.zeros((channels, 0), dtype=np.float32), b"".join(err_chunks)
    x = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
    return np.ascontiguousarray(x, dtype=np.float32), b"".join(err_chunks)


def _riff_truncated(path: str) -> bool:
    """A WAV/RIFF file whose ``data`` chunk claims more bytes than the file holds.

    (ffmpeg decodes such a file without complaint when the cut falls on a frame boundary.)
    Streaming writers put 0 or 0xFFFFFFFF there for "unknown": not a truncation.
    """
    import struct

    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                return False
            endian = "<" if head[:4] == b"RIFF" else ">"
            size = os.fstat(fh.fileno()).st_size
            while True:
                hdr = fh.read(8)
                if len(hdr) < 8:
                    return False
                cid, clen = hdr[:4], struct.unpack(endian + "I", hdr[4:])[0]
                if cid == b"data":
                    if clen in (0, 0xFFFFFFFF):
                        return False
                    return fh.tell() + clen > size
                fh.seek(clen + (clen & 1), os.SEEK_CUR)
    except OSError:
        return False


def check_not_silent(samples: np.ndarray) -> None:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak <= 10 ** (config.SILENCE_DBFS / 20):
        raise AudioError(errors.SILENT_AUDIO, "the audio is silent")
