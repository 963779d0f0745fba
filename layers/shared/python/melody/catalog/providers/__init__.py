"""Music providers (Spotify, YouTube Data API, Last.fm) behind one async ``search`` call.

Credentials come from one Secrets Manager JSON secret (``MELODY_PROVIDER_SECRET_ID``) read with
powertools parameters (cached 5 minutes); a provider without credentials is reported ``skipped``.
Each provider's timeout is ``provider_timeouts[name]`` when set, else the shared ``provider_timeout_s``;
it bounds both its HTTP calls and (``MusicSearchService``) its whole search.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from melody.catalog.providers.base import SkippedProvider
from melody.catalog.providers.lastfm import LastFmProvider
from melody.catalog.providers.spotify import SpotifyProvider
from melody.catalog.providers.youtube import YouTubeProvider

if TYPE_CHECKING:
    import httpx

    from melody.catalog.service import Provider


def load_credentials(secret_id: str | None) -> dict[str, Any]:
    if not secret_id:
        return {}
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_id, transform="json", max_age=300)
    return value if isinstance(value, dict) else {}


def build_providers(
    settings: Any, *, credentials: dict[str, Any] | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> list[Provider]:
    creds = credentials if credentials is not None else load_credentials(getattr(settings, "provider_secret_id", None))
    shared = float(getattr(settings, "provider_timeout_s", 2.5))
    overrides = dict(getattr(settings, "provider_timeouts", None) or {})
    enabled = [p.strip() for p in str(getattr(settings, "providers_enabled", "")).split(",") if p.strip()]
    providers: list[Provider] = []
    for name in enabled:
        c = creds.get(name) or {}
        timeout = float(overrides.get(name, shared))
        if name == "spotify" and c.get("client_id") and c.get("client_secret"):
            providers.append(SpotifyProvider(c["client_id"], c["client_secret"], timeout=timeout, transport=transport))
        elif name == "youtube" and c.get("api_key"):
            providers.append(YouTubeProvider(c["api_key"], timeout=timeout, transport=transport))
        elif name == "lastfm" and c.get("api_key"):
            providers.append(LastFmProvider(c["api_key"], timeout=timeout, transport=transport))
        elif name in ("spotify", "youtube", "lastfm"):
            providers.append(SkippedProvider(name))
    return providers
