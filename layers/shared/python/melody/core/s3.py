"""S3 through boto3: presigned POST/GET for browsers, and the pipeline's transfers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from melody.core.errors import ObjectMissing

if TYPE_CHECKING:
    from melody.core.settings import CommonSettings


class S3Storage:
    def __init__(self, client: Any, *, public_endpoint_url: str | None = None, endpoint_url: str | None = None) -> None:
        self._client = client
        # Locally the signing endpoint is moto and browsers go through the dev stack's gateway,
        # which checks the signature against the original URL before forwarding.
        self._public = public_endpoint_url.rstrip("/") if public_endpoint_url else None
        self._endpoint = endpoint_url.rstrip("/") if endpoint_url else None

    def _public_url(self, url: str) -> str:
        if self._public and self._endpoint and url.startswith(self._endpoint):
            return self._public + url[len(self._endpoint):]
        return url

    def presign_post(self, bucket: str, key: str, *, content_type: str, max_bytes: int, expires_s: int) -> dict[str, Any]:
        post = self._client.generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                ["content-length-range", 1, max_bytes],
                ["starts-with", "$Content-Type", "audio/"],
            ],
            ExpiresIn=expires_s,
        )
        return {"url": self._public_url(post["url"]), "fields": post["fields"], "expires_in": expires_s}

    def presign_get(self, bucket: str, key: str, *, expires_s: int, filename: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
        url = self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)
        return self._public_url(url)

    def head(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self._client.head_object(Bucket=bucket, Key=key)
            return head
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def download(self, bucket: str, key: str, path: str) -> None:
        try:
            self._client.download_file(bucket, key, path)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ObjectMissing(bucket, key) from exc
            raise

    def upload(self, path: str, bucket: str, key: str, *, content_type: str) -> None:
        self._client.upload_file(path, bucket, key, ExtraArgs={"ContentType": content_type})

    def put_json(self, bucket: str, key: str, document: Any) -> None:
        self._client.put_object(
            Bucket=bucket,
            Key=key,
            Body=json.dumps(document, separators=(",", ":")).encode(),
            ContentType="application/json",
        )


def s3_client(region: str, endpoint_url: str | None) -> Any:
    import boto3
    from botocore.config import Config

    # Path-style locally (moto on loopback); AWS picks virtual-hosted style itself.
    config = Config(signature_version="s3v4", s3={"addressing_style": "path" if endpoint_url else "auto"})
    return boto3.client("s3", region_name=region, endpoint_url=endpoint_url, config=config)


def storage_for(settings: CommonSettings) -> S3Storage:
    """The S3 adapter for a function's settings: its region, endpoint and public (browser) endpoint."""
    return S3Storage(
        s3_client(settings.aws_region, settings.s3_endpoint_url),
        public_endpoint_url=getattr(settings, "s3_public_endpoint_url", None),
        endpoint_url=settings.s3_endpoint_url,
    )
