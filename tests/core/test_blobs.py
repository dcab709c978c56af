"""The blob store, the same tests over the local folder and S3 (a real SeaweedFS server),
each plain and encrypted: streaming in and out, ranges, copies, multipart uploads,
content addressing, usage for billing, failed uploads that leave nothing, keys that
cannot climb out of the store, and memory that stays flat whatever the size."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ValidationError

from hexagone.core import blobs
from hexagone.core.blobs import (
    PIECE,
    BlobError,
    BlobNotFound,
    BlobRef,
    BlobStore,
    BlobTooLarge,
    InvalidKey,
    InvalidRange,
    InvalidUpload,
    PartRef,
    UploadNotFound,
    Usage,
    content_key,
    local,
    s3,
)
from hexagone.core.blobs.encrypted import Encrypted
from hexagone.core.blobs.s3 import PART_SIZE
from hexagone.core.config import Settings
from tests.commands import hexagone
from tests.conftest import server_env
from tests.core.seaweed import BLOB_BACKENDS, blob_environment

MIB = 1 << 20


def open_store(environment: dict[str, str], **changes: str | None) -> BlobStore:
    """A store with these settings (``HEXAGONE_BLOB_URL`` …), as a server would load it."""
    values = {"HEXAGONE_BLOB_ENCRYPTION": "false", "HEXAGONE_BLOB_MASTER_KEY": None, **environment, **changes}
    values.setdefault("HEXAGONE_BLOB_MASTER_KEY_PREVIOUS", None)  # not the test process' own
    return blobs.load(Settings(**{name.removeprefix("HEXAGONE_").lower(): value for name, value in values.items()}))


def backend_of(store: BlobStore) -> BlobStore:
    return store.inner if isinstance(store, Encrypted) else store


@pytest.fixture(params=BLOB_BACKENDS)
def environment(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param.startswith("s3"):
        request.getfixturevalue("seaweed")  # started once for the session
    return blob_environment(request.param, tmp_path)


@pytest.fixture
async def store(environment: dict[str, str]) -> AsyncIterator[BlobStore]:
    opened = open_store(environment)
    yield opened
    await empty(opened)
    await opened.close()


@dataclass
class Sealed:
    """An encrypted store, and the same storage seen without encryption: what whoever
    holds the disk or the bucket sees, and may change."""

    encrypted: BlobStore
    plain: BlobStore
    environment: dict[str, str]

    def with_keys(self, master: str, previous: str | None = None) -> BlobStore:
        """The storage through another process, with these master keys."""
        keys = {"HEXAGONE_BLOB_MASTER_KEY": master, "HEXAGONE_BLOB_MASTER_KEY_PREVIOUS": previous or ""}
        return open_store(self.environment, **{name: value for name, value in keys.items() if value})


@pytest.fixture(params=[name for name in BLOB_BACKENDS if name.endswith("+encrypted")])
async def sealed(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Sealed]:
    if request.param.startswith("s3"):
        request.getfixturevalue("seaweed")
    environment = blob_environment(request.param, tmp_path)
    found = Sealed(open_store(environment), open_store(environment, HEXAGONE_BLOB_ENCRYPTION="false"), environment)
    yield found
    await empty(found.encrypted)
    await found.encrypted.close()
    await found.plain.close()


@pytest.fixture
def local_store(tmp_path: Path) -> BlobStore:
    return open_store({"HEXAGONE_BLOB_URL": (tmp_path / "blobs").as_uri()})


async def empty(store: BlobStore) -> None:
    """Delete everything under the test's prefix of the bucket, unfinished uploads included."""
    backend = backend_of(store)
    if not isinstance(backend, s3.Backend):
        return
    client = await backend.client()
    uploads = await client.list_multipart_uploads(Bucket=backend.bucket, Prefix=backend.prefix)
    for upload in uploads.get("Uploads", []):
        await client.abort_multipart_upload(Bucket=backend.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=backend.bucket, Prefix=backend.prefix)
    async for page in pages:
        for item in page.get("Contents", []):
            await client.delete_object(Bucket=backend.bucket, Key=item["Key"])


