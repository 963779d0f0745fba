"""The dev stack's S3 gateway must refuse what AWS S3 refuses (moto does not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from melody.core.s3 import S3Storage
from melody_dev.local.s3_gateway import verify_presigned_get
from melody_dev.local.s3_policy import PolicyViolation, check_post

ENDPOINT = "http://127.0.0.1:4566"


@pytest.fixture()
def storage(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    from melody.core.s3 import s3_client

    return S3Storage(s3_client("ap-south-1", ENDPOINT), public_endpoint_url="http://app/local-s3", endpoint_url=ENDPOINT)


def signed_form(storage, *, max_bytes=1000):
    post = storage.presign_post("uploads", "uploads/usr_1/job_1/a.mp3", content_type="audio/mpeg", max_bytes=max_bytes, expires_s=60)
    assert post["url"] == "http://app/local-s3/uploads"
    return dict(post["fields"])


def test_a_signed_upload_within_the_policy_passes(storage):
    check_post("uploads", signed_form(storage), 500, secret_key="testing")


def test_oversize_is_refused(storage):
    with pytest.raises(PolicyViolation) as exc:
        check_post("uploads", signed_form(storage, max_bytes=1000), 1001, secret_key="testing")
    assert exc.value.code == "EntityTooLarge" and exc.value.status == 400


def test_empty_file_is_refused(storage):
    with pytest.raises(PolicyViolation) as exc:
        check_post("uploads", signed_form(storage), 0, secret_key="testing")
    assert exc.value.code == "EntityTooSmall"


def test_non_audio_content_type_is_refused(storage):
    form = signed_form(storage)
    form["Content-Type"] = "text/html"
    with pytest.raises(PolicyViolation) as exc:
        check_post("uploads", form, 10, secret_key="testing")
    assert exc.value.code == "AccessDenied" and "content-type" in exc.value.message


def test_another_key_is_refused(storage):
    form = signed_form(storage)
    form["key"] = "uploads/usr_2/job_9/evil.mp3"
    with pytest.raises(PolicyViolation):
        check_post("uploads", form, 10, secret_key="testing")


def test_another_bucket_is_refused(storage):
    with pytest.raises(PolicyViolation):
        check_post("media", signed_form(storage), 10, secret_key="testing")


def test_extra_fields_and_bad_signatures_are_refused(storage):
    form = signed_form(storage)
    with pytest.raises(PolicyViolation):
        check_post("uploads", {**form, "acl": "public-read"}, 10, secret_key="testing")
    with pytest.raises(PolicyViolation) as exc:
        check_post("uploads", form, 10, secret_key="wrong-secret")
    assert exc.value.code == "SignatureDoesNotMatch"
    unsigned = {k: v for k, v in form.items() if k != "x-amz-signature"}
    with pytest.raises(PolicyViolation):
        check_post("uploads", unsigned, 10, secret_key="testing")


def test_expired_policy_is_refused(storage):
    later = datetime.now(UTC) + timedelta(minutes=5)
    with pytest.raises(PolicyViolation) as exc:
        check_post("uploads", signed_form(storage), 10, secret_key="testing", now=later)
    assert "expired" in exc.value.message


def _query(url: str) -> tuple[str, dict]:
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


def test_presigned_get_verifies_and_rejects_tampering(storage):
    url = storage.presign_get("media", "stems/abc/dsp/vocals.m4a", expires_s=60, filename="my song.m4a")
    path, params = _query(url)
    assert path == "/local-s3/media/stems/abc/dsp/vocals.m4a"
    verify_presigned_get(f"{ENDPOINT}/media/stems/abc/dsp/vocals.m4a", dict(params))
    with pytest.raises(PolicyViolation):
        verify_presigned_get(f"{ENDPOINT}/media/stems/abc/dsp/instrumental.m4a", dict(params))
    with pytest.raises(PolicyViolation):
        verify_presigned_get(f"{ENDPOINT}/media/stems/abc/dsp/vocals.m4a", {**params, "response-content-disposition": "x"})
    with pytest.raises(PolicyViolation) as exc:
        verify_presigned_get(
            f"{ENDPOINT}/media/stems/abc/dsp/vocals.m4a", dict(params), now=datetime.now(UTC) + timedelta(minutes=2)
        )
    assert "expired" in exc.value.message
    with pytest.raises(PolicyViolation):
        verify_presigned_get(f"{ENDPOINT}/media/stems/abc/dsp/vocals.m4a", {})


# -- the conversions' upload form binds the declared size ----------------------------------------------


def upload_form(storage, size_bytes: int) -> dict:
    from melody.conversions.storage import UploadStorage

    post = UploadStorage(storage).presign_post(
        "uploads", "uploads/usr_1/job_1/a.mp3", content_type="audio/mpeg", size_bytes=size_bytes, expires_s=60
    )
    assert post["url"] == "http://app/local-s3/uploads"
    return dict(post["fields"])


def test_the_upload_form_accepts_exactly_the_declared_size(storage):
    form = upload_form(storage, 1000)
    check_post("uploads", form, 1000, secret_key="testing")
    with pytest.raises(PolicyViolation) as exc:
        check_post("uploads", form, 321 * 1024, secret_key="testing")  # declared 1000, sent 321 KB
    assert exc.value.code == "EntityTooLarge" and exc.value.status == 400
    with pytest.raises(PolicyViolation) as exc:
        check_post("uploads", form, 999, secret_key="testing")
    assert exc.value.code == "EntityTooSmall"
