"""Mobile teams generate clients from ``openapi.json``: it must match the code, errors included."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient

from melody.api.apps import full_app
from melody.api.error_shape import ErrorOut
from melody.api.openapi_docs import error_responses
from melody.auth.jwks import RemoteJwks
from melody.auth.keys import KeyMaterial, generate_key_material_json
from melody.auth.otp import OtpPolicy, OtpService
from melody.auth.sms import SmsDeliveryFailed
from melody.auth.tokens import TokenService
from melody.auth.verify import AccessTokenVerifier
from melody.conversions.service import JobService
from melody.library.service import LibraryService
from melody.users.service import UserService
from melody_dev.cli import openapi_document
from tests.unit.auth.fakes import FakeClock, MemoryChallenges, MemoryLimiter, MemoryTokens, MemoryUsers

try:
    import jsonschema
except ImportError:  # not a declared dependency: the pydantic model still checks the body
    jsonschema = None

COMMITTED = Path(__file__).resolve().parents[3] / "openapi.json"
ERROR_REF = "#/components/schemas/ErrorOut"
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
OTP_ROUTES = ["/api/v1/auth/request-otp", "/api/v1/auth/verify-otp"]
# The one documented error status whose body is not the error model: health answers 503 with its report.
NOT_ERROR_MODEL = {("/api/v1/system/health", "get", "503")}

DOC = openapi_document()


def operations():
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def schema_ref(response: dict) -> str | None:
    return response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")


def takes_input(operation: dict) -> bool:
    """A body, a query parameter or a path parameter that is more than any string can fail validation."""
    if "requestBody" in operation:
        return True
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            return True
        schema = {k: v for k, v in parameter["schema"].items() if k not in ("title", "description")}
        if schema != {"type": "string"}:
            return True
    return False


def test_committed_openapi_matches_the_code():
    assert COMMITTED.is_file(), "run `melody openapi -o openapi.json`"
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == DOC, "openapi.json drifted: run `melody openapi -o openapi.json`"


def test_the_components_hold_the_error_model_and_not_fastapis_validation_error():
    schemas = DOC["components"]["schemas"]
    error_out = schemas["ErrorOut"]
    assert error_out["required"] == ["error"]
    inner = schemas[error_out["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert set(inner["required"]) == {"code", "message", "details"}
    assert inner["properties"]["code"]["type"] == "string" and inner["properties"]["message"]["type"] == "string"
    # The 422 details of a failed validation: a list of {loc, message, type}, as melody.api.errors writes them.
    issue_refs = [s["items"]["$ref"] for s in inner["properties"]["details"]["anyOf"] if s.get("type") == "array"]
    (issue,) = [schemas[ref.rsplit("/", 1)[1]] for ref in issue_refs]
    assert set(issue["required"]) == {"loc", "message", "type"}
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert "HTTPValidationError" not in json.dumps(DOC)


def test_every_error_response_uses_the_error_model():
    for path, method, operation in operations():
        assert "default" in operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            if status[0] in "45" or status == "default":
                if (path, method, status) in NOT_ERROR_MODEL:
                    continue
                assert schema_ref(response) == ERROR_REF, (method, path, status)
                assert response["description"], (method, path, status)


def test_every_protected_operation_documents_401_and_503():
    protected = [(path, method, op) for path, method, op in operations() if op.get("security")]
    assert len(protected) >= 13  # users, music, library, audio
    for path, method, operation in protected:
        for status in ("401", "503"):
            assert schema_ref(operation["responses"].get(status, {})) == ERROR_REF, (method, path, status)


def test_every_operation_with_input_documents_422_in_the_projects_shape():
    with_input = [(path, method, op) for path, method, op in operations() if takes_input(op)]
    assert {"/api/v1/auth/request-otp", "/api/v1/music/search", "/api/v1/audio/jobs"} <= {p for p, _, _ in with_input}
    for path, method, operation in with_input:
        assert schema_ref(operation["responses"].get("422", {})) == ERROR_REF, (method, path)


def test_the_otp_routes_document_429_with_retry_after():
    for path in OTP_ROUTES:
        response = DOC["paths"][path]["post"]["responses"]["429"]
        assert schema_ref(response) == ERROR_REF
        assert response["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_the_statuses_each_route_can_return():
    def statuses(path, method="get"):
        return {s for s in DOC["paths"][path][method]["responses"] if s[0] in "45"}

    assert statuses("/api/v1/auth/request-otp", "post") == {"422", "429", "503"}
    assert statuses("/api/v1/auth/verify-otp", "post") == {"401", "404", "410", "422", "429", "503"}
    assert statuses("/api/v1/auth/refresh-token", "post") == {"401", "422", "503"}
    assert statuses("/api/v1/users/me") == {"401", "404", "503"}
    assert statuses("/api/v1/music/track/{track_id}") == {"401", "404", "503"}
    assert statuses("/api/v1/library/{track_id}", "put") == {"401", "404", "503"}
    assert statuses("/api/v1/audio/conversion-status/{job_id}") == {"401", "404", "503"}
    assert statuses("/api/v1/audio/convert-to-instrumental", "post") == {"401", "404", "422", "503"}
    assert statuses("/api/v1/system/health") == {"503"}
    assert statuses("/.well-known/jwks.json") == set()


def test_error_responses_refuses_a_description_for_an_undeclared_status():
    with pytest.raises(ValueError):
        error_responses(404, descriptions={410: "gone"})


# --- the documented errors, triggered through the full app -------------------------------------------------

KEYS = KeyMaterial.from_json(generate_key_material_json())
ISSUER, AUDIENCE = "https://issuer.test", "melody-api"


class Sender:
    def __init__(self) -> None:
        self.sent: dict[str, str] = {}
        self.down = False

    def send_otp(self, phone_e164: str, code: str) -> None:
        if self.down:
            raise SmsDeliveryFailed("The code could not be sent; try again shortly.")
        self.sent[phone_e164] = code


class NoJobs:
    def get(self, job_id: str):
        return None


@pytest.fixture()
def world():
    return make_world()


def make_world() -> SimpleNamespace:
    clock = FakeClock(time.time())  # the access-token verifier checks against real time
    sender = Sender()
    tokens = TokenService(KEYS, MemoryTokens(), clock, issuer=ISSUER, audience=AUDIENCE, access_ttl_s=900,
                          refresh_ttl_s=3600)
    jobs = JobService(NoJobs(), None, None, None, clock, uploads_bucket="uploads", media_bucket="media",
                      max_upload_bytes=1 << 20, upload_url_expires_s=60, media_url_expires_s=60)
    services = SimpleNamespace(
        settings=None,
        clock=clock,
        otp=OtpService(MemoryChallenges(), MemoryLimiter(), sender, clock, hmac_key=KEYS.hmac_key,
                       policy=OtpPolicy(per_ip_per_minute=1000, per_ip_per_hour=1000)),
        tokens=tokens,
        users=UserService(MemoryUsers(), clock, hmac_key=KEYS.hmac_key),
        verifier=AccessTokenVerifier(KEYS, issuer=ISSUER, audience=AUDIENCE),
        # A library whose catalog has no tracks; no search service: a search fails unexpectedly (500).
        library=LibraryService(None, SimpleNamespace(exists=lambda track_id: False), clock),
        jobs=jobs,
        origin_verify_secret=lambda: None,
    )
    client = TestClient(full_app(services), raise_server_exceptions=False)
    return SimpleNamespace(client=client, services=services, sender=sender, token=tokens.issue("usr_nobody").access_token)


def check_documented(response: httpx.Response, path: str, method: str, code: str) -> None:
    """The status is documented for the operation, and the body and headers match what is documented."""
    documented = DOC["paths"][path][method]["responses"]
    status = str(response.status_code)
    if status == "500":
        status = "default"  # an unexpected failure: the one status left to `default`
    assert status in documented, f"{method.upper()} {path} returned undocumented {status}"
    entry = documented[status]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert entry["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}
    ErrorOut.model_validate(body)
    if jsonschema is not None:
        schema = {"$ref": ERROR_REF, "components": DOC["components"]}
        jsonschema.Draft202012Validator(schema).validate(body)
    for header, spec in entry.get("headers", {}).items():
        value = response.headers[header]
        if spec["schema"]["type"] == "integer":
            assert int(value) >= 1, header
        elif jsonschema is not None:
            jsonschema.Draft202012Validator(spec["schema"]).validate(value)


def request_otp(client: TestClient, phone: str) -> httpx.Response:
    return client.post("/api/v1/auth/request-otp", json={"phone_number": phone})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_401_missing_invalid_token_wrong_code_and_bad_refresh_token(world):
    c = world.client
    check_documented(c.get("/api/v1/users/me"), "/api/v1/users/me", "get", "missing_token")
    check_documented(c.get("/api/v1/music/search", params={"q": "x"}, headers=bearer("not.a.jwt")),
                     "/api/v1/music/search", "get", "invalid_token")
    challenge = request_otp(c, "98765 00001").json()["challenge_id"]
    wrong = "000000" if world.sender.sent["+919876500001"] != "000000" else "111111"
    response = c.post("/api/v1/auth/verify-otp", json={"challenge_id": challenge, "code": wrong})
    check_documented(response, "/api/v1/auth/verify-otp", "post", "invalid_otp")
    assert response.json()["error"]["details"] == {"attempts_remaining": 4}
    check_documented(c.post("/api/v1/auth/refresh-token", json={"refresh_token": "rt_not-a-real-one"}),
                     "/api/v1/auth/refresh-token", "post", "invalid_refresh_token")


def test_422_body_query_and_route_checks(world):
    c = world.client
    response = c.post("/api/v1/auth/request-otp", json={})
    check_documented(response, "/api/v1/auth/request-otp", "post", "validation_error")
    assert response.json()["error"]["details"][0]["loc"] == ["body", "phone_number"]
    check_documented(c.post("/api/v1/auth/request-otp", json={"phone_number": "12345"}),
                     "/api/v1/auth/request-otp", "post", "invalid_phone_number")
    check_documented(c.get("/api/v1/audio/jobs", params={"limit": 0}, headers=bearer(world.token)),
                     "/api/v1/audio/jobs", "get", "validation_error")
    check_documented(c.get("/api/v1/music/search", params={"q": " "}, headers=bearer(world.token)),
                     "/api/v1/music/search", "get", "empty_query")


def test_404_user_track_job_and_challenge(world):
    c, auth = world.client, bearer(world.token)
    check_documented(c.get("/api/v1/users/me", headers=auth), "/api/v1/users/me", "get", "user_not_found")
    check_documented(c.get("/api/v1/music/track/nope", headers=auth), "/api/v1/music/track/{track_id}", "get",
                     "track_not_found")
    check_documented(c.put("/api/v1/library/trk_missing1", headers=auth), "/api/v1/library/{track_id}", "put",
                     "track_not_found")
    check_documented(c.get("/api/v1/audio/conversion-status/job_0123456789", headers=auth),
                     "/api/v1/audio/conversion-status/{job_id}", "get", "job_not_found")
    check_documented(c.post("/api/v1/auth/verify-otp", json={"challenge_id": "otp_doesnotexist", "code": "123456"}),
                     "/api/v1/auth/verify-otp", "post", "otp_challenge_not_found")


def test_410_a_used_code(world):
    c = world.client
    challenge = request_otp(c, "98765 00002").json()["challenge_id"]
    body = {"challenge_id": challenge, "code": world.sender.sent["+919876500002"]}
    assert c.post("/api/v1/auth/verify-otp", json=body).status_code == 200
    check_documented(c.post("/api/v1/auth/verify-otp", json=body), "/api/v1/auth/verify-otp", "post",
                     "otp_already_used")


def test_429_resend_too_soon_with_retry_after(world):
    c = world.client
    assert request_otp(c, "98765 00003").status_code == 202
    response = request_otp(c, "98765 00003")
    check_documented(response, "/api/v1/auth/request-otp", "post", "otp_resend_too_soon")
    assert response.headers["Retry-After"] == str(response.json()["error"]["details"]["retry_after_s"])


def test_503_sms_down_and_token_keys_unreachable(world):
    world.sender.down = True
    check_documented(request_otp(world.client, "98765 00004"), "/api/v1/auth/request-otp", "post", "sms_unavailable")
    down = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    world.services.verifier = AccessTokenVerifier(
        RemoteJwks("https://issuer.test/.well-known/jwks.json", client=down), issuer=ISSUER, audience=AUDIENCE
    )
    check_documented(world.client.get("/api/v1/users/me", headers=bearer(world.token)), "/api/v1/users/me", "get",
                     "jwks_unavailable")


def test_default_an_unexpected_failure(world):
    response = world.client.get("/api/v1/music/search", params={"q": "tum hi ho"}, headers=bearer(world.token))
    assert response.status_code == 500
    check_documented(response, "/api/v1/music/search", "get", "internal_error")
