"""Blobs as files in a local folder (``file:///var/lib/hexagone/blobs``): the embedded
default.

A put writes a temporary file under ``.tmp/`` (keys never start with a dot, so it is
outside every key), fsyncs it, renames it into place, then fsyncs the directory: after a
crash a blob is either entirely there or absent, never truncated. Blocking file calls run
in threads, in pieces of about a megabyte, so a large upload never stalls the event loop.

A copy, and the assembly of a multipart upload, go through ``copy_file_range``: the
kernel moves the bytes (and shares the blocks on btrfs or XFS), this process never sees
them. An upload keeps its state and its parts under ``.uploads/<id>/``, each part a file
named after its number and a random etag, so that sending a part again never leaves
``complete`` with a half-written one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from hexagone.core.blobs import (
    PIECE,
    UPLOAD_ID_RE,
    BlobError,
    BlobNotFound,
    BlobRef,
    BlobStore,
    BlobTooLarge,
    Chunks,
    InvalidUpload,
    PartRef,
    Upload,
    UploadNotFound,
    Usage,
    check_range,
    content_key,
    nothing,
)

WRITE_BUFFER = 1 << 20
TEMP_DIR = ".tmp"
UPLOADS_DIR = ".uploads"
STATE = "state.json"
MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


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


def _append(source: BinaryIO, target: BinaryIO, offset: int, count: int) -> None:
    """Append ``count`` bytes of ``source`` from ``offset`` to ``target``, in the kernel."""
    target.flush()
    while count > 0:
        sent = os.copy_file_range(source.fileno(), target.fileno(), min(count, 1 << 30), offset)
        if sent == 0:
            raise BlobError("a blob shrank while it was copied")
        offset += sent
        count -= sent


class _TempFile:
    """A file being written (and hashed, for a put); published by rename, or discarded."""

    def __init__(self, folder: Path, *, hashing: bool = True):
        self.path = folder / f"{uuid.uuid4().hex}.part"
        self.file: BinaryIO = self.path.open("xb")
        self.hash = hashlib.sha256() if hashing else None
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        if self.hash is not None:
            self.hash.update(data)
        self.size += len(data)

    def publish(self, target: Path, *, create: bool = True) -> None:
        """Put the file in place, durably; ``create``: and the folders it needs."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        if create:
            _ensure_dir(target.parent)
        try:
            os.replace(self.path, target)
        except (NotADirectoryError, IsADirectoryError, FileExistsError):
            raise BlobError(f"blob {target.name!r} clashes with a blob or a folder of this store") from None
        _fsync_dir(target.parent)

    def discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


