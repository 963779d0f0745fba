"""The song catalog's domain: search keys, ranking, models and ports (no SQL, no HTTP here)."""
