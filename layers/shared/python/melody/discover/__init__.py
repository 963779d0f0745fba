"""Discover: blog and feed sources, a polite crawler, the songs posts talk about, and a feed of them."""

__all__: list[str] = []
