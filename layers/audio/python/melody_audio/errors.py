"""Typed errors of the audio engine.

Every failure a caller can provoke with bad input is an :class:`AudioError` with a
stable, machine-readable ``code`` (never a traceback).  Codes:

``not_audio``           the input is not a media file ffmpeg understands, or has no audio stream
``corrupt_audio``       recognised but truncated or damaged
``empty_audio``         zero length (no samples)
``silent_audio``        decodes to digital silence
``too_long``            longer than the configured limit (default 15 minutes)
``file_not_found``      the path does not exist
``ffmpeg_missing``      ffmpeg/ffprobe not on PATH
``engine_unknown``      no separation engine by that name
``engine_unavailable``  the engine is known but not usable here (e.g. no weights configured)
``remote_error``        a remote engine answered with an error
``remote_timeout``      a remote engine did not answer / finish in time
``encode_failed``       ffmpeg could not write the output
``invalid_argument``    a caller passed something unusable (format, shape, ...)
``model_missing``       the neural engine's configured weights (or their manifest) are not there
``model_checksum_mismatch``  the weights' SHA-256 is not the configured one (nothing is loaded)
``model_invalid``       the weights or their manifest cannot be used (bad model.json, bad graph)
``model_out_of_memory`` the model's estimated peak memory exceeds the configured budget
"""

from __future__ import annotations

NOT_AUDIO = "not_audio"
CORRUPT_AUDIO = "corrupt_audio"
EMPTY_AUDIO = "empty_audio"
SILENT_AUDIO = "silent_audio"
TOO_LONG = "too_long"
FILE_NOT_FOUND = "file_not_found"
FFMPEG_MISSING = "ffmpeg_missing"
ENGINE_UNKNOWN = "engine_unknown"
ENGINE_UNAVAILABLE = "engine_unavailable"
REMOTE_ERROR = "remote_error"
REMOTE_TIMEOUT = "remote_timeout"
ENCODE_FAILED = "encode_failed"
INVALID_ARGUMENT = "invalid_argument"
MODEL_MISSING = "model_missing"
MODEL_CHECKSUM_MISMATCH = "model_checksum_mismatch"
MODEL_INVALID = "model_invalid"
MODEL_OUT_OF_MEMORY = "model_out_of_memory"


class AudioError(Exception):
    """An expected failure with a stable ``code`` and a human ``message``."""

    def __init__(self, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = dict(details or {})

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "details": self.details}

    def __reduce__(self):  # picklable (multiprocessing, Step Functions payloads)
        return (type(self), (self.code, self.message, self.details))
