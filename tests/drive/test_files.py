"""The drive's service as every way in uses it: drives made on first use, folders and
files, versions, names, quotas, and uploads that break or lose a race."""

from __future__ import annotations

import pytest

from hexagone.core import blobs
from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Forbidden, InsufficientStorage, Invalid, NotFound, PreconditionFailed
from hexagone.drive import service
from tests.drive.factories import broken, chunks, make_drive_org, make_member, own_drive, put, read, space_drive
from tests.factories import make_space, principal

pytestmark = pytest.mark.usefixtures("migrated")


async def _blob_count(org_id: object) -> int:
    return (await blobs.get_store().usage(f"org/{org_id}")).count


async def test_drive_of_user_is_made_once_with_an_empty_root() -> None:
    _user, me = await make_member()
    first = await own_drive(me)
    second = await own_drive(me)
    assert first.id == second.id and first.kind == "personal" and first.role == "manager"
    assert first.used_bytes == 0 and first.abilities["manage"]
    async with org_session(me.org_id) as db:
        listing = await service.list_folder(db, me, first.root_id)
    assert listing.entries == [] and listing.folder.is_root


async def test_drive_of_user_a_guest_has_none_of_their_own() -> None:
    _user, guest = await make_member(role="guest")
    with pytest.raises(Forbidden):
        await own_drive(guest)


async def test_drive_of_space_members_share_one_and_others_get_not_found() -> None:
    org = await make_drive_org()
    owner, _ = await make_member(org)
    reader, _ = await make_member(org)
    _outsider, outsider_p = await make_member(org)
    space = await make_space(owner, members={reader: "reader"})
    drive = await space_drive(await principal(owner), space.id)
    seen_by_reader = await space_drive(await principal(reader), space.id)
    assert seen_by_reader.id == drive.id and seen_by_reader.role == "reader"
    assert not seen_by_reader.abilities["write"] and drive.abilities["manage"]
    with pytest.raises(NotFound):
        await space_drive(outsider_p, space.id)


async def test_store_then_open_gives_back_the_bytes_and_a_range_of_them() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    data = bytes(range(256)) * 1000
    stored = await put(me, drive.root_id, "données.bin", data)
    assert stored.size == len(data) and stored.kind == "file" and stored.etag
    assert stored.content_type == "application/octet-stream"
    assert await read(me, stored.id) == data
    assert await read(me, stored.id, start=1000, end=1010) == data[1000:1010]
    assert await read(me, stored.id, start=len(data)) == b""
    assert (await own_drive(me)).used_bytes == len(data)


async def test_store_over_a_file_makes_a_new_version_and_restore_brings_the_old_back() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    first = await put(me, drive.root_id, "note.txt", b"one")
    second = await put(me, drive.root_id, "NOTE.txt", b"two!")  # the same name, another case
    assert second.id == first.id and second.etag != first.etag and second.name == "note.txt"
    async with org_session(me.org_id, write=True) as db:
        history = await service.versions(db, me, first.id)
        assert [(v.number, v.size, v.current) for v in history] == [(2, 4, True), (1, 3, False)]
        restored = await service.restore_version(db, me, first.id, history[1].id)
        await db.commit()
    assert await read(me, first.id) == b"one" and restored.size == 3
    assert await read(me, first.id, version_id=history[0].id) == b"two!"
    assert (await own_drive(me)).used_bytes == 3 + 4 + 3


async def test_store_with_an_old_etag_is_refused_and_keeps_the_newer_content() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    first = await put(me, drive.root_id, "plan.txt", b"v1")
    await put(me, drive.root_id, "plan.txt", b"v2", if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        await put(me, drive.root_id, "plan.txt", b"v3", if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        await put(me, drive.root_id, "absent.txt", b"x", if_match="*")
    assert await read(me, first.id) == b"v2"


async def test_store_without_overwrite_refuses_or_renames() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    await put(me, drive.root_id, "report.pdf", b"a")
    with pytest.raises(Conflict):
        await put(me, drive.root_id, "report.pdf", b"b", overwrite=False)
    second = await put(me, drive.root_id, "report.pdf", b"b", overwrite=False, rename=True)
    third = await put(me, drive.root_id, "Report.PDF", b"c", overwrite=False, rename=True)
    assert (second.name, third.name) == ("report (2).pdf", "Report (3).PDF")


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "a/b",
        "..\\..\\etc",
        "nul\x00byte",
        "line\nbreak",
        "bell\x07",
        "c1\x85control",
        "x" * 256,
        "é" * 128,  # 256 bytes in UTF-8
        "CON",
        "con.txt",
        "Com1.log",
        "LPT9",
        "trailing.",
        "trailing ",
        "lone\udcffsurrogate",
    ],
)
async def test_store_refuses_hostile_names_with_invalid_and_leaves_nothing(name: str) -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    with pytest.raises(Invalid):
        await put(me, drive.root_id, name, b"x")
    async with org_session(me.org_id) as db:
        assert (await service.list_folder(db, me, drive.root_id)).entries == []
    assert await _blob_count(me.org_id) == 0


async def test_store_keeps_names_that_look_odd_but_are_fine() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    names = ["..hidden", ".env", "CONSOLE.txt", "a" * 255, "日本語のファイル.txt", "e\u0301te.txt"]
    for name in names:
        await put(me, drive.root_id, name)
    async with org_session(me.org_id) as db:
        listed = {n.name for n in (await service.list_folder(db, me, drive.root_id)).entries}
    assert listed == {*names[:-1], "éte.txt"}  # stored in NFC


