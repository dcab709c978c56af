"""Blob storage: file contents, mail bodies, attachments, exports — bytes that do not
belong in database rows. The row keeps the :class:`BlobRef` (key, size, SHA-256).

A key is a path of segments of ``[A-Za-z0-9._-]`` that do not start with a dot
(``org/<org id>/drive/<file id>``), at most 1024 characters: modules put the organisation
first so that :meth:`BlobStore.usage` gives the storage an organisation is billed for (and,
with encryption at rest, so that its blobs are sealed under its own key). A key that could
climb out of the store (``..``, an absolute path, a backslash) is refused before any
backend sees it. ``put`` without a key stores the content under its own hash
(``sha256/ab/<hex>``), so identical contents are stored once.

``put``, ``copy`` and ``complete`` return only once the bytes are durable (the local
backend fsyncs the file and its directory before answering): the mail module answers
"250" to SMTP only after that. Nothing is ever read whole into memory: contents go in and
out as chunks of about a megabyte, ranges included.

A large upload that arrives in pieces, over several requests and perhaps several
processes (tus, WebDAV chunking), goes through the multipart API: :meth:`BlobStore.start`,
:meth:`~BlobStore.put_part` for each piece, then :meth:`~BlobStore.complete` (or
:meth:`~BlobStore.abort`). Every part but the last has exactly :attr:`BlobStore.part_size`
bytes: S3 wants parts of 5 MiB at least, and encryption wants parts made of whole segments.

Each backend is one file implementing the :class:`BlobStore` hooks (``local.py``, ``s3.py``);
:func:`load` picks it from ``HEXAGONE_BLOB_URL`` (default: a ``blobs`` folder in the data
directory) and wraps it in ``encrypted.py`` when ``HEXAGONE_BLOB_ENCRYPTION`` is on.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import importlib
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from hexagone.core.backends import load_backend
from hexagone.core.config import Settings, get_settings

KEY_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,254})*")
MAX_KEY_LENGTH = 1024
BACKENDS = {"file": "local", "s3": "s3", "s3+http": "s3"}
# An upload id is 128 random bits in hex: unguessable, and nothing a backend could read as a path.
UPLOAD_ID_RE = re.compile(r"[0-9a-f]{32}")
PART_SIZE = 8 << 20
# S3 numbers parts up to 10,000; the last number is kept for the encryption's closing part.
MAX_PARTS = 9_999

Data = bytes | bytearray | memoryview | AsyncIterable[bytes]
# What a backend reads: a generator, so that whoever stops early can close it (and its file).
Chunks = AsyncGenerator[bytes, None]


class BlobError(Exception):
    pass


class InvalidKey(BlobError, ValueError):
    pass


class BlobNotFound(BlobError, LookupError):
    pass


class BlobTooLarge(BlobError, ValueError):
    pass


class InvalidRange(BlobError, ValueError):
    """A range that does not lie within the blob (HTTP answers 416)."""


class InvalidUpload(BlobError, ValueError):
    """A malformed upload id, part number or list of parts."""


class UploadNotFound(BlobNotFound):
    """No upload has this id: never started, completed, aborted, or expired."""


class BlobCorrupt(BlobError):
    """An encrypted blob fails its integrity check: it was altered, truncated or swapped.
    Raised before any byte of the damaged segment is handed out."""


class WrongMasterKey(BlobError):
    """The configured master key is not the one that sealed the store's keys."""


@dataclass(frozen=True)
class BlobRef:
    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PartRef:
    """What :meth:`BlobStore.put_part` answers and :meth:`BlobStore.complete` wants back:
    a caller keeps these (as JSON, say) between the requests of a resumable upload."""

    number: int
    size: int
    etag: str


@dataclass(frozen=True)
class Usage:
    count: int
    bytes: int


@dataclass(frozen=True)
class Upload:
    """What a backend remembers of an upload between processes: the key it completes into
    and what the encryption layer asked it to keep (its header)."""

    key: str
    extra: bytes


def check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not KEY_RE.fullmatch(key):
        raise InvalidKey(f"invalid blob key {key!r}")
    return key


def check_upload(upload: str) -> str:
    if not isinstance(upload, str) or not UPLOAD_ID_RE.fullmatch(upload):
        raise InvalidUpload(f"invalid upload id {upload!r}")
    return upload


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
# Reads come out in chunks of this size too: large enough that a gigabyte is a thousand
# steps of the event loop, small enough that a hundred downloads cost a hundred megabytes.
PIECE = 1 << 20


async def chunks_of(data: Data) -> AsyncIterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), PIECE):
            yield view[start : start + PIECE]  # type: ignore[misc]  # a view is read as bytes
    else:
        async for chunk in data:
            yield chunk


