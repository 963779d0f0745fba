"""The dev stack's S3 front door at ``/local-s3``: enforces what AWS S3 enforces, then forwards to moto.

- ``POST /local-s3/{bucket}``: a browser-based upload; signature, expiry and every policy
  condition are checked (:mod:`melody_dev.local.s3_policy`) before the object is stored.
- ``GET /local-s3/{bucket}/{key}``: a presigned GET; the SigV4 query signature is recomputed for
  the URL as it was signed and the expiry checked, then the object streams back (Range supported).
Being same-origin with the PWA, it also spares the browser CORS.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from melody_dev.local.s3_policy import PolicyViolation, check_post


def _xml_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status_code=status, media_type="application/xml")


def build_gateway(settings: Any, s3_client: Any) -> APIRouter:
    router = APIRouter(prefix="/local-s3", include_in_schema=False)
    endpoint = settings.s3_endpoint_url.rstrip("/")

    @router.post("/{bucket}")
    async def post_object(bucket: str, request: Request) -> Response:
        form = await request.form(max_part_size=settings.max_upload_bytes + 1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return _xml_error(400, "InvalidArgument", "POST requires exactly one file upload per request.")
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
            size = 0
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > settings.max_upload_bytes + 1:
                    break
                spool.write(chunk)
            try:
                check_post(bucket, fields, size, secret_key=os.environ["AWS_SECRET_ACCESS_KEY"])
            except PolicyViolation as exc:
                return _xml_error(exc.status, exc.code, exc.message)
            spool.seek(0)
            key = fields.get("key") or fields.get("Key")
            s3_client.put_object(Bucket=bucket, Key=key, Body=spool.read(), ContentType=fields.get("Content-Type", "binary/octet-stream"))
        status = int(fields.get("success_action_status", "204"))
        return Response(status_code=status if status in (200, 201, 204) else 204)

    @router.get("/{bucket}/{key:path}")
    def get_object(bucket: str, key: str, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            verify_presigned_get(f"{endpoint}/{bucket}/{quote(key, safe='/~')}", params)
        except PolicyViolation as exc:
            return _xml_error(exc.status, exc.code, exc.message)
        extra: dict[str, Any] = {}
        if "range" in request.headers:
            extra["Range"] = request.headers["range"]
        if "response-content-disposition" in params:
            extra["ResponseContentDisposition"] = params["response-content-disposition"]
        try:
            obj = s3_client.get_object(Bucket=bucket, Key=key, **extra)
        except s3_client.exceptions.NoSuchKey:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        headers = {"Accept-Ranges": "bytes", "Content-Length": str(obj["ContentLength"])}
        for source, target in (("ContentRange", "Content-Range"), ("ContentDisposition", "Content-Disposition"), ("ETag", "ETag")):
            if obj.get(source):
                headers[target] = obj[source]
        return StreamingResponse(
            obj["Body"].iter_chunks(1 << 16),
            status_code=206 if obj.get("ContentRange") else 200,
            media_type=obj.get("ContentType") or "application/octet-stream",
            headers=headers,
        )

    return router


def verify_presigned_get(signed_url: str, params: dict[str, str], *, now: datetime | None = None) -> None:
    """Recompute the SigV4 query signature of ``signed_url`` (the moto URL the API signed)."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    now = now or datetime.now(UTC)
    try:
        signature = params.pop("X-Amz-Signature")
        amz_date = params["X-Amz-Date"]
        expires = int(params["X-Amz-Expires"])
        _, _date, region, _service, _ = params["X-Amz-Credential"].split("/")
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        raise PolicyViolation("AccessDenied", "Request is not signed.") from None
    if now > signed_at + timedelta(seconds=expires):
        raise PolicyViolation("AccessDenied", "Request has expired")
    credentials = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    auth = S3SigV4QueryAuth(credentials, "s3", region, expires=expires)
    query = {k: v for k, v in params.items() if not k.startswith("X-Amz-")}
    request = AWSRequest(method="GET", url=signed_url + ("?" + urlencode(query) if query else ""), headers={})
    request.context["timestamp"] = amz_date
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    import hmac

    if not hmac.compare_digest(expected, signature):
        raise PolicyViolation("SignatureDoesNotMatch", "The request signature we calculated does not match.")
