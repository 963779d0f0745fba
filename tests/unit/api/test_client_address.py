"""Per-IP limits see the real caller behind CloudFront, and a forged viewer header changes nothing."""

from __future__ import annotations

from melody.auth.client_address import client_address

SECRET = "s3cr3t-from-cloudfront"
EDGE = "130.176.1.10"  # a CloudFront edge server: what API Gateway reports as sourceIp


def test_the_viewer_address_is_believed_with_the_origin_secret():
    headers = {"cloudfront-viewer-address": "203.0.113.7:51234", "x-melody-origin-verify": SECRET}
    assert client_address(EDGE, headers, SECRET) == "203.0.113.7"
    ipv6 = {"cloudfront-viewer-address": "2001:db8::7:51234", "x-melody-origin-verify": SECRET}
    assert client_address(EDGE, ipv6, SECRET) == "2001:db8::7"


def test_a_direct_caller_cannot_choose_its_address():
    forged = {"cloudfront-viewer-address": "198.51.100.1:1"}
    assert client_address("192.0.2.50", forged, SECRET) == "192.0.2.50"
    wrong = {**forged, "x-melody-origin-verify": "guess"}
    assert client_address("192.0.2.50", wrong, SECRET) == "192.0.2.50"


def test_without_a_configured_secret_the_source_ip_is_used():
    headers = {"cloudfront-viewer-address": "203.0.113.7:51234", "x-melody-origin-verify": SECRET}
    assert client_address("192.0.2.50", headers, None) == "192.0.2.50"


def test_a_malformed_viewer_address_falls_back_to_the_source_ip():
    headers = {"cloudfront-viewer-address": "not-an-ip:80", "x-melody-origin-verify": SECRET}
    assert client_address(EDGE, headers, SECRET) == EDGE

