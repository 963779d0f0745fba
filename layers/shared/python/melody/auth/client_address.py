"""The caller's IP address for rate limits, also when the request came through CloudFront.

Through CloudFront, API Gateway's ``sourceIp`` is an edge server shared by many people, so a per-IP
limit would lock out everyone behind it. CloudFront passes the viewer's address in
``CloudFront-Viewer-Address`` (``ip:port``), but anyone calling the API directly can send that
header too. So it is believed only when the request also carries the origin-verify header whose
secret value CloudFront adds on the way to the API (AWS's "restrict access to custom origins with
custom headers" pattern); otherwise ``sourceIp`` is the caller.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

ORIGIN_VERIFY_HEADER = "x-melody-origin-verify"
VIEWER_ADDRESS_HEADER = "cloudfront-viewer-address"


def _ip_of(viewer_address: str) -> str | None:
    host = viewer_address.strip().rsplit(":", 1)[0].strip("[]")  # "1.2.3.4:5678", "2001:db8::1:5678"
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def client_address(source_ip: str, headers: Mapping[str, str], origin_secret: str | None) -> str:
    """``source_ip``, or the CloudFront viewer's IP when the request provably came through CloudFront."""
    if not origin_secret:
        return source_ip
    presented = headers.get(ORIGIN_VERIFY_HEADER, "")
    viewer = headers.get(VIEWER_ADDRESS_HEADER)
    if viewer and hmac.compare_digest(presented.encode(), origin_secret.encode()):
        return _ip_of(viewer) or source_ip
    return source_ip
