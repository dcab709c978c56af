"""Blobs as files in a local folder (``file:///var/lib/hexagone/blobs``): the embedded
default.

A put writes a temporary file under ``.tmp/`` (keys never start with a dot, so it is
outside every key), fsyncs it, renames it into place, then fsyncs the directory: after a
crash a blob is either entirely there or absent, never truncated. Blocking file calls run
in threads, in pieces of about a megabyte, so a large upload never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from hexagone.core.blobs import BlobError, BlobNotFound, BlobRef, BlobStore, BlobTooLarge, Usage, content_key

WRITE_BUFFER = 1 << 20
READ_CHUNK = 256 << 10
TEMP_DIR = ".tmp"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ensure_dir(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each made durable in its parent."""
    missing = []
    while not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir()
            _fsync_dir(path.parent)


class _TempFile:
    """A file being written and hashed; published by rename, or discarded."""

    def __init__(self, folder: Path):
        self.path = folder / f"{uuid.uuid4().hex}.part"
        self.file: BinaryIO = self.path.open("xb")
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.hash.update(data)
        self.size += len(data)

    def publish(self, target: Path) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        _ensure_dir(target.parent)
        os.replace(self.path, target)
        _fsync_dir(target.parent)

    def discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


async def _chained(head: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in head:
        yield chunk
    async for chunk in rest:
        yield chunk


class Backend(BlobStore):
    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ValueError("HEXAGONE_BLOB_URL: a file URL names a local absolute folder (file:///path)")
        self.root = Path(unquote(parts.path)).resolve()
        self.temp = self.root / TEMP_DIR
        self.temp.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _put_bytes(self, data: bytes, key: str | None) -> BlobRef:
        temp = _TempFile(self.temp)
        try:
            temp.write(data)
            return self._publish(temp, key)
        except BaseException:
            temp.discard()
            raise

    def _publish(self, temp: _TempFile, key: str | None) -> BlobRef:
        """Put a written temporary file in place under ``key`` (its hash without one)."""
        sha256 = temp.hash.hexdigest()
        key = key or content_key(sha256)
        try:
            temp.publish(self._path(key))
        except (NotADirectoryError, IsADirectoryError, FileExistsError):
            raise BlobError(f"blob key {key!r} clashes with a blob or a folder of this store") from None
        return BlobRef(key=key, size=temp.size, sha256=sha256)

    async def _put(self, chunks: AsyncIterator[bytes], key: str | None, max_size: int | None) -> BlobRef:
        """A blob that comes in one piece (a message in memory, most of the time) is
        written, fsync'd and renamed in one trip to a thread, not three."""
        head: list[bytes] = []
        async for chunk in chunks:
            head.append(chunk)
            if len(head) == 2:
                break
        if len(head) < 2:
            data = bytes(head[0]) if head else b""
            if max_size is not None and len(data) > max_size:
                raise BlobTooLarge(f"blob larger than {max_size} bytes")
            return await asyncio.to_thread(self._put_bytes, data, key)
        return await self._put_stream(_chained(head, chunks), key, max_size)

    async def _put_stream(self, chunks: AsyncIterator[bytes], key: str | None, max_size: int | None) -> BlobRef:
        temp = await asyncio.to_thread(_TempFile, self.temp)
        try:
            buffer = bytearray()
            async for chunk in chunks:
                buffer += chunk
                if max_size is not None and temp.size + len(buffer) > max_size:
                    raise BlobTooLarge(f"blob larger than {max_size} bytes")
                if len(buffer) >= WRITE_BUFFER:
                    await asyncio.to_thread(temp.write, bytes(buffer))
                    buffer.clear()
            if buffer:
                await asyncio.to_thread(temp.write, bytes(buffer))
            return await asyncio.to_thread(self._publish, temp, key)
        except BaseException:
            await asyncio.to_thread(temp.discard)
            raise

    async def _get(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        def opened() -> BinaryIO:
            file = self._path(key).open("rb")
            if start:
                file.seek(start)
            return file

        try:
            file = await asyncio.to_thread(opened)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(key) from None
        return self._stream(file, None if end is None else end - start)

    async def _stream(self, file: BinaryIO, left: int | None) -> AsyncIterator[bytes]:
        try:
            while left is None or left > 0:
                chunk = await asyncio.to_thread(file.read, READ_CHUNK if left is None else min(left, READ_CHUNK))
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            file.close()

    async def _read_many(self, keys: list[str]) -> list[bytes]:
        def read_all() -> list[bytes]:  # one thread hop for the lot, not three per file
            found = []
            for key in keys:
                try:
                    found.append(self._path(key).read_bytes())
                except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    raise BlobNotFound(key) from None
            return found

        return await asyncio.to_thread(read_all)

    async def _exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def _delete(self, key: str) -> bool:
        path = self._path(key)

        def remove() -> bool:
            try:
                path.unlink()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return False
            _fsync_dir(path.parent)
            return True

        return await asyncio.to_thread(remove)

    async def _usage(self, prefix: str) -> Usage:
        def walk() -> Usage:
            top = self._path(prefix) if prefix else self.root
            if top.is_file():
                return Usage(1, top.stat().st_size)
            count = size = 0
            for folder, dirs, files in os.walk(top):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in files:
                    if name.startswith("."):
                        continue
                    with contextlib.suppress(FileNotFoundError):  # deleted while we walk
                        size += os.stat(os.path.join(folder, name)).st_size
                        count += 1
            return Usage(count, size)

        return await asyncio.to_thread(walk)
