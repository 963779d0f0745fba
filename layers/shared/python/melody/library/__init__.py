"""The personal library: saved tracks, plays, instrumental status (pure domain)."""
