"""Blobs in S3-compatible object storage (Outscale OOS, SeaweedFS, Garage, Ceph RGW),
through aiobotocore: ``s3://host:port/bucket[/prefix]`` (HTTPS) or ``s3+http://…``.

Credentials come from the URL (``s3://KEY:SECRET@host/bucket``, percent-encoded) or, when
it has none, from botocore's usual chain (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``); the region from ``?region=`` (default ``us-east-1``).
Addressing is path-style, which every S3-compatible server understands.

An S3 PUT is durable once answered, so ``put`` keeps the store's promise. Content up to
``PART_SIZE`` goes up in one PUT; larger content in a multipart upload, aborted if the
stream fails or exceeds ``max_size``. A content-addressed put larger than one part only
knows its key at the end: it is uploaded under ``.tmp/`` (outside every key), then copied
into place on the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from hexagone.core.blobs import BlobNotFound, BlobRef, BlobStore, BlobTooLarge, Usage, content_key

PART_SIZE = 8 << 20  # S3 wants parts of at least 5 MiB, the last one excepted
READ_CHUNK = 256 << 10
TEMP_PREFIX = ".tmp/"
MISSING = ("404", "NoSuchKey", "NotFound")


class Backend(BlobStore):
    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("s3", "s3+http") or not parts.hostname:
            raise ValueError(
                "HEXAGONE_BLOB_URL: an S3 URL is s3://host[:port]/bucket[/prefix] (s3+http:// without TLS)"
            )
        bucket, _, prefix = parts.path.lstrip("/").partition("/")
        if not bucket:
            raise ValueError("HEXAGONE_BLOB_URL: the S3 URL names no bucket")
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        port = f":{parts.port}" if parts.port else ""
        self._options: dict[str, Any] = {
            "endpoint_url": f"{'http' if parts.scheme == 's3+http' else 'https'}://{parts.hostname}{port}",
            "region_name": parse_qs(parts.query).get("region", ["us-east-1"])[0],
            "config": AioConfig(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}),
        }
        if parts.username:
            self._options["aws_access_key_id"] = unquote(parts.username)
            self._options["aws_secret_access_key"] = unquote(parts.password or "")
        self._stack = contextlib.AsyncExitStack()
        self._s3: Any = None

    async def client(self) -> Any:
        """The process' S3 client, opened on first use (it owns a connection pool)."""
        if self._s3 is None:
            self._s3 = await self._stack.enter_async_context(get_session().create_client("s3", **self._options))
        return self._s3

    async def close(self) -> None:
        await self._stack.aclose()
        self._s3 = None

    def _object(self, key: str) -> str:
        return self.prefix + key

    async def _put(self, chunks: AsyncIterator[bytes], key: str | None, max_size: int | None) -> BlobRef:
        s3 = await self.client()
        digest, size, buffer = hashlib.sha256(), 0, bytearray()
        upload: _Multipart | None = None
        try:
            async for chunk in chunks:
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise BlobTooLarge(f"blob larger than {max_size} bytes")
                digest.update(chunk)
                buffer += chunk
                if len(buffer) >= PART_SIZE:
                    upload = upload or await _Multipart.start(s3, self.bucket, self._object(key or _temp_key()))
                    await upload.send(bytes(buffer))
                    buffer.clear()
            sha256 = digest.hexdigest()
            final = key or content_key(sha256)
            if upload is None:
                await s3.put_object(Bucket=self.bucket, Key=self._object(final), Body=bytes(buffer))
            else:
                if buffer:
                    await upload.send(bytes(buffer))
                await upload.complete()
                if upload.key != self._object(final):
                    await s3.copy_object(
                        Bucket=self.bucket,
                        Key=self._object(final),
                        CopySource={"Bucket": self.bucket, "Key": upload.key},
                    )
                    await s3.delete_object(Bucket=self.bucket, Key=upload.key)
        except BaseException:
            if upload is not None:
                await upload.abort()
            raise
        return BlobRef(key=final, size=size, sha256=sha256)

    async def _get(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        s3 = await self.client()
        ranged = {"Range": f"bytes={start}-{'' if end is None else end - 1}"} if start or end is not None else {}
        try:
            response = await s3.get_object(Bucket=self.bucket, Key=self._object(key), **ranged)
        except ClientError as exc:
            if _missing(exc):
                raise BlobNotFound(key) from None
            if str(exc.response.get("Error", {}).get("Code")) == "InvalidRange":  # starts past the end
                return _stream(None)
            raise
        return _stream(response["Body"])

    async def _exists(self, key: str) -> bool:
        s3 = await self.client()
        try:
            await s3.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    async def _delete(self, key: str) -> bool:
        # S3 answers a DELETE the same whether the object existed or not.
        if not await self._exists(key):
            return False
        await (await self.client()).delete_object(Bucket=self.bucket, Key=self._object(key))
        return True

    async def _usage(self, prefix: str) -> Usage:
        s3 = await self.client()
        count = size = 0
        listing = self._object(f"{prefix}/" if prefix else "")
        async for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=listing):
            for item in page.get("Contents", ()):
                if not item["Key"].startswith(self.prefix + TEMP_PREFIX):
                    count += 1
                    size += item["Size"]
        if prefix and await self._exists(prefix):  # the prefix may name a blob itself
            head = await s3.head_object(Bucket=self.bucket, Key=self._object(prefix))
            count += 1
            size += head["ContentLength"]
        return Usage(count, size)


class _Multipart:
    def __init__(self, s3: Any, bucket: str, key: str, upload_id: str):
        self.s3, self.bucket, self.key, self.upload_id = s3, bucket, key, upload_id
        self.parts: list[dict[str, Any]] = []

    @classmethod
    async def start(cls, s3: Any, bucket: str, key: str) -> _Multipart:
        created = await s3.create_multipart_upload(Bucket=bucket, Key=key)
        return cls(s3, bucket, key, created["UploadId"])

    async def send(self, data: bytes) -> None:
        number = len(self.parts) + 1
        sent = await self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )
        self.parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    async def complete(self) -> None:
        await self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
        )

    async def abort(self) -> None:
        with contextlib.suppress(ClientError):
            await self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)


def _temp_key() -> str:
    return f"{TEMP_PREFIX}{uuid.uuid4().hex}"


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in MISSING


async def _stream(body: Any) -> AsyncIterator[bytes]:
    if body is None:
        return
    try:
        async for chunk in body.iter_chunks(READ_CHUNK):
            yield chunk
    finally:
        body.close()
