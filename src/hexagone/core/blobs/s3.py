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
into place on the server. Ranges are HTTP ``Range`` requests; copies are ``CopyObject``,
or ``UploadPartCopy`` past 5 GiB or when the copy starts with new bytes (the encryption
layer's header).

The multipart API maps onto S3's own. The S3 upload id and the key are kept in a small
object ``.uploads/<our id>`` (and cached here), so that any process can carry on an upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import ClientError

from hexagone.core.blobs import (
    PIECE,
    BlobNotFound,
    BlobRef,
    BlobStore,
    BlobTooLarge,
    Chunks,
    InvalidRange,
    InvalidUpload,
    PartRef,
    Upload,
    UploadNotFound,
    Usage,
    check_range,
    content_key,
    nothing,
)

PART_SIZE = 8 << 20  # S3 wants parts of at least 5 MiB, the last one excepted
COPY_OBJECT_LIMIT = 5 << 30  # the largest object CopyObject copies
COPY_PART_SIZE = 512 << 20
TEMP_PREFIX = ".tmp/"
UPLOADS_PREFIX = ".uploads/"
MISSING = ("404", "NoSuchKey", "NotFound")
UPLOAD_MISSING = ("404", "NoSuchUpload")


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
        # Uploads this process has seen (their state never changes), so that a part does
        # not cost a request for it. Forgotten on complete and abort.
        self._uploads: dict[str, tuple[Upload, str]] = {}

    async def client(self) -> Any:
        """The process' S3 client, opened on first use (it owns a connection pool)."""
        if self._s3 is None:
            self._s3 = await self._stack.enter_async_context(_session().create_client("s3", **self._options))
        return self._s3

    async def close(self) -> None:
        await self._stack.aclose()
        self._s3 = None

    def _object(self, key: str) -> str:
        return self.prefix + key

    async def _put(
        self, chunks: AsyncIterator[bytes], key: str | None, max_size: int | None, hashing: bool = True
    ) -> BlobRef:
        s3 = await self.client()
        digest, size, buffer = hashlib.sha256() if hashing else None, 0, bytearray()
        upload: _Multipart | None = None
        try:
            async for chunk in chunks:
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise BlobTooLarge(f"blob larger than {max_size} bytes")
                buffer += chunk
                if len(buffer) >= PART_SIZE:
                    part = bytes(buffer)
                    buffer.clear()
                    if digest is not None:  # in a thread: 8 MiB would hold the event loop for ms
                        await asyncio.to_thread(digest.update, part)
                    upload = upload or await _Multipart.start(s3, self.bucket, self._object(key or _temp_key()))
                    await upload.send(part)
            if digest is not None:
                await asyncio.to_thread(digest.update, buffer)
            sha256 = "" if digest is None else digest.hexdigest()
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

    async def _head(self, key: str) -> int:
        s3 = await self.client()
        try:
            head = await s3.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if _missing(exc):
                raise BlobNotFound(key) from None
            raise
        return int(head["ContentLength"])

    async def _get(self, key: str, start: int, end: int | None) -> tuple[int, Chunks]:
        if end == start:  # nothing to read: the size says whether the range is in the blob
            size = await self._head(key)
            check_range(size, start, end)
            return size, nothing()
        s3 = await self.client()
        ranged = start > 0 or end is not None
        options = {"Range": f"bytes={start}-{'' if end is None else end - 1}"} if ranged else {}
        try:
            response = await s3.get_object(Bucket=self.bucket, Key=self._object(key), **options)
        except ClientError as exc:
            if _missing(exc):
                raise BlobNotFound(key) from None
            if _code(exc) != "InvalidRange":
                raise
            # Past the end, or an empty blob (which has no byte for a range to start at).
            size = await self._head(key)
            check_range(size, start, end)
            return size, nothing()
        body = response["Body"]
        size = int(response["ContentRange"].rpartition("/")[2]) if ranged else int(response["ContentLength"])
        try:
            check_range(size, start, end)  # S3 cuts a range that runs past the end short
        except InvalidRange:
            body.close()
            raise
        return size, _stream(body)

    async def _exists(self, key: str) -> bool:
        try:
            await self._head(key)
        except BlobNotFound:
            return False
        return True

    async def _delete(self, key: str) -> bool:
        # S3 answers a DELETE the same whether the object existed or not.
        if not await self._exists(key):
            return False
        await (await self.client()).delete_object(Bucket=self.bucket, Key=self._object(key))
        return True

    async def _copy(self, source: str, target: str, head: bytes = b"", skip: int = 0) -> None:
        s3 = await self.client()
        size = await self._head(source)
        origin = {"Bucket": self.bucket, "Key": self._object(source)}
        if not head and not skip and size <= COPY_OBJECT_LIMIT:
            await s3.copy_object(Bucket=self.bucket, Key=self._object(target), CopySource=origin)
            return
        if len(head) + size - skip <= PART_SIZE:
            body = head + await self._read(source, skip, size)
            await s3.put_object(Bucket=self.bucket, Key=self._object(target), Body=body)
            return
        upload = await _Multipart.start(s3, self.bucket, self._object(target))
        try:
            offset = skip
            if head:  # new bytes first: with enough of the source to make a whole part
                offset = min(size, skip + PART_SIZE)
                await upload.send(head + await self._read(source, skip, offset))
            while offset < size:
                count = min(COPY_PART_SIZE, size - offset)
                await upload.copy(origin, offset, count)
                offset += count
            await upload.complete()
        except BaseException:
            await upload.abort()
            raise

    async def _read(self, key: str, start: int, end: int) -> bytes:
        _size, chunks = await self._get(key, start, end)
        return b"".join([chunk async for chunk in chunks])

    async def _listing(self, prefix: str) -> AsyncIterator[tuple[str, int]]:
        """Every object under ``prefix`` (a folder of keys), its key without our prefix."""
        s3 = await self.client()
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._object(prefix))
        async for page in pages:
            for item in page.get("Contents", ()):
                yield item["Key"][len(self.prefix) :], item["Size"]

    async def _usage(self, prefix: str, measure: Callable[[int], int]) -> Usage:
        count = size = 0
        async for key, stored in self._listing(f"{prefix}/" if prefix else ""):
            if not any(segment.startswith(".") for segment in key.split("/")):
                count += 1
                size += measure(stored)
        if prefix:  # the prefix may name a blob itself
            with contextlib.suppress(BlobNotFound):
                size += measure(await self._head(prefix))
                count += 1
        return Usage(count, size)

    async def _names(self, prefix: str) -> list[str]:
        return [key async for key, _size in self._listing(f"{prefix}/")]

    async def _create(self, key: str, data: bytes) -> bool:
        s3 = await self.client()
        try:
            await s3.put_object(Bucket=self.bucket, Key=self._object(key), Body=data, IfNoneMatch="*")
        except ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    # --- multipart uploads -----------------------------------------------------------

    def _state_key(self, upload: str) -> str:
        return self._object(f"{UPLOADS_PREFIX}{upload}")

    async def _start(self, key: str, extra: bytes) -> str:
        s3 = await self.client()
        upload = secrets.token_hex(16)
        multipart = await _Multipart.start(s3, self.bucket, self._object(key))
        state = {"key": key, "extra": extra.hex(), "s3": multipart.upload_id}
        try:
            await s3.put_object(Bucket=self.bucket, Key=self._state_key(upload), Body=json.dumps(state).encode())
        except BaseException:
            await multipart.abort()
            raise
        self._uploads[upload] = (Upload(key=key, extra=extra), multipart.upload_id)
        return upload

    async def _state(self, upload: str) -> tuple[Upload, str]:
        if upload not in self._uploads:
            s3 = await self.client()
            try:
                response = await s3.get_object(Bucket=self.bucket, Key=self._state_key(upload))
            except ClientError as exc:
                if _missing(exc):
                    raise UploadNotFound(upload) from None
                raise
            async with response["Body"] as body:
                state = json.loads(await body.read())
            self._uploads[upload] = (Upload(key=state["key"], extra=bytes.fromhex(state["extra"])), state["s3"])
        return self._uploads[upload]

    async def _upload(self, upload: str) -> Upload:
        return (await self._state(upload))[0]

    async def _multipart(self, upload: str) -> _Multipart:
        state, upload_id = await self._state(upload)
        return _Multipart(await self.client(), self.bucket, self._object(state.key), upload_id)

    async def _put_part(self, upload: str, number: int, chunks: AsyncIterator[bytes], max_size: int) -> PartRef:
        multipart = await self._multipart(upload)
        buffer = bytearray()  # S3 wants a part's length before its first byte: one part is held
        async for chunk in chunks:
            buffer += chunk
            if len(buffer) > max_size:
                raise BlobTooLarge(f"part larger than {max_size} bytes")
        try:
            etag = await multipart.put(number, bytes(buffer))
        except ClientError as exc:
            if _code(exc) in UPLOAD_MISSING:
                raise UploadNotFound(upload) from None
            raise
        return PartRef(number=number, size=len(buffer), etag=etag)

    async def _complete(self, upload: str, parts: list[PartRef]) -> str:
        """S3 checks each part's etag (an MD5 of its content); the sizes are checked by
        reading the result back. Some engines (SeaweedFS) keep a part sent twice, and
        complete with whichever the etag names."""
        multipart = await self._multipart(upload)
        try:
            if not parts:  # S3 completes no upload without a part: an empty one makes an empty blob
                parts = [PartRef(1, 0, await multipart.put(1, b""))]
            multipart.parts = [{"PartNumber": part.number, "ETag": part.etag} for part in parts]
            await multipart.complete()
        except ClientError as exc:
            if _code(exc) in UPLOAD_MISSING:  # completed or aborted by another process
                raise UploadNotFound(upload) from None
            if _code(exc) in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
                raise InvalidUpload(f"the parts are not those uploaded: {_code(exc)}") from None
            raise
        await self._forget(upload)
        return multipart.key[len(self.prefix) :]

    async def _forget(self, upload: str) -> None:
        await (await self.client()).delete_object(Bucket=self.bucket, Key=self._state_key(upload))
        self._uploads.pop(upload, None)

    async def _abort(self, upload: str) -> bool:
        try:
            multipart = await self._multipart(upload)
        except UploadNotFound:
            return False
        await multipart.abort()
        await self._forget(upload)
        return True


