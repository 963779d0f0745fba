"""The hardening issue: the document says what the server enforces, the right 405, headers, health.

Each test here failed before its fix: ``q`` optional in the document, ``explicit_content: 0`` taken
as ``false``, a 405 with ``Allow: GET, HEAD`` (or a 404) from the PWA's static mount, no
``Cache-Control``/``WWW-Authenticate``, a 10 KB track id echoed back, and the public health route
naming every table and bucket.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from melody.api.apps import full_app
from melody.system.schemas import DependencyState
from tests.unit.api.test_openapi import DOC, bearer, check_documented, make_world


@pytest.fixture()
def world() -> SimpleNamespace:
    return make_world()


def _param(path: str, name: str, method: str = "get") -> dict:
    (param,) = [p for p in DOC["paths"][path][method]["parameters"] if p["name"] == name]
    return param


def _schema(name: str) -> dict:
    return DOC["components"]["schemas"][name]


# --- A. the document is as strict as the server ------------------------------------------------------------


def test_the_document_declares_what_the_server_enforces():
    q = _param("/api/v1/music/search", "q")
    assert q["required"] is True
    assert q["schema"]["minLength"] == 1 and q["schema"]["maxLength"] == 200 and q["schema"]["pattern"] == r"\S"
    limit = _param("/api/v1/music/search", "limit")["schema"]
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 50)
    offset = _param("/api/v1/music/search", "offset")["schema"]
    assert (offset["type"], offset["minimum"], offset["maximum"]) == ("integer", 0, 500)
    assert _param("/api/v1/music/search", "source")["schema"]["enum"] == ["catalog", "all"]
    language = _param("/api/v1/music/search", "language")["schema"]
    assert language["type"] == "string" and "hi" in language["enum"] and "xx" not in language["enum"]
    assert _param("/api/v1/music/trending", "language")["schema"]["enum"] == language["enum"]
    assert _param("/api/v1/music/trending", "timeframe")["schema"]["enum"] == ["daily", "weekly", "monthly"]
    cursor = _param("/api/v1/library", "cursor")["schema"]
    assert cursor["pattern"] == "^[A-Za-z0-9_-]+$" and cursor["maxLength"] == 1024 and "anyOf" not in cursor
    since = _param("/api/v1/library", "updated_since")["schema"]
    assert since["type"] == "number" and since["minimum"] == 0
    upload = _schema("UploadRequest")["properties"]
    assert upload["content_type"]["pattern"] == "^audio/[A-Za-z0-9.+-]+$"
    assert upload["size_bytes"]["maximum"] == 100 * 1024 * 1024
    prefs = _schema("PreferencesUpdate")["properties"]
    assert prefs["explicit_content"]["type"] == "boolean"
    assert "hi" in prefs["preferred_languages"]["items"]["enum"]
    user = _schema("UserUpdate")["properties"]
    name = next(s for s in user["name"]["anyOf"] if s.get("type") == "string")
    assert name["pattern"] == r"\S"
    avatar = next(s for s in user["avatar_url"]["anyOf"] if s.get("type") == "string")
    assert avatar["pattern"].startswith("^https://")


def test_no_query_parameter_is_documented_as_nullable():
    for item in DOC["paths"].values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                assert {"type": "null"} not in param["schema"].get("anyOf", []), param


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/api/v1/music/search", {}, "empty_query"),
        ("/api/v1/music/search", {"q": ""}, "empty_query"),
        ("/api/v1/music/search", {"q": "  "}, "empty_query"),
        ("/api/v1/music/search", {"q": "x" * 201}, "query_too_long"),
        ("/api/v1/music/search", {"q": "tum", "limit": "0"}, "invalid_limit"),
        ("/api/v1/music/search", {"q": "tum", "limit": "ten"}, "invalid_limit"),
        ("/api/v1/music/search", {"q": "tum", "offset": "-1"}, "invalid_offset"),
        ("/api/v1/music/search", {"q": "tum", "language": "xx"}, "unknown_language"),
        ("/api/v1/music/search", {"q": "tum", "source": "spotify"}, "invalid_source"),
        ("/api/v1/music/trending", {"timeframe": "yearly"}, "invalid_timeframe"),
        ("/api/v1/music/trending", {"language": "HI!"}, "unknown_language"),
        ("/api/v1/library", {"cursor": "not a cursor!"}, "invalid_cursor"),
        ("/api/v1/library", {"cursor": "a" * 1025}, "invalid_cursor"),
        ("/api/v1/library", {"limit": "101"}, "invalid_limit"),
        ("/api/v1/library", {"updated_since": "-1"}, "invalid_updated_since"),
        ("/api/v1/library", {"updated_since": "yesterday"}, "invalid_updated_since"),
    ],
)
def test_a_broken_documented_constraint_keeps_its_stable_code(world, path, params, code):
    response = world.client.get(path, params=params, headers=bearer(world.token))
    check_documented(response, path, "get", code)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"preferences": {"explicit_content": 0}}, "validation_error"),
        ({"preferences": {"explicit_content": "false"}}, "validation_error"),
        ({"preferences": {"preferred_languages": ["xx"]}}, "unknown_language"),
        ({"name": "   "}, "validation_error"),
        ({"avatar_url": "http://example.com/a.png"}, "validation_error"),
    ],
)
def test_patch_me_is_strict(world, body, code):
    response = world.client.patch("/api/v1/users/me", json=body, headers=bearer(world.token))
    check_documented(response, "/api/v1/users/me", "patch", code)


def test_an_upload_that_is_not_audio_or_too_large_keeps_its_code(world):
    auth = bearer(world.token)
    base = {"filename": "a.txt", "content_type": "text/plain", "size_bytes": 10}
    response = world.client.post("/api/v1/audio/uploads", json=base, headers=auth)
    check_documented(response, "/api/v1/audio/uploads", "post", "unsupported_media_type")
    too_big = {**base, "content_type": "audio/mpeg", "size_bytes": 200 * 1024 * 1024}
    check_documented(world.client.post("/api/v1/audio/uploads", json=too_big, headers=auth),
                     "/api/v1/audio/uploads", "post", "file_too_large")
    as_text = {**base, "content_type": "audio/mpeg", "size_bytes": "10"}
    check_documented(world.client.post("/api/v1/audio/uploads", json=as_text, headers=auth),
                     "/api/v1/audio/uploads", "post", "validation_error")


# --- A. 405 with the right Allow, in the API's shape --------------------------------------------------------


def _with_pwa(world, tmp_path) -> TestClient:
    """The app as ``melody dev`` serves it: the PWA's static mount at ``/`` after the API."""
    from melody_dev.local import stack

    (tmp_path / "index.html").write_text("<!doctype html><title>melody</title>")
    app = full_app(world.services)
    original = stack.web_dir
    stack.web_dir = lambda: tmp_path
    try:
        stack.mount_web(app)
    finally:
        stack.web_dir = original
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("with_pwa", [False, True])
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/api/v1/auth/refresh-token", "POST"),
        ("DELETE", "/api/v1/users/me", "GET, PATCH"),
        ("POST", "/api/v1/users/me", "GET, PATCH"),
        ("GET", "/api/v1/library/trk_abcdef", "DELETE, PUT"),
        ("PATCH", "/api/v1/library", "GET"),
        ("PUT", "/api/v1/system/health", "GET"),
    ],
)
def test_a_wrong_method_is_405_with_the_methods_the_path_serves(world, tmp_path, with_pwa, method, path, allow):
    client = _with_pwa(world, tmp_path) if with_pwa else world.client
    response = client.request(method, path, headers=bearer(world.token))
    assert response.status_code == 405, response.text
    assert response.headers["Allow"] == allow
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_the_pwa_still_serves_its_files_and_unknown_api_paths_are_404(world, tmp_path):
    client = _with_pwa(world, tmp_path)
    page = client.get("/")
    assert page.status_code == 200 and "melody" in page.text
    missing = client.get("/api/v1/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


# --- B. headers ----------------------------------------------------------------------------------------------


def test_melody_dev_sends_cloudfronts_security_headers_on_every_response(world, tmp_path):
    from melody.api.security_headers import SECURITY_HEADERS

    client = _with_pwa(world, tmp_path)
    for response in (client.get("/"), client.get("/api/v1/users/me"), client.get("/nope.js")):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (response.request.url, name)
    assert "unsafe-inline" not in SECURITY_HEADERS["Content-Security-Policy"]


def test_user_data_and_tokens_are_never_stored(world):
    c = world.client
    me = c.get("/api/v1/users/me", headers=bearer(world.token))  # 404 here: the error is about the user too
    assert me.headers["Cache-Control"] == "no-store"
    library = c.get("/api/v1/library", params={"limit": "0"}, headers=bearer(world.token))
    assert library.headers["Cache-Control"] == "no-store"
    challenge = c.post("/api/v1/auth/request-otp", json={"phone_number": "98765 00011"}).json()["challenge_id"]
    login = c.post("/api/v1/auth/verify-otp", json={"challenge_id": challenge, "code": world.sender.sent["+919876500011"]})
    assert login.status_code == 200 and login.headers["Cache-Control"] == "no-store"
    refreshed = c.post("/api/v1/auth/refresh-token", json={"refresh_token": login.json()["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.headers["Cache-Control"] == "no-store"
    me = c.get("/api/v1/users/me", headers=bearer(login.json()["access_token"]))
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"


def test_every_401_says_www_authenticate_bearer(world):
    c = world.client
    missing = c.get("/api/v1/users/me")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    bad = c.get("/api/v1/library", headers=bearer("not.a.jwt"))
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    refresh = c.post("/api/v1/auth/refresh-token", json={"refresh_token": "rt_not-a-real-one"})
    assert refresh.status_code == 401 and refresh.headers["WWW-Authenticate"].startswith("Bearer")
    documented = DOC["paths"]["/api/v1/users/me"]["get"]["responses"]["401"]
    assert "WWW-Authenticate" in documented["headers"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_oversized_path_value_is_not_echoed(world, method):
    huge = "trk_" + "A" * 10_000
    path = f"/api/v1/{'music/track' if method == 'GET' else 'library'}/{huge}"
    response = world.client.request(method, path, headers=bearer(world.token))
    assert response.status_code == 404 and response.json()["error"]["code"] == "track_not_found"
    assert "A" * 100 not in response.text and len(response.content) < 1000


def test_an_oversized_field_name_is_not_echoed(world):
    response = world.client.post("/api/v1/auth/request-otp", json={"phone_number": "98765 43210", "k" * 10_000: 1})
    assert response.status_code == 422 and "k" * 100 not in response.text


# --- C. health ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stage", "detailed"), [("prod", False), ("staging", False), ("dev", True), ("test", True)])
@pytest.mark.parametrize("healthy", [True, False])
def test_the_public_health_answer_names_no_table_or_bucket(world, monkeypatch, stage, detailed, healthy):
    from melody.system import router

    states = {
        "table:users_table": DependencyState(status="ok", latency_ms=1.0),
        "bucket:media_bucket": DependencyState(status="ok" if healthy else "error", detail="ClientError"),
    }
    monkeypatch.setattr(router, "check_dependencies", lambda settings: states)
    world.services.settings = SimpleNamespace(stage=stage, version="1.2.3")
    response = world.client.get("/api/v1/system/health")
    assert response.status_code == (200 if healthy else 503)
    body = response.json()
    assert body["status"] == ("ok" if healthy else "degraded")
    assert body["version"] == "1.2.3" and body["stage"] == stage
    if detailed:
        assert set(body["dependencies"]) == set(states)
    else:
        assert set(body) == {"status", "version", "stage"}
        assert "table" not in response.text and "bucket" not in response.text
