"""Mobile teams generate clients from ``openapi.json``: it must match the code."""

import json
from pathlib import Path

from melody.cli import openapi_document

COMMITTED = Path(__file__).resolve().parents[3] / "openapi.json"


def test_committed_openapi_matches_the_code():
    assert COMMITTED.is_file(), "run `melody openapi -o openapi.json`"
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == openapi_document(), "openapi.json drifted: run `melody openapi -o openapi.json`"


def test_every_route_documents_the_error_shape_inputs():
    paths = openapi_document()["paths"]
    assert "/api/v1/auth/request-otp" in paths
    assert "/.well-known/jwks.json" in paths