async def nothing() -> Chunks:
    """The chunks of an empty range."""
    empty: tuple[bytes, ...] = ()
    for chunk in empty:
        yield chunk


def check_range(size: int, start: int, end: int | None) -> int:
    """The end of ``[start, end)`` within a blob of ``size`` bytes (``None``: its end)."""
    end = size if end is None else end
    if start > size or end > size:
        raise InvalidRange(f"range {start}-{end} outside a blob of {size} bytes")
    return end


def same(size: int) -> int:
    return size


class BlobStore(ABC):
    """Public methods validate keys once; a backend implements the underscored hooks,
    which trust their arguments (the encryption layer calls them with its own keys)."""

    part_size = PART_SIZE

    async def put(self, data: Data, *, key: str | None = None, max_size: int | None = None) -> BlobRef:
        """Store ``data`` (bytes or an async iterator of chunks) under ``key``, replacing
        what was there, or under its content hash without a key. More than ``max_size``
        bytes raise :class:`BlobTooLarge` and store nothing."""
        return await self._put(chunks_of(data), None if key is None else check_key(key), max_size)

    async def get(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The content, or its bytes ``[start, end)`` (``end`` excluded, as in a slice;
        ``None``: to the end), as chunks of about a megabyte. Raises :class:`BlobNotFound`
        or :class:`InvalidRange` (a range past the end) here, before the first chunk, so
        that a caller can answer 404 or 416 before it starts a response."""
        if start < 0 or (end is not None and end < start):
            raise InvalidRange(f"invalid range {start}-{end}")
        _size, chunks = await self._get(check_key(key), start, end)
        return chunks

    async def size(self, key: str) -> int:
        """The content's size in bytes (the plaintext's, under encryption)."""
        size, _chunks = await self._get(check_key(key), 0, 0)
        return size

    async def read(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in await self.get(key)])

    async def read_many(self, keys: Sequence[str]) -> list[bytes]:
        """Several whole blobs, in order, for a caller that needs many small ones at once
        (an IMAP FETCH of a few dozen messages): one call lets a backend batch its I/O.
        Raises :class:`BlobNotFound` if any is missing."""
        return await self._read_many([check_key(key) for key in keys])

    async def _read_many(self, keys: list[str]) -> list[bytes]:
        async def read(key: str) -> bytes:
            _size, chunks = await self._get(key, 0, None)
            return b"".join([chunk async for chunk in chunks])

        return list(await asyncio.gather(*(read(key) for key in keys)))

    async def exists(self, key: str) -> bool:
        return await self._exists(check_key(key))

    async def delete(self, key: str) -> bool:
        """Remove the blob; False if there was none."""
        return await self._delete(check_key(key))

    async def copy(self, source: str, target: str) -> None:
        """Copy a blob to another key (replacing what was there) without passing it
        through this process when the backend can avoid it: S3 copies on the server, the
        local folder in the kernel (sharing the blocks on btrfs and XFS). The copy's
        :class:`BlobRef` is the source's with the new key. Durable when it returns."""
        check_key(source)
        if source == check_key(target):
            if not await self._exists(source):
                raise BlobNotFound(source)
            return
        await self._copy(source, target)

    async def usage(self, prefix: str = "") -> Usage:
        """Number and total size of the blobs under ``prefix`` (whole segments: ``org/<id>``
        counts ``org/<id>/…``, not ``org/<id>2/…``); the empty prefix is the whole store."""
        return await self._usage(check_key(prefix.rstrip("/")) if prefix else "", same)

    async def start(self, key: str) -> str:
        """Begin a multipart upload that :meth:`complete` will store under ``key``; the
        answer is its id (32 hex digits, unguessable), valid in any process."""
        return await self._start(check_key(key), b"")

    async def put_part(self, upload: str, number: int, data: Data) -> PartRef:
        """Store part ``number`` (1 to 9,999: 80 GB at 8 MiB a part) of ``upload``, durably; sending a number
        again replaces that part. More than :attr:`part_size` bytes raise
        :class:`BlobTooLarge` and store nothing, as does a stream that fails."""
        if not isinstance(number, int) or not 1 <= number <= MAX_PARTS:
            raise InvalidUpload(f"part number {number!r} outside 1-{MAX_PARTS}")
        return await self._put_part(check_upload(upload), number, chunks_of(data), self.part_size)

    async def complete(self, upload: str, parts: Sequence[PartRef]) -> BlobRef:
        """Assemble ``parts`` (numbered 1, 2, … in order; every one but the last of
        exactly :attr:`part_size` bytes) into the upload's key, replacing what was there,
        and forget the upload. The SHA-256 is computed by reading the result back, as a
        stream. No parts make an empty blob. Parts that are not those stored (another
        etag, another size) raise :class:`InvalidUpload`, and nothing is left at the key;
        the upload may be gone then too (S3 finds out only once it has assembled them)."""
        check_upload(upload)
        for index, part in enumerate(parts, 1):
            if not isinstance(part, PartRef) or not isinstance(part.etag, str) or not isinstance(part.size, int):
                raise InvalidUpload(f"part {index} is not a PartRef")
            if part.number != index:
                raise InvalidUpload(f"part {index} expected, not part {part.number}")
            if not 0 <= part.size <= self.part_size or (index < len(parts) and part.size != self.part_size):
                raise InvalidUpload(f"part {index} has {part.size} bytes; all but the last must have {self.part_size}")
        key = await self._complete(upload, list(parts))
        digest, size = hashlib.sha256(), 0
        try:
            _size, chunks = await self._get(key, 0, None)
            async for chunk in chunks:
                await asyncio.to_thread(digest.update, chunk)
                size += len(chunk)
        except BlobCorrupt:
            size = -1
        if size != sum(part.size for part in parts):  # a backend that trusted the sizes given
            await self._delete(key)
            raise InvalidUpload("the parts given are not the parts stored")
        return BlobRef(key=key, size=size, sha256=digest.hexdigest())

    async def abort(self, upload: str) -> bool:
        """Drop an upload and its parts; False if there was none."""
        return await self._abort(check_upload(upload))

    async def close(self) -> None:  # noqa: B027 - most stores hold nothing open
        """Release what the backend holds open (the S3 client's connections)."""

    @abstractmethod
    async def _put(
        self, chunks: AsyncIterator[bytes], key: str | None, max_size: int | None, hashing: bool = True
    ) -> BlobRef:
        """Store the stream; without ``hashing`` (the encryption layer hashes the
        plaintext itself) under a given key, and the SHA-256 of the answer is empty."""

    @abstractmethod
    async def _get(self, key: str, start: int, end: int | None) -> tuple[int, Chunks]:
        """The blob's whole size and the chunks of ``[start, end)``, after checking the
        range with :func:`check_range` (and without opening a stream for an empty one)."""

    @abstractmethod
    async def _exists(self, key: str) -> bool: ...

    @abstractmethod
    async def _delete(self, key: str) -> bool: ...

    @abstractmethod
    async def _copy(self, source: str, target: str, head: bytes = b"", skip: int = 0) -> None:
        """Store ``head`` followed by the source's bytes from ``skip`` on under ``target``:
        the encryption layer copies a blob with a new header that way."""

    @abstractmethod
    async def _usage(self, prefix: str, measure: Callable[[int], int]) -> Usage:
        """Count the blobs under ``prefix`` (none under a segment starting with a dot: the
        store's own files), each of the size ``measure`` makes of its stored size."""

    @abstractmethod
    async def _names(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, its own hidden files included (the key ring's)."""

    @abstractmethod
    async def _create(self, key: str, data: bytes) -> bool:
        """Store a small blob unless ``key`` exists (then False): two processes creating
        the same organisation key must not both believe they won."""

    @abstractmethod
    async def _start(self, key: str, extra: bytes) -> str: ...

    @abstractmethod
    async def _upload(self, upload: str) -> Upload: ...

    @abstractmethod
    async def _put_part(self, upload: str, number: int, chunks: AsyncIterator[bytes], max_size: int) -> PartRef: ...

    @abstractmethod
    async def _complete(self, upload: str, parts: list[PartRef]) -> str:
        """Assemble the parts (checking each against what was stored) under the upload's
        key, which it answers."""

    @abstractmethod
    async def _abort(self, upload: str) -> bool: ...


def blob_url(settings: Settings) -> str:
    return settings.blob_url or (settings.data_dir / "blobs").resolve().as_uri()


def load(settings: Settings) -> BlobStore:
    """The backend named by ``HEXAGONE_BLOB_URL``: ``file:///absolute/folder``, or
    ``s3://host:port/bucket[/prefix]`` (``s3+http://`` without TLS); encrypted at rest
    when ``HEXAGONE_BLOB_ENCRYPTION`` is on."""
    store: BlobStore = load_backend(__name__, "HEXAGONE_BLOB_URL", blob_url(settings), BACKENDS)
    if settings.blob_encryption:
        # Loaded by name, like a backend, and only when the settings ask for it: the
        # wrapper builds on this module, which must not import it back.
        encrypted = importlib.import_module(f"{__name__}.encrypted")
        wrapped: BlobStore = encrypted.Encrypted(store, encrypted.master_keys(settings))
        return wrapped
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
