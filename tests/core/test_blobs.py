"""The blob store, the same tests over the local folder and S3 (a real SeaweedFS server):
streaming in and out, content addressing, usage for billing, failed uploads that leave
nothing, and keys that cannot climb out of the store."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hexagone.core import blobs
from hexagone.core.blobs import BlobError, BlobNotFound, BlobRef, BlobStore, BlobTooLarge, InvalidKey, Usage, local, s3
from hexagone.core.blobs.s3 import PART_SIZE
from hexagone.core.config import get_settings
from tests.core.seaweed import SeaweedS3

BACKENDS = ["file", "s3"]


def load(url: str) -> BlobStore:
    return blobs.load(get_settings().model_copy(update={"blob_url": url}))


@pytest.fixture(scope="module")
def seaweed() -> Iterator[SeaweedS3]:
    server = SeaweedS3()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bucket(seaweed: SeaweedS3) -> str:
    """One bucket per server, emptied after each test: SeaweedFS takes half a second to
    a few seconds to create a bucket (a collection and its volumes) and a tenth of a
    second to empty one, and each test still starts from an empty bucket."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    seaweed.create_bucket(name)
    return name


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    if request.param == "file":
        yield load((tmp_path / "blobs").as_uri())
        return
    seaweed: SeaweedS3 = request.getfixturevalue("seaweed")
    backend = load(seaweed.url(request.getfixturevalue("bucket")))
    yield backend
    await empty(backend)
    await backend.close()


async def empty(store: BlobStore) -> None:
    """Delete everything the bucket holds, unfinished uploads included."""
    assert isinstance(store, s3.Backend)
    client = await store.client()
    uploads = await client.list_multipart_uploads(Bucket=store.bucket)
    for upload in uploads.get("Uploads", []):
        await client.abort_multipart_upload(Bucket=store.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket)
    async for page in pages:
        for item in page.get("Contents", []):
            await client.delete_object(Bucket=store.bucket, Key=item["Key"])


@pytest.fixture
def local_store(tmp_path: Path) -> BlobStore:
    return load((tmp_path / "blobs").as_uri())


