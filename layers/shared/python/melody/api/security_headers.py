"""The security headers of every response the viewer gets: one definition, read by both sides.

CDK's CloudFront ``ResponseHeadersPolicy`` (``melody_infra.stacks.web``) is built from these values
and ``melody dev`` adds the same headers to every response it serves (the PWA and the API), so the
app is developed under the policy it runs under. Standard library only: CDK imports it without
FastAPI, and the runtime without CDK.
"""

from __future__ import annotations

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "FRAME_OPTIONS",
    "HSTS_INCLUDE_SUBDOMAINS",
    "HSTS_MAX_AGE_S",
    "HSTS_PRELOAD",
    "REFERRER_POLICY",
    "SECURITY_HEADERS",
    "strict_transport_security",
]

# No 'unsafe-inline' or 'unsafe-eval': the PWA has no inline script or style.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; "
    "media-src 'self' blob: https:; connect-src 'self' https:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
HSTS_MAX_AGE_S = 730 * 24 * 3600  # two years
HSTS_INCLUDE_SUBDOMAINS = True
HSTS_PRELOAD = True
REFERRER_POLICY = "strict-origin-when-cross-origin"
FRAME_OPTIONS = "DENY"


def strict_transport_security() -> str:
    value = f"max-age={HSTS_MAX_AGE_S}"
    if HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if HSTS_PRELOAD:
        value += "; preload"
    return value


# The headers as CloudFront writes them (every one with override: it replaces the origin's).
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Strict-Transport-Security": strict_transport_security(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": REFERRER_POLICY,
    "X-Frame-Options": FRAME_OPTIONS,
}
