"""The scores' S3 adapter over the shared :class:`~melody.core.s3.S3Storage` (one client per function).

The upload form binds the declared size and the exact Content-Type of the file's extension, so
S3 (and the dev stack's gateway) refuse anything else; the trigger checks both again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from melody.core.s3 import S3Storage

_GONE = {"404", "NoSuchKey", "NotFound", "412", "PreconditionFailed"}


class ScoreStorage:
    def __init__(self, storage: S3Storage) -> None:
        self._storage = storage
        self._client: Any = storage._client

    def presign_post(self, bucket: str, key: str, *, content_type: str, size_bytes: int, expires_s: int) -> dict[str, Any]:
        post = self._client.generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[["content-length-range", size_bytes, size_bytes], {"Content-Type": content_type}],
            ExpiresIn=expires_s,
        )
        return {"url": self._storage._public_url(post["url"]), "fields": post["fields"], "expires_in": expires_s}

    def presign_get(self, bucket: str, key: str, *, expires_s: int, filename: str, attachment: bool) -> str:
        fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
        kind = "attachment" if attachment else "inline"
        disposition = f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
        url = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": disposition}, ExpiresIn=expires_s
        )
        return self._storage._public_url(url)

    def head(self, bucket: str, key: str) -> dict[str, Any] | None:
        return self._storage.head(bucket, key)

    def copy(self, source_bucket: str, source_key: str, bucket: str, key: str, *, if_match: str | None) -> bool:
        extra = {"CopySourceIfMatch": f'"{if_match}"'} if if_match else {}
        try:
            self._client.copy_object(
                CopySource={"Bucket": source_bucket, "Key": source_key}, Bucket=bucket, Key=key, MetadataDirective="COPY", **extra
            )
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _GONE:
                return False
            raise
        return True

    def get_json(self, bucket: str, key: str) -> Any:
        """The JSON document at ``key``, or None when there is none."""
        try:
            body = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _GONE:
                return None
            raise
        return json.loads(body)

    def put_json(self, bucket: str, key: str, document: Any) -> None:
        self._storage.put_json(bucket, key, document)

    def download(self, bucket: str, key: str, path: str) -> None:
        self._storage.download(bucket, key, path)

    def upload(self, path: str, bucket: str, key: str, *, content_type: str) -> None:
        self._storage.upload(path, bucket, key, content_type=content_type)

    def delete(self, bucket: str, key: str) -> None:
        self._client.delete_object(Bucket=bucket, Key=key)
