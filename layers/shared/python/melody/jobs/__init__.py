"""Conversion jobs: an upload (or a catalog track) becomes stems and an analysis."""
