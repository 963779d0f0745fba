"""Melody for developers: API keys with plans, rate limits and usage, and the B2B surface
(natural-language query, attribute and harmonic search, next tracks, analysis as a service)."""

__all__: list[str] = []