async def _chained(head: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in head:
        yield chunk
    async for chunk in rest:
        yield chunk


async def _fill(temp: _TempFile, chunks: AsyncIterator[bytes], max_size: int | None) -> None:
    """Write the stream into ``temp`` by the megabyte; :class:`BlobTooLarge` past ``max_size``."""
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


def _open(path: Path, key: str) -> BinaryIO:
    try:
        return path.open("rb")
    except MISSING:
        raise BlobNotFound(key) from None


class Backend(BlobStore):
    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ValueError("HEXAGONE_BLOB_URL: a file URL names a local absolute folder (file:///path)")
        self.root = Path(unquote(parts.path)).resolve()
        self.temp = self.root / TEMP_DIR
        self.uploads = self.root / UPLOADS_DIR
        self.temp.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _put_bytes(self, data: bytes, key: str | None, hashing: bool) -> BlobRef:
        temp = _TempFile(self.temp, hashing=hashing)
        try:
            temp.write(data)
            return self._publish(temp, key)
        except BaseException:
            temp.discard()
            raise

    def _publish(self, temp: _TempFile, key: str | None) -> BlobRef:
        """Put a written temporary file in place under ``key`` (its hash without one)."""
        sha256 = "" if temp.hash is None else temp.hash.hexdigest()
        key = key or content_key(sha256)
        temp.publish(self._path(key))
        return BlobRef(key=key, size=temp.size, sha256=sha256)

    async def _put(
        self, chunks: AsyncIterator[bytes], key: str | None, max_size: int | None, hashing: bool = True
    ) -> BlobRef:
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
            return await asyncio.to_thread(self._put_bytes, data, key, hashing)
        temp = await asyncio.to_thread(_TempFile, self.temp, hashing=hashing)
        try:
            await _fill(temp, _chained(head, chunks), max_size)
            return await asyncio.to_thread(self._publish, temp, key)
        except BaseException:
            await asyncio.to_thread(temp.discard)
            raise

    async def _get(self, key: str, start: int, end: int | None) -> tuple[int, Chunks]:
        def opened() -> tuple[int, int, BinaryIO | None]:
            file = _open(self._path(key), key)
            try:
                size = os.fstat(file.fileno()).st_size
                stop = check_range(size, start, end)
                if stop > start:
                    file.seek(start)
                    return size, stop, file
            except BaseException:
                file.close()
                raise
            file.close()
            return size, stop, None

        size, stop, file = await asyncio.to_thread(opened)
        return size, (nothing() if file is None else self._stream(file, stop - start))

    async def _stream(self, file: BinaryIO, count: int) -> Chunks:
        try:
            while count > 0 and (chunk := await asyncio.to_thread(file.read, min(PIECE, count))):
                count -= len(chunk)
                yield chunk
        finally:
            file.close()

    async def _read_many(self, keys: list[str]) -> list[bytes]:
        def read_all() -> list[bytes]:  # one thread hop for the lot, not three per file
            found = []
            for key in keys:
                try:
                    found.append(self._path(key).read_bytes())
                except MISSING:
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
            except MISSING:
                return False
            _fsync_dir(path.parent)
            return True

        return await asyncio.to_thread(remove)

    async def _copy(self, source: str, target: str, head: bytes = b"", skip: int = 0) -> None:
        def copy() -> None:
            with _open(self._path(source), source) as file:
                size = os.fstat(file.fileno()).st_size
                temp = _TempFile(self.temp, hashing=False)
                try:
                    temp.write(head)
                    _append(file, temp.file, skip, size - skip)
                    temp.publish(self._path(target))
                except BaseException:
                    temp.discard()
                    raise

        await asyncio.to_thread(copy)

    async def _usage(self, prefix: str, measure: Callable[[int], int]) -> Usage:
        def walk() -> Usage:
            top = self._path(prefix) if prefix else self.root
            if top.is_file():
                return Usage(1, measure(top.stat().st_size))
            count = size = 0
            for folder, dirs, files in os.walk(top):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in files:
                    if name.startswith("."):
                        continue
                    with contextlib.suppress(FileNotFoundError):  # deleted while we walk
                        size += measure(os.stat(os.path.join(folder, name)).st_size)
                        count += 1
            return Usage(count, size)

        return await asyncio.to_thread(walk)

    async def _names(self, prefix: str) -> list[str]:
        def walk() -> list[str]:
            top = self._path(prefix)
            return sorted(path.relative_to(self.root).as_posix() for path in top.rglob("*") if path.is_file())

        return await asyncio.to_thread(walk)

    async def _create(self, key: str, data: bytes) -> bool:
        def create() -> bool:
            target = self._path(key)
            temp = _TempFile(self.temp, hashing=False)
            try:
                temp.write(data)
                temp.file.flush()
                os.fsync(temp.file.fileno())
                _ensure_dir(target.parent)
                os.link(temp.path, target)  # unlike a rename, fails if the key exists
            except FileExistsError:
                return False
            finally:
                temp.discard()
            _fsync_dir(target.parent)
            return True

        return await asyncio.to_thread(create)

    # --- multipart uploads -----------------------------------------------------------

    def _upload_dir(self, upload: str) -> Path:
        return self.uploads / upload

    async def _start(self, key: str, extra: bytes) -> str:
        upload = secrets.token_hex(16)
        folder = self._upload_dir(upload)
        state = json.dumps({"key": key, "extra": extra.hex()}).encode()

        def start() -> None:
            _ensure_dir(folder)
            temp = _TempFile(folder, hashing=False)
            temp.write(state)
            temp.publish(folder / STATE)

        await asyncio.to_thread(start)
        return upload

    async def _upload(self, upload: str) -> Upload:
        try:
            state = json.loads(await asyncio.to_thread((self._upload_dir(upload) / STATE).read_bytes))
        except MISSING:
            raise UploadNotFound(upload) from None
        return Upload(key=state["key"], extra=bytes.fromhex(state["extra"]))

    async def _put_part(self, upload: str, number: int, chunks: AsyncIterator[bytes], max_size: int) -> PartRef:
        folder = self._upload_dir(upload)
        if not await asyncio.to_thread((folder / STATE).is_file):
            raise UploadNotFound(upload)
        temp = await asyncio.to_thread(_TempFile, folder, hashing=False)
        try:
            await _fill(temp, chunks, max_size)
            etag = secrets.token_hex(16)

            def publish() -> None:
                try:
                    temp.publish(folder / f"{number}.{etag}", create=False)
                except FileNotFoundError:  # aborted meanwhile: its folder is gone
                    raise UploadNotFound(upload) from None
                for older in folder.glob(f"{number}.*"):
                    if older.name != f"{number}.{etag}":
                        older.unlink(missing_ok=True)

            await asyncio.to_thread(publish)
        except BaseException:
            await asyncio.to_thread(temp.discard)
            raise
        return PartRef(number=number, size=temp.size, etag=etag)

    async def _complete(self, upload: str, parts: list[PartRef]) -> str:
        key = (await self._upload(upload)).key
        folder = self._upload_dir(upload)

        def assemble() -> None:
            temp = _TempFile(self.temp, hashing=False)
            try:
                for part in parts:  # an etag is 32 hex digits: no path to elsewhere
                    path = folder / f"{part.number}.{part.etag}"
                    if not UPLOAD_ID_RE.fullmatch(part.etag) or not path.is_file() or path.stat().st_size != part.size:
                        raise InvalidUpload(f"part {part.number} is not the one uploaded with etag {part.etag!r}")
                    with path.open("rb") as file:
                        _append(file, temp.file, 0, part.size)
                temp.publish(self._path(key))
            except BaseException:
                temp.discard()
                raise
            shutil.rmtree(folder)
            _fsync_dir(self.uploads)

        await asyncio.to_thread(assemble)
        return key

    async def _abort(self, upload: str) -> bool:
        folder = self._upload_dir(upload)

        def remove() -> bool:
            try:
                shutil.rmtree(folder)
            except FileNotFoundError:
                return False
            _fsync_dir(self.uploads)
            return True

        return await asyncio.to_thread(remove)
