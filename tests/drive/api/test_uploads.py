"""tus 1.0 uploads with a client nobody here wrote (``tuspy``): a file sent in chunks
lands whole as a new file or a new version; a connection cut half-way is resumed from the
offset the server kept; a broken or abandoned upload leaves no file, no part and no blob;
the quota is checked before a byte is sent; every refusal is a 4xx with a message, and
another person's upload is not there."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select, update
from tusclient import client as tus

from hexagone.core import blobs
from hexagone.core.db import org_session, utcnow
from hexagone.core.jobs import Claimed
from hexagone.drive import service
from hexagone.drive.models import Upload
from hexagone.drive.service import uploads
from tests.drive.api.helpers import API, Caller, caller
from tests.drive.factories import make_drive_org, put, read
from tests.factories import make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")

MIB = 1 << 20
TUS = {"Tus-Resumable": "1.0.0"}


def _uploader(
    base_url: str, who: Caller, data: bytes, name: str, folder: uuid.UUID, url: str | None = None, **options: str
) -> tus.Uploader:
    """A tuspy uploader sending 3 MiB a request (``url``: resuming that upload)."""
    client = tus.TusClient(f"{base_url}{API}/uploads", headers=who.headers)
    metadata = {"filename": name, "folder": str(folder), **options}
    return client.uploader(file_stream=io.BytesIO(data), metadata=metadata, chunk_size=3 * MIB, url=url)


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def _blob_count(org_id: uuid.UUID) -> int:
    return (await blobs.get_store().usage(f"org/{org_id}")).count


async def _row(who: Caller, upload_id: str) -> Upload | None:
    async with org_session(who.me.org_id) as db:
        return await db.scalar(select(Upload).where(Upload.id == uuid.UUID(upload_id)))


async def test_options_states_the_version_and_extensions(client: httpx.AsyncClient) -> None:
    answer = await client.options(f"{API}/uploads")
    assert answer.status_code == 204 and answer.headers["tus-version"] == "1.0.0"
    assert set(answer.headers["tus-extension"].split(",")) == {"creation", "termination", "expiration"}
    assert int(answer.headers["tus-max-size"]) > 0


async def test_tuspy_uploads_a_file_in_chunks_then_a_new_version(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    data = os.urandom(19 * MIB + 12345)  # two whole parts of the blob store and a last piece
    sent = _uploader(base_url, alice, data, "vidéo.bin", alice.drive.root_id)
    await asyncio.to_thread(sent.upload)
    async with org_session(alice.me.org_id) as db:
        stored = await service.resolve_path(db, alice.me, alice.drive.id, "vidéo.bin")
    assert stored.size == len(data) and await read(alice.me, stored.id) == data
    replaced = _uploader(base_url, alice, b"petit", "vidéo.bin", alice.drive.root_id, onconflict="replace")
    await asyncio.to_thread(replaced.upload)
    async with org_session(alice.me.org_id) as db:
        versions = await service.versions(db, alice.me, stored.id)
    assert [v.size for v in versions] == [5, len(data)]
    assert await read(alice.me, stored.id) == b"petit"
    numbered = _uploader(base_url, alice, b"autre", "vidéo.bin", alice.drive.root_id)
    await asyncio.to_thread(numbered.upload)
    async with org_session(alice.me.org_id) as db:
        names = [e.name for e in (await service.list_folder(db, alice.me, alice.drive.root_id)).entries]
    assert names == ["vidéo (2).bin", "vidéo.bin"]
    assert (await service_usage(alice)) == len(data) + 10
    empty = await client.post(
        f"{API}/uploads",
        headers={
            **alice.headers,
            **TUS,
            "Upload-Length": "0",
            "Upload-Metadata": _meta(filename="vide.txt", folder=str(alice.drive.root_id)),
        },
    )
    assert empty.status_code == 201 and empty.headers["hexagone-node-id"]


async def service_usage(who: Caller) -> int:
    async with org_session(who.me.org_id) as db:
        return (await service.usage(db, who.me, who.drive.id)).used_bytes


async def _cut_patch(base_url: str, who: Caller, location: str, offset: int, body: bytes, sent: int) -> None:
    """A PATCH announcing ``body`` whose connection drops after ``sent`` bytes."""
    address = urlsplit(base_url)
    _reader, writer = await asyncio.open_connection(address.hostname, address.port)
    head = (
        f"PATCH {urlsplit(location).path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: {who.headers['authorization']}\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body[:sent])
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def _settled_offset(client: httpx.AsyncClient, who: Caller, location: str, expected: int) -> None:
    """Wait until the server has given up the cut request and kept ``expected`` bytes:
    an empty PATCH at that offset is then accepted."""
    for _attempt in range(100):
        answer = await client.patch(
            location,
            content=b"",
            headers={
                **who.headers,
                **TUS,
                "Upload-Offset": str(expected),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        if answer.status_code == 204:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the upload did not settle at {expected}: {answer.status_code} {answer.text}")


async def test_a_cut_connection_is_resumed_from_the_offset_kept(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    data = os.urandom(20 * MIB)
    first = _uploader(base_url, alice, data, "reprise.bin", alice.drive.root_id)
    await asyncio.to_thread(first.upload_chunk)  # 3 MiB: kept as the tail
    location = first.url
    head = await client.head(location, headers={**alice.headers, **TUS})
    assert head.status_code == 200 and head.headers["upload-offset"] == str(3 * MIB)
    assert head.headers["upload-length"] == str(len(data)) and head.headers["upload-expires"]
    # 12 MiB announced, 9 sent: the tail and 5 MiB make the first whole part, the rest is lost
    await _cut_patch(base_url, alice, location, 3 * MIB, data[3 * MIB : 15 * MIB], 9 * MIB)
    await _settled_offset(client, alice, location, 8 * MIB)
    resumed = _uploader(base_url, alice, data, "reprise.bin", alice.drive.root_id, url=location)
    await asyncio.to_thread(resumed.upload)
    async with org_session(alice.me.org_id) as db:
        stored = await service.resolve_path(db, alice.me, alice.drive.id, "reprise.bin")
    assert await read(alice.me, stored.id) == data
    assert (await client.head(location, headers={**alice.headers, **TUS})).status_code == 404


async def test_a_broken_upload_given_up_leaves_no_file_part_or_blob(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    data = os.urandom(12 * MIB)
    first = _uploader(base_url, alice, data, "cassé.bin", alice.drive.root_id)
    await asyncio.to_thread(first.upload_chunk)
    await asyncio.to_thread(first.upload_chunk)  # 6 MiB in the tail
    location = first.url
    # the last 6 MiB announced, 3 sent: the tail and 2 MiB make a whole part, the last part breaks
    await _cut_patch(base_url, alice, location, 6 * MIB, data[6 * MIB :], 3 * MIB)
    await _settled_offset(client, alice, location, 8 * MIB)
    row = await _row(alice, location.rsplit("/", 1)[1])
    assert row is not None and row.offset == 8 * MIB
    assert await _blob_count(alice.me.org_id) == 0  # the tail went into the part
    assert (await client.delete(location, headers={**alice.headers, **TUS})).status_code == 204
    assert await _row(alice, location.rsplit("/", 1)[1]) is None
    assert not await blobs.get_store().abort(row.blob_upload)  # its parts went with it
    assert await _blob_count(alice.me.org_id) == 0
    async with org_session(alice.me.org_id) as db:
        assert (await service.list_folder(db, alice.me, alice.drive.root_id)).entries == []
    assert await service_usage(alice) == 0


async def test_an_upload_refused_at_completion_leaves_nothing(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    sent = _uploader(base_url, alice, b"x" * 100, "course.txt", alice.drive.root_id, onconflict="error")
    sent.chunk_size = 60
    await asyncio.to_thread(sent.upload_chunk)
    await put(alice.me, alice.drive.root_id, "course.txt", b"arrived first")
    last = await client.patch(
        sent.url,
        content=b"x" * 40,
        headers={**alice.headers, **TUS, "Upload-Offset": "60", "Content-Type": "application/offset+octet-stream"},
    )
    assert last.status_code == 409 and last.json()["error"]
    assert await _blob_count(alice.me.org_id) == 1  # the file that arrived first
    assert (await client.head(sent.url, headers={**alice.headers, **TUS})).status_code == 404


async def test_an_expired_upload_is_gone_and_its_job_drops_it(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    sent = _uploader(base_url, alice, b"y" * 100, "tard.txt", alice.drive.root_id)
    sent.chunk_size = 30
    await asyncio.to_thread(sent.upload_chunk)
    upload_id = uuid.UUID(sent.url.rsplit("/", 1)[1])
    async with org_session(alice.me.org_id, write=True) as db:
        await db.execute(
            update(Upload).where(Upload.id == upload_id).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    assert (await client.head(sent.url, headers={**alice.headers, **TUS})).status_code == 404
    await uploads.expire(
        Claimed(uuid.uuid4(), uploads.EXPIRE_JOB, alice.me.org_id, {"upload_id": str(upload_id)}, 1, 5)
    )
    assert await _row(alice, str(upload_id)) is None and await _blob_count(alice.me.org_id) == 0


async def test_quota_and_size_are_checked_before_a_byte_is_sent(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    alice = await caller(base_url, org)
    admin = await principal(await make_user(org, role="admin"))
    async with org_session(org.id, write=True) as db:
        await service.set_quota(db, admin, alice.drive.id, 1000)
        await db.commit()
    headers = {**alice.headers, **TUS, "Upload-Metadata": _meta(filename="gros.bin", folder=str(alice.drive.root_id))}
    full = await client.post(f"{API}/uploads", headers={**headers, "Upload-Length": "1001"})
    assert full.status_code == 507 and full.json()["error"]
    huge = await client.post(f"{API}/uploads", headers={**headers, "Upload-Length": str(1 << 50)})
    assert huge.status_code == 413
    fits = await client.post(f"{API}/uploads", headers={**headers, "Upload-Length": "1000"})
    assert fits.status_code == 201


async def test_bad_requests_are_refused_with_a_message(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    root = str(alice.drive.root_id)
    post = {**alice.headers, **TUS, "Upload-Length": "10"}
    cases = [
        ({**post, "Upload-Metadata": _meta(filename="a.txt")}, 400),  # no folder
        ({**post, "Upload-Metadata": "filename ???,folder x"}, 400),  # not base64
        ({**post, "Upload-Metadata": _meta(filename="CON", folder=root)}, 400),  # a name Windows reserves
        ({**post, "Upload-Metadata": _meta(filename="a.txt", folder=root, onconflict="merge")}, 400),
        ({**post, "Upload-Metadata": _meta(filename="a.txt", folder=str(uuid.uuid4()))}, 404),
        ({**alice.headers, **TUS, "Upload-Metadata": _meta(filename="a.txt", folder=root)}, 400),  # no length
        ({**alice.headers, "Upload-Length": "10", "Upload-Metadata": _meta(filename="a.txt", folder=root)}, 412),
        ({**post, "Upload-Length": "-1", "Upload-Metadata": _meta(filename="a.txt", folder=root)}, 422),
    ]
    for headers, status in cases:
        answer = await client.post(f"{API}/uploads", headers=headers)
        assert answer.status_code == status, (headers, answer.text)
        assert answer.json()["error"]
    made = await client.post(
        f"{API}/uploads", headers={**post, "Upload-Metadata": _meta(filename="a.txt", folder=root)}
    )
    location = made.headers["location"]
    patch = {**alice.headers, **TUS, "Content-Type": "application/offset+octet-stream"}
    wrong_type = await client.patch(
        location, content=b"abc", headers={**patch, "Content-Type": "text/plain", "Upload-Offset": "0"}
    )
    assert wrong_type.status_code == 415
    wrong_offset = await client.patch(location, content=b"abc", headers={**patch, "Upload-Offset": "3"})
    assert wrong_offset.status_code == 409 and wrong_offset.json()["error"]
    too_long = await client.patch(location, content=b"x" * 11, headers={**patch, "Upload-Offset": "0"})
    assert too_long.status_code == 400 and too_long.json()["error"]
    no_offset = await client.patch(location, content=b"abc", headers=patch)
    assert no_offset.status_code == 400
    fine = await client.patch(location, content=b"abc", headers={**patch, "Upload-Offset": "0"})
    assert fine.status_code == 204 and fine.headers["upload-offset"] == "3"


async def test_another_persons_upload_is_not_there(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    alice = await caller(base_url, org)
    made = await client.post(
        f"{API}/uploads",
        headers={
            **alice.headers,
            **TUS,
            "Upload-Length": "10",
            "Upload-Metadata": _meta(filename="a.txt", folder=str(alice.drive.root_id)),
        },
    )
    location = made.headers["location"]
    patch = {**TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    assert (await client.head(location, headers=TUS)).status_code == 401
    for role, same_org in (("user", True), ("admin", True), ("guest", True), ("user", False)):
        other = await caller(base_url, org if same_org else None, role)
        assert (await client.head(location, headers={**other.headers, **TUS})).status_code == 404
        assert (await client.patch(location, content=b"x", headers={**other.headers, **patch})).status_code == 404
        assert (await client.delete(location, headers={**other.headers, **TUS})).status_code == 404
        into = await client.post(
            f"{API}/uploads",
            headers={
                **other.headers,
                **TUS,
                "Upload-Length": "1",
                "Upload-Metadata": _meta(filename="b.txt", folder=str(alice.drive.root_id)),
            },
        )
        assert into.status_code == 404, role
    assert (await client.head(location, headers={**alice.headers, **TUS})).headers["upload-offset"] == "0"
