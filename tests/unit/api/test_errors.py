"""The one error shape, for every kind of failure, with no stack trace."""

from fastapi import APIRouter
from fastapi.testclient import TestClient

from melody.api.app import create_app
from melody.core.errors import RateLimited

router = APIRouter()


@router.get("/boom")
def boom():
    raise RuntimeError("secret internal detail")


@router.get("/limited")
def limited():
    raise RateLimited("slow down", retry_after_s=7)


@router.get("/typed/{n}")
def typed(n: int):
    return {"n": n}


client = TestClient(create_app(None, [router]), raise_server_exceptions=False)


def test_unexpected_error_is_a_generic_500():
    response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "Something went wrong on our side.", "details": None}}
    assert "secret" not in response.text


def test_rate_limited_has_retry_after():
    response = client.get("/api/v1/limited")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.json()["error"]["details"] == {"retry_after_s": 7}


def test_validation_and_not_found_use_the_shape():
    bad = client.get("/api/v1/typed/abc")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
    assert "abc" not in bad.text  # the submitted value is not echoed
    missing = client.get("/api/v1/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/typed/1")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"
