"""``melody dev`` over HTTP: CloudFront's security headers, no-store on user data, the right 405."""

from __future__ import annotations

import httpx
import pytest

from melody.api.security_headers import SECURITY_HEADERS

pytestmark = pytest.mark.e2e


def test_the_pwa_and_the_api_carry_cloudfronts_security_headers(dev_stack):
    for path in ("/", "/index.html", "/api/v1/system/health", "/api/v1/users/me"):
        response = httpx.get(dev_stack.base_url + path, timeout=10)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (path, name)


def test_a_wrong_method_on_an_api_path_is_405_with_its_real_methods(dev_stack):
    api = httpx.Client(base_url=dev_stack.base_url, timeout=10)
    for method, path, allow in [
        ("GET", "/api/v1/auth/refresh-token", "POST"),
        ("DELETE", "/api/v1/users/me", "GET, PATCH"),
        ("POST", "/api/v1/library/trk_abcdef", "DELETE, PUT"),
    ]:
        response = api.request(method, path)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["Allow"] == allow
        assert response.json()["error"]["code"] == "method_not_allowed"


def test_401_and_user_data_headers(dev_stack):
    api = httpx.Client(base_url=f"{dev_stack.base_url}/api/v1", timeout=10)
    missing = api.get("/users/me")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    tokens = dev_stack.login_api("9876512340")
    me = api.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"
    huge = api.get("/music/track/trk_" + "A" * 6000, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert huge.status_code == 404 and "A" * 100 not in huge.text