class _Multipart:
    def __init__(self, s3: Any, bucket: str, key: str, upload_id: str):
        self.s3, self.bucket, self.key, self.upload_id = s3, bucket, key, upload_id
        self.parts: list[dict[str, Any]] = []

    @classmethod
    async def start(cls, s3: Any, bucket: str, key: str) -> _Multipart:
        created = await s3.create_multipart_upload(Bucket=bucket, Key=key)
        return cls(s3, bucket, key, created["UploadId"])

    async def put(self, number: int, data: bytes) -> str:
        sent = await self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )
        return str(sent["ETag"])

    async def send(self, data: bytes) -> None:
        number = len(self.parts) + 1
        self.parts.append({"PartNumber": number, "ETag": await self.put(number, data)})

    async def copy(self, source: dict[str, str], offset: int, count: int) -> None:
        number = len(self.parts) + 1
        copied = await self.s3.upload_part_copy(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            CopySource=source,
            CopySourceRange=f"bytes={offset}-{offset + count - 1}",
        )
        self.parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})

    async def complete(self) -> None:
        await self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
        )

    async def abort(self) -> None:
        with contextlib.suppress(ClientError):
            await self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)


@functools.cache
def _session() -> AioSession:
    """One botocore session for the process: it keeps the S3 service model it loaded (a
    fifth of a second for each client otherwise)."""
    return get_session()


def _temp_key() -> str:
    return f"{TEMP_PREFIX}{uuid.uuid4().hex}"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code"))


def _missing(exc: ClientError) -> bool:
    return _code(exc) in MISSING


async def _stream(body: Any) -> Chunks:
    """The body in chunks of :data:`PIECE`: aiohttp hands out what the socket had, a
    quarter of that at best."""
    try:
        buffer = bytearray()
        while chunk := await body.read(PIECE - len(buffer)):
            buffer += chunk
            if len(buffer) >= PIECE:
                yield bytes(buffer)
                buffer.clear()
        if buffer:
            yield bytes(buffer)
    finally:
        body.close()
