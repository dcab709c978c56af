"""Blob storage: file contents, mail bodies, attachments, exports — bytes that do not
belong in database rows. The row keeps the :class:`BlobRef` (key, size, SHA-256).

A key is a path of segments of ``[A-Za-z0-9._-]`` that do not start with a dot
(``org/<org id>/drive/<file id>``), at most 1024 characters: modules put the organisation
first so that :meth:`BlobStore.usage` gives the storage an organisation is billed for.
A key that could climb out of the store (``..``, an absolute path, a backslash) is refused
before any backend sees it. ``put`` without a key stores the content under its own hash
(``sha256/ab/<hex>``), so identical contents are stored once.

``put`` returns only once the bytes are durable (the local backend fsyncs the file and its
directory before answering): the mail module answers "250" to SMTP only after that.

Each backend is one file implementing the :class:`BlobStore` hooks (``local.py``, ``s3.py``);
:func:`load` picks it from ``HEXAGONE_BLOB_URL`` (default: a ``blobs`` folder in the data
directory).
"""

from __future__ import annotations

import asyncio
import errno
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass

from hexagone.core.backends import load_backend
from hexagone.core.config import Settings, get_settings

KEY_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,254})*")
MAX_KEY_LENGTH = 1024
BACKENDS = {"file": "local", "s3": "s3", "s3+http": "s3"}

Data = bytes | bytearray | memoryview | AsyncIterable[bytes]


class BlobError(Exception):
    pass


class InvalidKey(BlobError, ValueError):
    pass


class BlobNotFound(BlobError, LookupError):
    pass


class BlobTooLarge(BlobError, ValueError):
    pass


@dataclass(frozen=True)
class BlobRef:
    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Usage:
    count: int
    bytes: int


def check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not KEY_RE.fullmatch(key):
        raise InvalidKey(f"invalid blob key {key!r}")
    return key


def content_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256}"


# The errors of a disk or a filesystem quota that ran out of room: a temporary condition
# every protocol answers as such (SMTP 452 4.3.1, IMAP NO [UNAVAILABLE]), never a bug.
STORAGE_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_storage_full(error: BaseException) -> bool:
    """Whether ``error``, or what caused it, is the blob store's disk or quota running out."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in STORAGE_FULL:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# Bytes in memory are handed to a backend in views of this size, never copied whole: a
# 50 MiB message stored from memory costs a megabyte more, not two more copies of itself.
PIECE = 1 << 20


async def chunks_of(data: Data) -> AsyncIterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), PIECE):
            yield view[start : start + PIECE]  # type: ignore[misc]  # a view is read as bytes
    else:
        async for chunk in data:
            yield chunk


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


class BlobStore(ABC):
    """Public methods validate keys once; a backend implements the underscored hooks."""

    async def put(self, data: Data, *, key: str | None = None, max_size: int | None = None) -> BlobRef:
        """Store ``data`` (bytes or an async iterator of chunks) under ``key``, replacing
        what was there, or under its content hash without a key. More than ``max_size``
        bytes raise :class:`BlobTooLarge` and store nothing."""
        return await self._put(chunks_of(data), None if key is None else check_key(key), max_size)

    async def get(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The content as chunks, or the bytes ``start`` to ``end`` (excluded; None: to the
        end) for an HTTP Range: the backend reads only those (a seek, an S3 ranged GET).
        A range past the end gives what is there, maybe nothing. Raises
        :class:`BlobNotFound` here, before the first chunk, so that a caller can answer
        404 before it starts a response."""
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"invalid blob range {start}-{end}")
        if end == start:
            check_key(key)
            if not await self._exists(key):
                raise BlobNotFound(key)
            return _nothing()
        return await self._get(check_key(key), start, end)

    async def read(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in await self.get(key)])

    async def read_many(self, keys: Sequence[str]) -> list[bytes]:
        """Several whole blobs, in order, for a caller that needs many small ones at once
        (an IMAP FETCH of a few dozen messages): one call lets a backend batch its I/O.
        Raises :class:`BlobNotFound` if any is missing."""
        return await self._read_many([check_key(key) for key in keys])

    async def _read_many(self, keys: list[str]) -> list[bytes]:
        async def read(key: str) -> bytes:
            return b"".join([chunk async for chunk in await self._get(key, 0, None)])

        return list(await asyncio.gather(*(read(key) for key in keys)))

    async def exists(self, key: str) -> bool:
        return await self._exists(check_key(key))

    async def delete(self, key: str) -> bool:
        """Remove the blob; False if there was none."""
        return await self._delete(check_key(key))

    async def usage(self, prefix: str = "") -> Usage:
        """Number and total size of the blobs under ``prefix`` (whole segments: ``org/<id>``
        counts ``org/<id>/…``, not ``org/<id>2/…``); the empty prefix is the whole store."""
        return await self._usage(check_key(prefix.rstrip("/")) if prefix else "")

    async def close(self) -> None:  # noqa: B027 - most stores hold nothing open
        """Release what the backend holds open (the S3 client's connections)."""

    @abstractmethod
    async def _put(self, chunks: AsyncIterator[bytes], key: str | None, max_size: int | None) -> BlobRef: ...

    @abstractmethod
    async def _get(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]: ...

    @abstractmethod
    async def _exists(self, key: str) -> bool: ...

    @abstractmethod
    async def _delete(self, key: str) -> bool: ...

    @abstractmethod
    async def _usage(self, prefix: str) -> Usage: ...


def blob_url(settings: Settings) -> str:
    return settings.blob_url or (settings.data_dir / "blobs").resolve().as_uri()


def load(settings: Settings) -> BlobStore:
    """The backend named by ``HEXAGONE_BLOB_URL``: ``file:///absolute/folder``, or
    ``s3://host:port/bucket[/prefix]`` (``s3+http://`` without TLS)."""
    store: BlobStore = load_backend(__name__, "HEXAGONE_BLOB_URL", blob_url(settings), BACKENDS)
    return store


_store: BlobStore | None = None


def get_store() -> BlobStore:
    """The process' blob store, loaded from the settings on first use."""
    global _store
    if _store is None:
        _store = load(get_settings())
    return _store


async def close_store() -> None:
    global _store
    if _store is not None:
        await _store.close()
    _store = None
