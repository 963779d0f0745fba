"""Melody Studio's shared package: settings, domain logic, adapters and the HTTP API."""

__version__ = "0.1.0"
