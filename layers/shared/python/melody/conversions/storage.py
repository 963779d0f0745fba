"""The conversions' S3 adapter: the shared :class:`~melody.core.s3.S3Storage` plus what uploads need.

- ``presign_post`` binds the declared size: the policy's ``content-length-range`` is ``[n, n]``, so
  S3 (and the dev stack's gateway) refuse any other size; the pipeline checks it again.
- ``copy`` makes the accepted upload's immutable copy, conditional on the ETag that was accepted
  (``CopySourceIfMatch``), so the copy is exactly the object the job was accepted with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from melody.core.s3 import S3Storage

_GONE = {"404", "NoSuchKey", "NotFound", "412", "PreconditionFailed"}


class UploadStorage:
    def __init__(self, storage: S3Storage) -> None:
        self._storage = storage
        self._client: Any = storage._client  # the same client: one connection pool per function

    def presign_post(self, bucket: str, key: str, *, content_type: str, size_bytes: int, expires_s: int) -> dict[str, Any]:
        post = self._client.generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                ["content-length-range", size_bytes, size_bytes],
                ["starts-with", "$Content-Type", "audio/"],
            ],
            ExpiresIn=expires_s,
        )
        return {"url": self._storage._public_url(post["url"]), "fields": post["fields"], "expires_in": expires_s}

    def copy(self, source_bucket: str, source_key: str, bucket: str, key: str, *, if_match: str | None) -> bool:
        source = {"Bucket": source_bucket, "Key": source_key}
        extra = {"CopySourceIfMatch": f'"{if_match}"'} if if_match else {}
        try:
            self._client.copy_object(CopySource=source, Bucket=bucket, Key=key, MetadataDirective="COPY", **extra)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _GONE:
                return False
            raise
        return True

    def presign_download(self, bucket: str, key: str, *, expires_s: int, filename: str) -> str:
        # An ASCII fallback name for old clients, the exact name (RFC 6266 / 5987) for the rest.
        fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
        disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
        url = self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": disposition},
            ExpiresIn=expires_s,
        )
        return self._storage._public_url(url)

    def delete(self, bucket: str, key: str) -> None:
        self._client.delete_object(Bucket=bucket, Key=key)

    # -- the rest is the shared adapter's ---------------------------------------------------------

    def presign_get(self, bucket: str, key: str, *, expires_s: int, filename: str | None = None) -> str:
        return self._storage.presign_get(bucket, key, expires_s=expires_s, filename=filename)

    def head(self, bucket: str, key: str) -> dict[str, Any] | None:
        return self._storage.head(bucket, key)

    def download(self, bucket: str, key: str, path: str) -> None:
        self._storage.download(bucket, key, path)

    def upload(self, path: str, bucket: str, key: str, *, content_type: str) -> None:
        self._storage.upload(path, bucket, key, content_type=content_type)

    def put_json(self, bucket: str, key: str, document: Any) -> None:
        self._storage.put_json(bucket, key, document)