async def test_store_a_broken_upload_leaves_no_file_no_blob_and_no_usage() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    data = b"z" * (3 * 1024 * 1024)
    with pytest.raises(ConnectionResetError):
        await service.store(me, drive.root_id, "big.iso", broken(data, after=2 * 1024 * 1024))
    async with org_session(me.org_id) as db:
        assert (await service.list_folder(db, me, drive.root_id)).entries == []
    assert await _blob_count(me.org_id) == 0
    assert (await own_drive(me)).used_bytes == 0


async def test_store_a_broken_new_version_keeps_the_old_one_whole() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    kept = await put(me, drive.root_id, "doc.odt", b"original")
    with pytest.raises(ConnectionResetError):
        await service.store(me, drive.root_id, "doc.odt", broken(b"y" * 100_000, after=50_000))
    assert await read(me, kept.id) == b"original"
    assert await _blob_count(me.org_id) == 1 and (await own_drive(me)).used_bytes == len(b"original")


async def test_store_beyond_the_quota_is_refused_and_nothing_is_charged() -> None:
    org = await make_drive_org()
    _admin, admin = await make_member(org, role="admin")
    _user, me = await make_member(org)
    drive = await own_drive(me)
    async with org_session(me.org_id, write=True) as db:
        await service.set_quota(db, admin, drive.id, 1000)
        await db.commit()
    await put(me, drive.root_id, "fits.txt", b"x" * 600)
    with pytest.raises(InsufficientStorage):
        await put(me, drive.root_id, "too-big.txt", b"x" * 600)
    with pytest.raises(InsufficientStorage):  # cut while streaming, in many chunks
        await service.store(me, drive.root_id, "streamed.bin", chunks(b"y" * 5000, 100))
    after = await own_drive(me)
    assert (after.used_bytes, after.quota_bytes, after.available_bytes) == (600, 1000, 400)
    assert await _blob_count(me.org_id) == 1


async def test_store_the_organisation_quota_caps_every_drive_together() -> None:
    org = await make_drive_org()
    _admin, admin = await make_member(org, role="admin")
    _a, alice = await make_member(org)
    _b, bob = await make_member(org)
    async with org_session(org.id, write=True) as db:
        await service.change_settings(db, admin, quota_bytes=1000)
        await db.commit()
    await put(alice, (await own_drive(alice)).root_id, "a.bin", b"a" * 700)
    with pytest.raises(InsufficientStorage):
        await put(bob, (await own_drive(bob)).root_id, "b.bin", b"b" * 400)
    await put(bob, (await own_drive(bob)).root_id, "b.bin", b"b" * 300)
    async with org_session(org.id) as db:
        total, listed = await service.org_usage(db, admin)
    assert total.used_bytes == 1000 and total.available_bytes == 0
    assert sorted(d.used_bytes for d in listed) == [300, 700]  # the administrator has made no drive


async def test_list_folder_folders_first_sorted_and_paged() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    async with org_session(me.org_id, write=True) as db:
        for name in ("zeta", "Alpha"):
            await service.create_folder(db, me, drive.root_id, name)
        await db.commit()
    for name in ("b.txt", "A.txt", "c.txt"):
        await put(me, drive.root_id, name)
    async with org_session(me.org_id) as db:
        first = await service.list_folder(db, me, drive.root_id, limit=3)
        rest = await service.list_folder(db, me, drive.root_id, offset=3, limit=3)
        by_size = await service.list_folder(db, me, drive.root_id, order="modified", descending=True)
        with pytest.raises(Invalid):
            await service.list_folder(db, me, drive.root_id, order="colour")
    assert [n.name for n in first.entries] == ["Alpha", "zeta", "A.txt"] and first.has_more
    assert [n.name for n in rest.entries] == ["b.txt", "c.txt"] and not rest.has_more
    assert [n.name for n in by_size.entries][2:] == ["c.txt", "A.txt", "b.txt"]


async def test_resolve_path_walks_from_the_root_and_refuses_dot_segments() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    async with org_session(me.org_id, write=True) as db:
        a = await service.create_folder(db, me, drive.root_id, "Projets")
        b = await service.create_folder(db, me, a.id, "2027")
        await db.commit()
    stored = await put(me, b.id, "budget.ods", b"ods")
    async with org_session(me.org_id) as db:
        assert (await service.resolve_path(db, me, drive.id, "projets/2027/BUDGET.ods")).id == stored.id
        assert (await service.resolve_path(db, me, drive.id, "/Projets//2027/")).id == b.id
        assert (await service.resolve_path(db, me, drive.id, "")).id == drive.root_id
        for bad in ("Projets/../Projets", "./Projets"):
            with pytest.raises(Invalid):
                await service.resolve_path(db, me, drive.id, bad)
        with pytest.raises(NotFound):
            await service.resolve_path(db, me, drive.id, "Projets/2027/budget.ods/more")
        crumbs = await service.path_of(db, me, stored.id)
    assert [c.name for c in crumbs] == ["", "Projets", "2027", "budget.ods"]


async def test_create_folder_refuses_a_taken_name_or_numbers_it() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    async with org_session(me.org_id, write=True) as db:
        await service.create_folder(db, me, drive.root_id, "Photos")
        with pytest.raises(Conflict):
            await service.create_folder(db, me, drive.root_id, "photos")
        again = await service.create_folder(db, me, drive.root_id, "Photos", rename=True)
        await db.commit()
    assert again.name == "Photos (2)"