async def leftovers(store: BlobStore) -> list[str]:
    """Everything the backend holds, temporary files and unfinished uploads included, but
    the encryption's key ring."""
    backend = backend_of(store)
    if isinstance(backend, s3.Backend):
        client = await backend.client()
        uploads = await client.list_multipart_uploads(Bucket=backend.bucket, Prefix=backend.prefix)
        objects = await client.list_objects_v2(Bucket=backend.bucket, Prefix=backend.prefix)
        names = [u["Key"] for u in uploads.get("Uploads", [])] + [o["Key"] for o in objects.get("Contents", [])]
        return sorted(name.removeprefix(backend.prefix) for name in names if ".keys/" not in name)
    assert isinstance(backend, local.Backend)
    found = (path.relative_to(backend.root).as_posix() for path in backend.root.rglob("*") if path.is_file())
    return sorted(name for name in found if not name.startswith(".keys/"))


async def pieces(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def generated(size: int, block: bytes) -> AsyncIterator[bytes]:
    for offset in range(0, size, len(block)):
        yield block[: size - offset]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def received(store: BlobStore, key: str, **where: int) -> list[bytes]:
    return [chunk async for chunk in await store.get(key, **where)]


# --- put, get, delete ------------------------------------------------------------------


async def test_put_then_get_returns_the_same_bytes_with_size_and_sha256(store: BlobStore) -> None:
    data = b"Bonjour \xc3\xa9\x00\xff" * 1000
    ref = await store.put(data, key="org/o1/drive/f1")
    assert ref == BlobRef(key="org/o1/drive/f1", size=len(data), sha256=sha(data))
    assert await store.read("org/o1/drive/f1") == data
    assert await store.exists("org/o1/drive/f1")
    assert await store.size("org/o1/drive/f1") == len(data)


async def test_streamed_put_and_get_handle_content_larger_than_the_buffers(store: BlobStore) -> None:
    chunk = os.urandom(300_000)
    ref = await store.put(pieces(*[chunk] * 12), key="org/o1/big")
    assert ref.size == 3_600_000 and ref.sha256 == sha(chunk * 12)
    chunks = await received(store, "org/o1/big")
    assert b"".join(chunks) == chunk * 12
    assert len(chunks) == 4 and {len(c) for c in chunks[:-1]} == {PIECE}  # a megabyte a chunk


async def test_content_larger_than_an_upload_part_goes_up_in_parts(store: BlobStore) -> None:
    chunk = os.urandom(MIB)
    count = PART_SIZE // len(chunk) * 2 + 3
    ref = await store.put(pieces(*[chunk] * count), key="org/o1/huge")
    assert ref == BlobRef("org/o1/huge", len(chunk) * count, sha(chunk * count))
    assert await store.read("org/o1/huge") == chunk * count
    unnamed = await store.put(pieces(*[chunk] * (count - 1)))
    assert unnamed.key.startswith("sha256/") and unnamed.sha256 == sha(chunk * (count - 1))
    assert await store.read(unnamed.key) == chunk * (count - 1)
    assert await store.usage() == Usage(2, len(chunk) * (2 * count - 1))


async def test_failed_upload_of_several_parts_leaves_nothing(store: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        for _ in range(PART_SIZE // MIB + 2):
            yield os.urandom(MIB)
        raise ConnectionResetError("client went away")

    for key in ("upload", None):
        with pytest.raises(ConnectionResetError):
            await store.put(broken(), key=key)
    with pytest.raises(BlobTooLarge):
        await store.put(pieces(*[b"x" * MIB] * (PART_SIZE // MIB + 2)), key="big", max_size=PART_SIZE + 1)
    assert await leftovers(store) == []


async def test_put_without_a_key_stores_the_content_under_its_hash_once(store: BlobStore) -> None:
    first = await store.put(b"same attachment")
    second = await store.put(pieces(b"same ", b"attachment"))
    assert first == second and first.sha256 == sha(b"same attachment")
    assert re.fullmatch(r"sha256/([0-9a-f]{2})/\1[0-9a-f]{62}", first.key)
    assert await store.usage("sha256") == Usage(count=1, bytes=15)
    assert await store.read(first.key) == b"same attachment"
    # Under encryption the name is keyed: the storage's operator cannot look a known file up.
    assert (first.key == content_key(first.sha256)) is not isinstance(store, Encrypted)


async def test_put_on_an_existing_key_replaces_the_content(store: BlobStore) -> None:
    await store.put(b"version 1", key="doc")
    await store.put(b"v2", key="doc")
    assert await store.read("doc") == b"v2"


async def test_empty_content_is_a_blob_too(store: BlobStore) -> None:
    ref = await store.put(b"", key="empty")
    assert ref.size == 0 and await store.read("empty") == b"" and await store.size("empty") == 0


async def test_get_of_a_missing_blob_raises_not_found_before_streaming(store: BlobStore) -> None:
    for where in ({}, {"start": 5}, {"start": 0, "end": 0}):
        with pytest.raises(BlobNotFound):
            await store.get("org/o1/nothing", **where)
    with pytest.raises(BlobNotFound):
        await store.size("org/o1/nothing")
    assert not await store.exists("org/o1/nothing")


async def test_delete_removes_the_blob_and_says_whether_there_was_one(store: BlobStore) -> None:
    await store.put(b"x", key="org/o1/tmp")
    assert await store.delete("org/o1/tmp")
    assert not await store.delete("org/o1/tmp")
    with pytest.raises(BlobNotFound):
        await store.read("org/o1/tmp")


async def test_content_over_the_size_limit_is_refused_and_leaves_nothing(store: BlobStore) -> None:
    with pytest.raises(BlobTooLarge):
        await store.put(pieces(b"a" * 600, b"b" * 600), key="mail/too-big", max_size=1000)
    assert not await store.exists("mail/too-big")
    assert await leftovers(store) == []
    ref = await store.put(b"a" * 1000, key="mail/just-right", max_size=1000)
    assert ref.size == 1000


async def test_failed_stream_leaves_neither_blob_nor_temporary_file(store: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put(broken(), key="upload")
    assert not await store.exists("upload")
    assert await leftovers(store) == []


async def test_usage_counts_whole_segments_under_a_prefix(store: BlobStore) -> None:
    await store.put(b"12345", key="org/a/drive/one")
    await store.put(b"123", key="org/a/mail/two")
    await store.put(b"1", key="org/ab/drive/three")
    assert await store.usage("org/a") == Usage(count=2, bytes=8)
    assert await store.usage("org/a/") == Usage(count=2, bytes=8)
    assert await store.usage("org/ab") == Usage(count=1, bytes=1)
    assert await store.usage("org/a/drive/one") == Usage(count=1, bytes=5)
    assert await store.usage("org/none") == Usage(0, 0)
    assert await store.usage() == Usage(count=3, bytes=9)


# --- ranges ----------------------------------------------------------------------------

RANGES = [
    (0, None),
    (0, 1),
    (5, 100),
    (MIB - 3, MIB + 5),  # across a segment of the encryption
    (MIB, 2 * MIB),  # exactly one segment
    (2 * MIB + 7, None),
    (3 * MIB + 1000 - 1, None),  # the last byte
    (3 * MIB + 1000, None),  # nothing, at the very end
    (1000, 1000),  # nothing, inside
]


async def test_get_of_a_range_returns_exactly_those_bytes(store: BlobStore) -> None:
    data = os.urandom(3 * MIB + 1000)
    await store.put(data, key="org/o1/ranged")
    for start, end in RANGES:
        chunks = await received(store, "org/o1/ranged", start=start, **({} if end is None else {"end": end}))
        assert b"".join(chunks) == data[start:end], (start, end)
        assert all(0 < len(chunk) <= PIECE for chunk in chunks)


async def test_range_outside_the_blob_is_refused_before_streaming(store: BlobStore) -> None:
    await store.put(b"0123456789", key="org/o1/ten")
    await store.put(b"", key="org/o1/empty")
    for key, start, end in [
        ("org/o1/ten", 11, None),
        ("org/o1/ten", 0, 11),
        ("org/o1/ten", 11, 12),
        ("org/o1/ten", -1, 5),
        ("org/o1/ten", 5, 4),
        ("org/o1/empty", 0, 1),
        ("org/o1/empty", 1, None),
    ]:
        with pytest.raises(InvalidRange):
            await store.get(key, start=start, end=end)
    assert await received(store, "org/o1/ten", start=10) == []
    assert await received(store, "org/o1/empty", start=0, end=0) == []
    assert b"".join(await received(store, "org/o1/ten", start=9, end=10)) == b"9"


# --- copy ------------------------------------------------------------------------------


async def test_copy_makes_an_independent_copy_under_another_key(store: BlobStore) -> None:
    data = os.urandom(PART_SIZE + MIB + 5)  # S3: a copy with a new header goes up in parts
    ref = await store.put(data, key="org/a/drive/v1")
    await store.put(b"old", key="org/a/drive/v2")
    await store.copy("org/a/drive/v1", "org/a/drive/v2")
    await store.copy("org/a/drive/v1", "org/b/drive/elsewhere")  # another organisation, another key
    await store.delete("org/a/drive/v1")
    for key in ("org/a/drive/v2", "org/b/drive/elsewhere"):
        assert await store.read(key) == data
        assert b"".join(await received(store, key, start=MIB - 1, end=MIB + 1)) == data[MIB - 1 : MIB + 1]
        assert await store.size(key) == ref.size
    small = await store.put(b"small", key="org/a/small")
    await store.copy("org/a/small", "org/a/small")  # onto itself: nothing to do
    await store.copy(small.key, "org/a/small-copy")
    assert await store.read("org/a/small") == await store.read("org/a/small-copy") == b"small"
    with pytest.raises(BlobNotFound):
        await store.copy("org/a/missing", "org/a/copy")
    with pytest.raises(BlobNotFound):
        await store.copy("org/a/missing", "org/a/missing")
    with pytest.raises(InvalidKey):
        await store.copy("org/a/small", "../escape")
    assert await leftovers(store) == ["org/a/drive/v2", "org/a/small", "org/a/small-copy", "org/b/drive/elsewhere"]


async def test_s3_copy_past_the_copy_object_limit_goes_up_in_part_copies(
    seaweed: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3, "COPY_OBJECT_LIMIT", MIB)
    monkeypatch.setattr(s3, "COPY_PART_SIZE", 5 * MIB)
    store = open_store(blob_environment("s3", tmp_path))
    data = os.urandom(12 * MIB + 3)
    await store.put(data, key="org/a/large")
    await store.copy("org/a/large", "org/a/copy")
    assert await store.read("org/a/copy") == data
    assert await leftovers(store) == ["org/a/copy", "org/a/large"]
    await empty(store)
    await store.close()


# --- multipart uploads -----------------------------------------------------------------


async def test_multipart_upload_assembles_the_parts_in_order(store: BlobStore) -> None:
    size = store.part_size
    data = os.urandom(2 * size + 12345)
    upload = await store.start("org/a/drive/big")
    third = await store.put_part(upload, 3, data[2 * size :])
    first = await store.put_part(upload, 1, pieces(data[: size // 2], data[size // 2 : size]))
    second = await store.put_part(upload, 2, data[size : 2 * size])
    assert (first.size, second.size, third.size) == (size, size, 12345)
    ref = await store.complete(upload, [first, second, third])
    assert ref == BlobRef("org/a/drive/big", len(data), sha(data))
    assert await store.read("org/a/drive/big") == data
    assert (
        b"".join(await received(store, "org/a/drive/big", start=size - 10, end=size + 10))
        == data[size - 10 : size + 10]
    )
    assert await leftovers(store) == ["org/a/drive/big"]
    with pytest.raises(UploadNotFound):
        await store.complete(upload, [first, second, third])


@pytest.mark.parametrize("full_parts", [0, 1, 2])
async def test_multipart_upload_whose_last_part_is_full_or_absent(store: BlobStore, full_parts: int) -> None:
    data = os.urandom(full_parts * store.part_size)
    upload = await store.start("org/a/exact")
    parts = [
        await store.put_part(upload, n + 1, data[n * store.part_size : (n + 1) * store.part_size])
        for n in range(full_parts)
    ]
    ref = await store.complete(upload, parts)
    assert ref == BlobRef("org/a/exact", len(data), sha(data))
    assert await store.read("org/a/exact") == data and await store.size("org/a/exact") == len(data)
    if data:
        assert b"".join(await received(store, "org/a/exact", start=len(data) - 3)) == data[-3:]
    assert await leftovers(store) == ["org/a/exact"]


async def test_a_part_sent_again_replaces_the_first_one(store: BlobStore) -> None:
    upload = await store.start("org/a/resent")
    await store.put_part(upload, 1, b"first try")
    fresh = await store.put_part(upload, 1, b"second try")
    ref = await store.complete(upload, [fresh])
    assert ref.size == 10 and await store.read("org/a/resent") == b"second try"
    assert await leftovers(store) == ["org/a/resent"]


async def test_local_store_forgets_a_part_sent_again(local_store: BlobStore) -> None:
    """(S3 engines differ: AWS keeps the last part sent, SeaweedFS both.)"""
    upload = await local_store.start("org/a/resent")
    stale = await local_store.put_part(upload, 1, b"first try")
    await local_store.put_part(upload, 1, b"second try")
    with pytest.raises(InvalidUpload):
        await local_store.complete(upload, [stale])


async def test_complete_refuses_parts_out_of_order_short_or_not_the_ones_stored(store: BlobStore) -> None:
    size = store.part_size
    upload = await store.start("org/a/checked")
    first = await store.put_part(upload, 1, os.urandom(size))
    short = await store.put_part(upload, 2, b"short")
    last = await store.put_part(upload, 3, b"end")
    for parts in (
        [short, first],  # out of order
        [first, last],  # a gap
        [first, short, last],  # a short part before the last
        [PartRef(1, size, "0" * 32)],  # an etag never given
        [first, PartRef(2, 5, '"' + "0" * 32 + '"')],
        [PartRef(1, size, "../../../../etc/passwd")],
        [PartRef(1, size, first.etag), "part"],
    ):
        with pytest.raises(InvalidUpload):
            await store.complete(upload, parts)  # type: ignore[arg-type]
    ref = await store.complete(upload, [first, short])
    assert ref.size == size + 5 and (await store.read("org/a/checked")).endswith(b"short")


@pytest.mark.parametrize("forged", [-1, 1])
async def test_complete_refuses_a_part_of_another_size_and_leaves_nothing(store: BlobStore, forged: int) -> None:
    upload = await store.start("org/a/forged")
    first = await store.put_part(upload, 1, b"x" * store.part_size)
    last = await store.put_part(upload, 2, b"end")
    with pytest.raises(InvalidUpload):
        await store.complete(upload, [first, PartRef(2, last.size + forged, last.etag)])
    assert not await store.exists("org/a/forged")
    await store.abort(upload)
    assert await leftovers(store) == []


async def test_part_larger_than_the_part_size_is_refused_and_stores_nothing(store: BlobStore) -> None:
    upload = await store.start("org/a/over")
    with pytest.raises(BlobTooLarge):
        await store.put_part(upload, 1, pieces(*[b"x" * MIB] * (store.part_size // MIB), b"x"))

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * MIB
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put_part(upload, 1, broken())
    assert await store.complete(upload, []) == BlobRef("org/a/over", 0, sha(b""))  # no part was kept
    assert await leftovers(store) == ["org/a/over"]


async def test_abort_leaves_nothing_and_the_upload_is_gone(store: BlobStore) -> None:
    upload = await store.start("org/a/aborted")
    part = await store.put_part(upload, 1, os.urandom(store.part_size))
    await store.put_part(upload, 2, b"rest")
    assert await store.abort(upload)
    assert await leftovers(store) == []
    assert not await store.exists("org/a/aborted")
    assert not await store.abort(upload)
    with pytest.raises(UploadNotFound):
        await store.put_part(upload, 1, b"late")
    with pytest.raises(UploadNotFound):
        await store.complete(upload, [part])


async def test_abort_while_a_part_arrives_leaves_nothing(store: BlobStore) -> None:
    upload = await store.start("org/a/raced")

    async def aborted_midway() -> AsyncIterator[bytes]:
        yield b"x" * MIB
        assert await store.abort(upload)  # another request, in the middle of this one
        yield b"y" * MIB

    with pytest.raises(UploadNotFound):
        await store.put_part(upload, 1, aborted_midway())
    assert await leftovers(store) == []


async def test_upload_continues_in_another_process(environment: dict[str, str], store: BlobStore) -> None:
    upload = await store.start("org/a/shared")
    first = await store.put_part(upload, 1, b"x" * store.part_size)
    other = open_store(environment)  # another process: nothing of the upload in memory
    try:
        last = await other.put_part(upload, 2, b"tail")
        ref = await other.complete(upload, [first, last])
    finally:
        await other.close()
    assert ref.size == store.part_size + 4 and await store.read("org/a/shared") == b"x" * store.part_size + b"tail"


@pytest.mark.parametrize("upload", ["", "../../etc", "0" * 31, "0" * 33, "A" * 32, "0" * 31 + "/", "g" * 32, None])
async def test_malformed_upload_ids_and_part_numbers_are_refused(store: BlobStore, upload: str) -> None:
    with pytest.raises(InvalidUpload):
        await store.put_part(upload, 1, b"x")
    with pytest.raises(InvalidUpload):
        await store.complete(upload, [])
    with pytest.raises(InvalidUpload):
        await store.abort(upload)
    started = await store.start("org/a/numbers")
    for number in (0, -1, 10_000, "1", 1.0):
        with pytest.raises(InvalidUpload):
            await store.put_part(started, number, b"x")  # type: ignore[arg-type]
    assert await store.abort(started)


async def test_upload_ids_are_unguessable_and_unknown_ones_are_not_found(store: BlobStore) -> None:
    ids = {await store.start("org/a/many") for _ in range(3)}
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", upload) for upload in ids)
    unknown = "0123456789abcdef" * 2
    with pytest.raises(UploadNotFound):
        await store.put_part(unknown, 1, b"x")
    with pytest.raises(UploadNotFound):
        await store.complete(unknown, [])
    assert not await store.abort(unknown)
    with pytest.raises(InvalidKey):
        await store.start("../escape")
    for upload in ids:
        await store.abort(upload)
    assert await leftovers(store) == []


# --- keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../escape",
        "org/../../escape",
        "org/./x",
        "org//x",
        "org/x/",
        ".hidden",
        "org/.tmp/x",
        ".keys/store",
        "a\\b",
        "a b",
        "é",
        "a\x00b",
        "org/x\n",
        "x" * 256,
        "/".join(["ab"] * 400),
    ],
)
async def test_keys_that_could_escape_or_collide_are_refused(store: BlobStore, key: str) -> None:
    for operation in (
        lambda: store.put(b"x", key=key),
        lambda: store.get(key),
        lambda: store.size(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.copy(key, "org/a/x"),
        lambda: store.copy("org/a/x", key),
        lambda: store.start(key),
    ):
        with pytest.raises(InvalidKey):
            await operation()


async def test_local_store_refuses_a_key_that_is_both_a_blob_and_a_folder(local_store: BlobStore) -> None:
    store = local_store
    await store.put(b"file", key="org/a")
    with pytest.raises(BlobError):
        await store.put(b"child", key="org/a/child")
    await store.put(b"child", key="org/b/child")
    with pytest.raises(BlobError):
        await store.put(b"file", key="org/b")
    assert await store.read("org/a") == b"file" and await store.read("org/b/child") == b"child"


async def test_local_store_writes_only_inside_its_folder_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = open_store({"HEXAGONE_BLOB_URL": (tmp_path / "blobs").as_uri()})
    await store.put(b"x", key="org/o/file")
    await store.put(b"y")
    await store.copy("org/o/file", "org/o/copy")
    upload = await store.start("org/o/parts")
    await store.complete(upload, [await store.put_part(upload, 1, b"z")])
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        "blobs/org/o/copy",
        "blobs/org/o/file",
        "blobs/org/o/parts",
        f"blobs/sha256/{sha(b'y')[:2]}/{sha(b'y')}",
    ]


def test_default_store_is_a_folder_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, blob_url=None, blob_encryption=False)
    assert blobs.blob_url(settings) == (tmp_path / "blobs").as_uri()
    assert isinstance(blobs.load(settings), local.Backend)
    assert (tmp_path / "blobs").is_dir()


@pytest.mark.parametrize("url", ["s4://bucket", "file://otherhost/blobs", "s3://host:9000", "s3:///bucket"])
def test_unusable_blob_url_is_refused_with_the_setting_named(url: str) -> None:
    with pytest.raises(ValueError, match="HEXAGONE_BLOB_URL"):
        open_store({"HEXAGONE_BLOB_URL": url})


# --- memory ----------------------------------------------------------------------------


class PeakMemory:
    """How far the process' resident memory rose above where it was at the start of the
    block: Linux resets the high-water mark on request, so nothing needs sampling."""

    def __enter__(self) -> PeakMemory:
        Path("/proc/self/clear_refs").write_text("5")
        self.start = self._kib("VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        self.growth = (self._kib("VmHWM") - self.start) * 1024

    @staticmethod
    def _kib(field: str) -> int:
        status = Path("/proc/self/status").read_text()
        return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE).group(1))  # type: ignore[union-attr]


LARGE = 200 * 10**6


async def test_large_put_and_get_keep_memory_flat(store: BlobStore) -> None:
    block = os.urandom(4 * MIB)
    expected = hashlib.sha256()
    async for chunk in generated(LARGE, block):
        expected.update(chunk)
    await store.put(b"x" * 5, key="org/a/small")  # the S3 client loads its models (megabytes) once
    with PeakMemory() as put:
        ref = await store.put(generated(LARGE, block), key="org/a/large")
    assert ref == BlobRef("org/a/large", LARGE, expected.hexdigest())
    with PeakMemory() as get:
        digest, count = hashlib.sha256(), 0
        async for chunk in await store.get("org/a/large"):
            digest.update(chunk)
            count += len(chunk)
        tail = b"".join(await received(store, "org/a/large", start=LARGE - 3 * MIB))
    assert (count, digest.hexdigest()) == (LARGE, ref.sha256) and len(tail) == 3 * MIB
    # A part (8 MiB for S3) and a few megabytes of buffers, whatever the size.
    assert put.growth < 40 * MIB and get.growth < 20 * MIB, (put.growth // MIB, get.growth // MIB)


# --- encryption ------------------------------------------------------------------------


async def test_encrypted_store_keeps_no_plaintext_and_counts_plaintext_sizes(sealed: Sealed) -> None:
    data = b"Rapport confidentiel. " * 100_000  # 2.2 MB: three segments
    await sealed.encrypted.put(data, key="org/a/drive/report")
    stored = await sealed.plain.read("org/a/drive/report")
    assert b"confidentiel" not in stored
    assert len(stored) == 68 + len(data) + 3 * 16  # header, and a tag a segment
    assert await sealed.encrypted.usage("org/a") == Usage(1, len(data))
    assert await sealed.plain.usage("org/a") == Usage(1, len(stored))
    assert await sealed.encrypted.size("org/a/drive/report") == len(data)
    await sealed.encrypted.put(data, key="org/a/drive/report")
    assert await sealed.plain.read("org/a/drive/report") != stored  # a fresh data key each time


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


HEADER, SEALED = 68, MIB + 16


def _swapped(data: bytes) -> bytes:
    first, second = data[HEADER : HEADER + SEALED], data[HEADER + SEALED : HEADER + 2 * SEALED]
    return data[:HEADER] + second + first + data[HEADER + 2 * SEALED :]


TAMPERING = {
    "header": lambda data, other: _flip(data, 30),
    "first segment": lambda data, other: _flip(data, HEADER + 100),
    "last segment": lambda data, other: _flip(data, len(data) - 5),
    "tag": lambda data, other: _flip(data, HEADER + SEALED - 1),
    "cut at a segment boundary": lambda data, other: data[: HEADER + 2 * SEALED],
    "cut inside a segment": lambda data, other: data[:-1000],
    "cut to an empty blob": lambda data, other: data[: HEADER + 16],
    "cut inside the header": lambda data, other: data[:40],
    "a byte more": lambda data, other: data + b"\x00",
    "segments swapped": lambda data, other: _swapped(data),
    "a segment of another blob": lambda data, other: (
        data[:HEADER] + other[HEADER : HEADER + SEALED] + data[HEADER + SEALED :]
    ),
    "another blob of the organisation": lambda data, other: other,
}


@pytest.mark.parametrize("tampering", TAMPERING)
async def test_tampering_with_an_encrypted_blob_is_an_error_never_wrong_data(sealed: Sealed, tampering: str) -> None:
    data, other = os.urandom(3 * MIB + 500), os.urandom(3 * MIB + 500)
    await sealed.encrypted.put(data, key="org/a/drive/doc")
    await sealed.encrypted.put(other, key="org/a/drive/other")
    stored = await sealed.plain.read("org/a/drive/doc")
    await sealed.plain.put(
        TAMPERING[tampering](stored, await sealed.plain.read("org/a/drive/other")), key="org/a/drive/doc"
    )
    for start, end in [(0, None), (0, 10), (MIB + 5, 2 * MIB), (3 * MIB, 3 * MIB + 500), (2 * MIB, None)]:
        handed = bytearray()
        with contextlib.suppress(blobs.BlobCorrupt, InvalidRange):
            async for chunk in await sealed.encrypted.get(
                "org/a/drive/doc", start=start, **({} if end is None else {"end": end})
            ):
                handed += chunk
        assert bytes(handed) == data[start : start + len(handed)], (start, end)  # what came out is genuine
    with pytest.raises(blobs.BlobCorrupt):
        await sealed.encrypted.read("org/a/drive/doc")
    with contextlib.suppress(blobs.BlobCorrupt):  # a damaged header is found at once
        await sealed.encrypted.copy("org/a/drive/doc", "org/b/drive/copy")
    if await sealed.encrypted.exists("org/b/drive/copy"):  # else the copy is as damaged
        with pytest.raises(blobs.BlobCorrupt):
            await sealed.encrypted.read("org/b/drive/copy")


async def test_wrong_master_key_is_refused(sealed: Sealed) -> None:
    await sealed.encrypted.put(b"secret", key="org/a/doc")
    intruder = sealed.with_keys(new_master_key())
    try:
        with pytest.raises(blobs.WrongMasterKey):
            await intruder.read("org/a/doc")
        with pytest.raises(blobs.WrongMasterKey):
            await intruder.put(b"new", key="org/b/doc")  # no key sealed by it for a new organisation
    finally:
        await intruder.close()
    assert await leftovers(sealed.encrypted) == ["org/a/doc"]
    assert await sealed.encrypted.read("org/a/doc") == b"secret"


async def test_master_key_change_with_rewrap_keeps_every_blob_readable(sealed: Sealed) -> None:
    await sealed.encrypted.put(b"before", key="org/a/doc")
    await sealed.encrypted.put(b"store-wide")
    old, new = sealed.environment["HEXAGONE_BLOB_MASTER_KEY"], new_master_key()
    stores = [sealed.with_keys(new, previous=old), sealed.with_keys(new), sealed.with_keys(new), sealed.with_keys(old)]
    changing, before_rewrap, after_rewrap, former = stores
    try:
        assert await changing.read("org/a/doc") == b"before"
        with pytest.raises(blobs.WrongMasterKey):
            await before_rewrap.read("org/a/doc")
        assert isinstance(changing, Encrypted)
        assert await changing.keys.rewrap() == 2  # organisation a's key, and the store's
        assert await changing.keys.rewrap() == 0
        assert await after_rewrap.read("org/a/doc") == b"before"
        await after_rewrap.put(b"after", key="org/b/doc")
        with pytest.raises(blobs.WrongMasterKey):
            await former.read("org/a/doc")
    finally:
        for opened in stores:
            await opened.close()


def test_encryption_without_a_usable_master_key_is_refused_by_the_settings() -> None:
    with pytest.raises(ValidationError, match="HEXAGONE_BLOB_MASTER_KEY"):
        Settings(blob_encryption=True, blob_master_key=None)
    for key in ("short", "x" * 44, base64.b64encode(b"0" * 16).decode()):
        with pytest.raises(ValidationError, match="32 random bytes"):
            Settings(blob_encryption=True, blob_master_key=key)


def new_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def test_rewrap_command_seals_the_keys_with_the_new_master_key(tmp_path: Path) -> None:
    environment = blob_environment("file+encrypted", tmp_path)
    before = open_store(environment)
    await before.put(b"kept", key="org/a/doc")
    old, new = environment["HEXAGONE_BLOB_MASTER_KEY"], new_master_key()

    def rewrap(**changes: str) -> subprocess.CompletedProcess[str]:
        env = server_env(**{**environment, "HEXAGONE_BLOB_MASTER_KEY_PREVIOUS": "", **changes})
        return hexagone("blobs", "rewrap", env=env)

    refused = rewrap(HEXAGONE_BLOB_MASTER_KEY=new)  # the former key is not given
    assert refused.returncode == 2 and "is not the master key of this store" in refused.stderr
    done = rewrap(HEXAGONE_BLOB_MASTER_KEY=new, HEXAGONE_BLOB_MASTER_KEY_PREVIOUS=old)
    assert done.returncode == 0 and "1 key(s) sealed again" in done.stdout, done.stderr
    after = open_store(environment, HEXAGONE_BLOB_MASTER_KEY=new)
    assert await after.read("org/a/doc") == b"kept"
    plain = rewrap(HEXAGONE_BLOB_ENCRYPTION="false")
    assert plain.returncode == 2 and "HEXAGONE_BLOB_ENCRYPTION is off" in plain.stderr
