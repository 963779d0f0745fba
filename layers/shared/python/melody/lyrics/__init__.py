"""Synced lyrics: LRC parsing, the LRCLIB provider, the user's own ``.lrc`` per song (``/lyrics``)."""

__all__ = ["lrc", "ports", "service"]
