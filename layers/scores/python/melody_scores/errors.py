"""The one error of the score engine: a stable ``code`` the pipeline stores on the failed job."""

from __future__ import annotations

# Codes caused by the file itself: a retry cannot fix them (the pipeline keeps the object).
CODES = frozenset({"score_corrupt", "score_unsupported", "score_too_large", "score_empty"})


class ScoreError(Exception):
    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown score error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}
