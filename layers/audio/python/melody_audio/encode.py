"""Encode float32 samples with ffmpeg: AAC in .m4a with fast start (default) or WAV."""

from __future__ import annotations

import os
from pathlib import Path

import ffmpeg
import numpy as np

from . import errors
from .decode import require_ffmpeg
from .errors import AudioError

FORMATS = ("m4a", "wav")


def encode(samples: np.ndarray, sample_rate: int, path, fmt: str | None = None, *, bitrate: str = "192k") -> Path:
    """Write ``samples`` (``(channels, n)`` or ``(n,)`` float32) to ``path``.

    ``fmt`` is ``"m4a"`` (AAC-LC, ``-movflags +faststart`` so the moov atom precedes mdat and
    playback can start before the download ends) or ``"wav"`` (16-bit PCM).  When omitted it
    is taken from the path's suffix.
    """
    require_ffmpeg()
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "m4a").lower()
    if fmt not in FORMATS:
        raise AudioError(errors.INVALID_ARGUMENT, f"unsupported output format {fmt!r}; use one of {FORMATS}")
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] not in (1, 2) or x.shape[1] == 0:
        raise AudioError(errors.INVALID_ARGUMENT, "samples must be (channels, n) with 1 or 2 channels")
    channels = x.shape[0]
    interleaved = np.ascontiguousarray(np.clip(x, -1.0, 1.0).T).tobytes()
    if fmt == "m4a":
        out_kwargs = {"acodec": "aac", "audio_bitrate": bitrate, "movflags": "+faststart", "format": "mp4"}
    else:
        out_kwargs = {"acodec": "pcm_s16le", "format": "wav"}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        (
            ffmpeg.input("pipe:", format="f32le", ar=sample_rate, ac=channels)
            .output(os.fspath(tmp), **out_kwargs)
            .global_args("-nostdin", "-hide_banner", "-v", "error", "-y")
            .run(input=interleaved, capture_stdout=True, capture_stderr=True)
        )
    except ffmpeg.Error as exc:
        tmp.unlink(missing_ok=True)
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]  # last line only
        raise AudioError(errors.ENCODE_FAILED, "ffmpeg could not encode the output", {"ffmpeg": detail}) from None
    os.replace(tmp, path)
    return path