async def pieces(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def leftovers(store: BlobStore) -> list[str]:
    """Everything the backend holds, temporary files and unfinished uploads included."""
    if isinstance(store, s3.Backend):
        client = await store.client()
        uploads = await client.list_multipart_uploads(Bucket=store.bucket)
        objects = await client.list_objects_v2(Bucket=store.bucket)
        return [u["Key"] for u in uploads.get("Uploads", [])] + [o["Key"] for o in objects.get("Contents", [])]
    assert isinstance(store, local.Backend)
    return [str(path) for path in store.root.rglob("*") if path.is_file()]


async def test_put_then_get_returns_the_same_bytes_with_size_and_sha256(store: BlobStore) -> None:
    data = b"Bonjour \xc3\xa9\x00\xff" * 1000
    ref = await store.put(data, key="org/o1/drive/f1")
    assert ref == BlobRef(key="org/o1/drive/f1", size=len(data), sha256=sha(data))
    assert await store.read("org/o1/drive/f1") == data
    assert await store.exists("org/o1/drive/f1")


async def test_streamed_put_and_get_handle_content_larger_than_the_buffers(store: BlobStore) -> None:
    chunk = os.urandom(300_000)
    ref = await store.put(pieces(*[chunk] * 12), key="org/o1/big")
    assert ref.size == 3_600_000 and ref.sha256 == sha(chunk * 12)
    received = [part async for part in await store.get("org/o1/big")]
    assert len(received) > 1 and b"".join(received) == chunk * 12


async def test_ranged_get_reads_only_the_bytes_asked_for(store: BlobStore) -> None:
    data = os.urandom(700_000)  # several read chunks
    await store.put(data, key="org/o1/ranged")

    async def part(start: int, end: int | None) -> bytes:
        return b"".join([c async for c in await store.get("org/o1/ranged", start=start, end=end)])

    assert await part(0, 10) == data[:10]
    assert await part(300_000, 600_001) == data[300_000:600_001]
    assert await part(699_990, None) == data[699_990:]
    assert await part(699_990, 2_000_000) == data[699_990:]  # past the end: what is there
    assert await part(700_000, None) == b"" and await part(5, 5) == b""
    assert await part(900_000, None) == b""  # starts past the end
    with pytest.raises(ValueError):
        await store.get("org/o1/ranged", start=10, end=5)
    with pytest.raises(BlobNotFound):
        await store.get("org/o1/missing", start=1, end=2)
    with pytest.raises(BlobNotFound):
        await store.get("org/o1/missing", start=3, end=3)


async def test_content_larger_than_an_upload_part_goes_up_in_parts(store: BlobStore) -> None:
    chunk = os.urandom(1 << 20)
    count = PART_SIZE // len(chunk) * 2 + 3
    ref = await store.put(pieces(*[chunk] * count), key="org/o1/huge")
    assert ref == BlobRef("org/o1/huge", len(chunk) * count, sha(chunk * count))
    assert await store.read("org/o1/huge") == chunk * count
    unnamed = await store.put(pieces(*[chunk] * (count - 1)))
    assert unnamed.key == f"sha256/{unnamed.sha256[:2]}/{unnamed.sha256}"
    assert await store.read(unnamed.key) == chunk * (count - 1)
    assert await store.usage() == Usage(2, len(chunk) * (2 * count - 1))


async def test_failed_upload_of_several_parts_leaves_nothing(store: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        for _ in range(PART_SIZE // (1 << 20) + 2):
            yield os.urandom(1 << 20)
        raise ConnectionResetError("client went away")

    for key in ("upload", None):
        with pytest.raises(ConnectionResetError):
            await store.put(broken(), key=key)
    with pytest.raises(BlobTooLarge):
        await store.put(pieces(*[b"x" * (1 << 20)] * (PART_SIZE // (1 << 20) + 2)), key="big", max_size=PART_SIZE + 1)
    assert await leftovers(store) == []


async def test_put_without_a_key_stores_the_content_under_its_hash_once(store: BlobStore) -> None:
    first = await store.put(b"same attachment")
    second = await store.put(pieces(b"same ", b"attachment"))
    assert first == second
    assert first.key == f"sha256/{first.sha256[:2]}/{first.sha256}"
    assert await store.usage("sha256") == Usage(count=1, bytes=15)


async def test_put_on_an_existing_key_replaces_the_content(store: BlobStore) -> None:
    await store.put(b"version 1", key="doc")
    await store.put(b"v2", key="doc")
    assert await store.read("doc") == b"v2"


async def test_empty_content_is_a_blob_too(store: BlobStore) -> None:
    ref = await store.put(b"", key="empty")
    assert ref.size == 0 and await store.read("empty") == b""


async def test_get_of_a_missing_blob_raises_not_found_before_streaming(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        await store.get("org/o1/nothing")
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
        lambda: store.exists(key),
        lambda: store.delete(key),
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
    store = load((tmp_path / "blobs").as_uri())
    await store.put(b"x", key="org/o/file")
    await store.put(b"y")
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["blobs/org/o/file", f"blobs/sha256/{sha(b'y')[:2]}/{sha(b'y')}"]


def test_default_store_is_a_folder_in_the_data_directory(tmp_path: Path) -> None:
    settings = get_settings().model_copy(update={"data_dir": tmp_path, "blob_url": None})
    assert blobs.blob_url(settings) == (tmp_path / "blobs").as_uri()
    blobs.load(settings)
    assert (tmp_path / "blobs").is_dir()


@pytest.mark.parametrize("url", ["s4://bucket", "file://otherhost/blobs", "s3://host:9000", "s3:///bucket"])
def test_unusable_blob_url_is_refused_with_the_setting_named(url: str) -> None:
    with pytest.raises(ValueError, match="HEXAGONE_BLOB_URL"):
        load(url)
