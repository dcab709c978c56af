"""Renaming, moving and copying, with names taken; the trash, its restore and purge;
check-out and locks; retention of versions. All through the service face."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hexagone.core import blobs
from hexagone.core.db import org_session, utcnow
from hexagone.core.exceptions import Conflict, Invalid, Locked, NotFound
from hexagone.core.jobs import Job
from hexagone.drive import service
from hexagone.drive.models import Node, Version
from hexagone.drive.service import retention
from tests.drive.factories import make_drive_org, make_member, own_drive, put, read
from tests.factories import make_space, principal, queued

pytestmark = pytest.mark.usefixtures("migrated")


async def _folder(who, parent_id, name):  # type: ignore[no-untyped-def]
    async with org_session(who.org_id, write=True) as db:
        made = await service.create_folder(db, who, parent_id, name)
        await db.commit()
    return made


async def _names(who, folder_id) -> list[str]:  # type: ignore[no-untyped-def]
    async with org_session(who.org_id) as db:
        return [n.name for n in (await service.list_folder(db, who, folder_id)).entries]


async def test_rename_changes_the_name_and_refuses_a_taken_one() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    a = await put(me, drive.root_id, "a.txt")
    await put(me, drive.root_id, "b.txt")
    async with org_session(me.org_id, write=True) as db:
        renamed = await service.rename(db, me, a.id, "A.TXT")  # its own name in another case
        with pytest.raises(Conflict):
            await service.rename(db, me, a.id, "B.txt")
        numbered = await service.rename(db, me, a.id, "b.txt", on_conflict="rename")
        with pytest.raises(Invalid):
            await service.rename(db, me, a.id, "../escape")
        with pytest.raises(Invalid):
            await service.rename(db, me, drive.root_id, "root")
        await db.commit()
    assert renamed.name == "A.TXT" and numbered.name == "b (2).txt"


async def test_move_into_a_folder_and_never_into_itself() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    outer = await _folder(me, drive.root_id, "outer")
    inner = await _folder(me, outer.id, "inner")
    doc = await put(me, drive.root_id, "doc.txt", b"doc")
    async with org_session(me.org_id, write=True) as db:
        moved = await service.move(db, me, doc.id, inner.id)
        with pytest.raises(Invalid):
            await service.move(db, me, outer.id, inner.id)
        with pytest.raises(Invalid):
            await service.move(db, me, outer.id, outer.id)
        await db.commit()
        assert (await service.resolve_path(db, me, drive.id, "outer/inner/doc.txt")).id == doc.id
    assert moved.parent_id == inner.id and await _names(me, drive.root_id) == ["outer"]


async def test_move_over_a_taken_name_replaces_it_into_the_trash() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    folder = await _folder(me, drive.root_id, "f")
    old = await put(me, folder.id, "x.txt", b"old")
    new = await put(me, drive.root_id, "x.txt", b"new")
    async with org_session(me.org_id, write=True) as db:
        with pytest.raises(Conflict):
            await service.move(db, me, new.id, folder.id)
        await service.move(db, me, new.id, folder.id, on_conflict="replace")
        await db.commit()
        trashed = await service.in_trash(db, me, drive.id)
    assert [t.id for t in trashed] == [old.id]
    assert await read(me, new.id) == b"new"


async def test_move_to_a_space_drive_moves_the_bytes_between_quotas() -> None:
    org = await make_drive_org()
    owner, me = await make_member(org)
    space = await make_space(owner)
    me = await principal(owner)
    mine = await own_drive(me)
    from tests.drive.factories import space_drive

    theirs = await space_drive(me, space.id)
    folder = await _folder(me, mine.root_id, "dossier")
    await put(me, folder.id, "a.bin", b"a" * 100)
    await put(me, folder.id, "a.bin", b"a" * 50)  # a second version: 150 bytes in all
    async with org_session(me.org_id, write=True) as db:
        await service.move(db, me, folder.id, theirs.root_id)
        await db.commit()
        assert (await service.resolve_path(db, me, theirs.id, "dossier/a.bin")).size == 50
    assert (await own_drive(me)).used_bytes == 0
    assert (await space_drive(me, space.id)).used_bytes == 150


async def test_copy_a_folder_copies_what_is_in_it_and_shares_the_blobs() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    src = await _folder(me, drive.root_id, "src")
    sub = await _folder(me, src.id, "sub")
    await put(me, sub.id, "deep.txt", b"deep")
    gone = await put(me, src.id, "gone.txt", b"gone")
    async with org_session(me.org_id, write=True) as db:
        await service.set_tags(db, me, sub.id, ["Urgent"])
        await service.trash(db, me, gone.id)
        copied = await service.copy(db, me, src.id, drive.root_id, on_conflict="rename")
        with pytest.raises(Invalid):
            await service.copy(db, me, src.id, sub.id)
        await db.commit()
        deep = await service.resolve_path(db, me, drive.id, "src (2)/sub/deep.txt")
        assert await service.tags(db, me, (await service.resolve_path(db, me, drive.id, "src (2)/sub")).id) == [
            "Urgent"
        ]
    assert copied.name == "src (2)" and await read(me, deep.id) == b"deep"
    assert await _names(me, copied.id) == ["sub"]  # not what was in the trash
    assert (await own_drive(me)).used_bytes == 4 + 4 + 4  # deep, its copy, and gone.txt in the trash
    assert (await blobs.get_store().usage(f"org/{me.org_id}")).count == 2


async def test_trash_hides_the_subtree_and_restore_brings_it_back() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    folder = await _folder(me, drive.root_id, "Archives")
    doc = await put(me, folder.id, "old.txt", b"old")
    async with org_session(me.org_id, write=True) as db:
        await service.trash(db, me, folder.id)
        await db.commit()
        with pytest.raises(NotFound):
            await service.node(db, me, doc.id)
        with pytest.raises(NotFound):
            await service.resolve_path(db, me, drive.id, "Archives/old.txt")
        assert await _names(me, drive.root_id) == []
        assert [t.name for t in await service.in_trash(db, me, drive.id)] == ["Archives"]
        await service.create_folder(db, me, drive.root_id, "Archives")  # the name is free again
        restored = await service.restore(db, me, folder.id)
        await db.commit()
    assert restored.name == "Archives (2)" and await read(me, doc.id) == b"old"


async def test_restore_of_a_file_whose_folder_is_in_the_trash_goes_to_the_root() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    folder = await _folder(me, drive.root_id, "f")
    doc = await put(me, folder.id, "d.txt")
    async with org_session(me.org_id, write=True) as db:
        await service.trash(db, me, doc.id)
        await service.trash(db, me, folder.id)
        restored = await service.restore(db, me, doc.id)
        await db.commit()
    assert restored.parent_id == drive.root_id


async def test_purge_deletes_rows_gives_bytes_back_and_collects_blobs_nobody_names() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    doc = await put(me, drive.root_id, "doc.txt", b"12345")
    async with org_session(me.org_id, write=True) as db:
        copy = await service.copy(db, me, doc.id, drive.root_id, name="copy.txt")
        with pytest.raises(Conflict):
            await service.purge(db, me, doc.id)  # not in the trash
        await service.trash(db, me, doc.id)
        freed = await service.purge(db, me, doc.id)
        await db.commit()
    assert freed == 5 and (await own_drive(me)).used_bytes == 5
    [collect] = await queued(me.org_id, "drive.collect")
    await retention.collect(collect)
    assert await read(me, copy.id) == b"12345"  # the copy still names the blob
    async with org_session(me.org_id, write=True) as db:
        await service.trash(db, me, copy.id)
        await service.empty_trash(db, me, drive.id)
        await db.commit()
    for job in await queued(me.org_id, "drive.collect"):
        await retention.collect(job)
    assert (await blobs.get_store().usage(f"org/{me.org_id}")).count == 0
    assert (await own_drive(me)).used_bytes == 0


async def test_purge_job_waits_for_the_trash_period_and_spares_what_was_restored() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    kept = await put(me, drive.root_id, "kept.txt")
    gone = await put(me, drive.root_id, "gone.txt")
    async with org_session(me.org_id, write=True) as db:
        await service.trash(db, me, kept.id)
        await service.trash(db, me, gone.id)
        await service.restore(db, me, kept.id)
        await db.commit()
    jobs = await queued(me.org_id, "drive.purge")
    async with org_session(me.org_id) as db:
        planned = (await db.execute(select(Job.run_at).where(Job.id.in_([j.id for j in jobs])))).scalars().all()
    assert len(planned) == len(jobs) and all(run_at > utcnow() + timedelta(days=29) for run_at in planned)
    for job in jobs:
        await retention.purge(job)  # too early: planned again
    async with org_session(me.org_id) as db:
        assert len(await service.in_trash(db, me, drive.id)) == 1
    async with org_session(me.org_id, write=True) as db:
        await db.execute(update(Node).where(Node.id == gone.id).values(trashed_at=utcnow() - timedelta(days=31)))
        await db.commit()
    for job in jobs:
        await retention.purge(job)
    async with org_session(me.org_id) as db:
        assert await service.in_trash(db, me, drive.id) == []
        assert (await service.node(db, me, kept.id)).name == "kept.txt"


async def test_prune_keeps_the_organisation_count_of_versions_and_none_too_old() -> None:
    org = await make_drive_org()
    _admin, admin = await make_member(org, role="admin")
    _user, me = await make_member(org)
    async with org_session(org.id, write=True) as db:
        await service.change_settings(db, admin, keep_versions=3, keep_version_days=30)
        await db.commit()
    drive = await own_drive(me)
    for n in range(5):
        doc = await put(me, drive.root_id, "doc.txt", b"v%d" % n)
    async with org_session(me.org_id, write=True) as db:
        first = await db.scalar(select(Version).where(Version.node_id == doc.id, Version.number == 3))
        assert first is not None
        first.created_at = utcnow() - timedelta(days=40)
        await db.commit()
    job = (await queued(me.org_id, "drive.prune"))[-1]
    await retention.prune(job)
    async with org_session(me.org_id) as db:
        kept = [v.number for v in await service.versions(db, me, doc.id)]
    assert kept == [5, 4]  # 3 too old, 2 and 1 beyond the count
    assert (await own_drive(me)).used_bytes == 4


async def test_prune_of_one_file_by_two_workers_at_once_charges_the_quota_once() -> None:
    """Each new version plans a prune of its file: two workers may run two of them at the
    same moment, and the versions they both drop count once."""
    org = await make_drive_org()
    _admin, admin = await make_member(org, role="admin")
    _user, me = await make_member(org)
    async with org_session(org.id, write=True) as db:
        await service.change_settings(db, admin, keep_versions=2)
        await db.commit()
    drive = await own_drive(me)
    for n in range(5):
        doc = await put(me, drive.root_id, "doc.txt", b"v%d" % n)
    first, second = (await queued(me.org_id, "drive.prune"))[-2:]
    await asyncio.gather(retention.prune(first), retention.prune(second))
    async with org_session(me.org_id) as db:
        assert [v.number for v in await service.versions(db, me, doc.id)] == [5, 4]
    assert (await own_drive(me)).used_bytes == 4


async def test_two_requests_making_one_folder_at_once_give_one_folder_and_one_conflict() -> None:
    """rclone makes folders from several connections: on PostgreSQL both requests passed
    the name check, and the second's insert broke the unique index (a 500)."""
    _user, me = await make_member()
    drive = await own_drive(me)

    async def make() -> service.NodeInfo:
        async with org_session(me.org_id, write=True) as db:
            made = await service.create_folder(db, me, drive.root_id, "dossier 4")
            await db.commit()
            return made

    outcomes = await asyncio.gather(make(), make(), return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NodeInfo"]
    async with org_session(me.org_id) as db:
        assert [e.name for e in (await service.list_folder(db, me, drive.root_id)).entries] == ["dossier 4"]


async def test_checkout_locks_others_out_until_checkin() -> None:
    org = await make_drive_org()
    owner, _ = await make_member(org)
    colleague, _ = await make_member(org)
    space = await make_space(owner, members={colleague: "member"})
    me, them = await principal(owner), await principal(colleague)
    from tests.drive.factories import space_drive

    drive = await space_drive(me, space.id)
    doc = await put(me, drive.root_id, "contrat.odt", b"v1")
    async with org_session(me.org_id, write=True) as db:
        out = await service.checkout(db, them, doc.id)
        with pytest.raises(Conflict):
            await service.checkout(db, them, doc.id)
        await db.commit()
    assert out.lock is not None and out.lock.kind == "checkout" and out.lock.user_id == them.user_id
    with pytest.raises(Locked):
        await put(me, drive.root_id, "contrat.odt", b"mine")
    await put(them, drive.root_id, "contrat.odt", b"theirs")
    async with org_session(me.org_id, write=True) as db:
        assert (await service.node(db, me, doc.id)).lock is not None  # shown to others
        with pytest.raises(Locked):
            await service.trash(db, me, doc.id)
        await service.checkin(db, me, doc.id)  # a manager of the space may release it
        await db.commit()
    await put(me, drive.root_id, "contrat.odt", b"mine")
    assert await read(me, doc.id) == b"mine"


async def test_lock_by_path_covers_a_name_before_it_exists_and_its_token_opens_it() -> None:
    _user, me = await make_member()
    drive = await own_drive(me)
    folder = await _folder(me, drive.root_id, "docs")
    async with org_session(me.org_id, write=True) as db:
        held = await service.lock(db, me, drive.id, "Docs/New.txt")
        await db.commit()
    with pytest.raises(Locked):
        await put(me, folder.id, "new.txt", b"no token")
    with pytest.raises(Locked):  # the same name in another case
        await put(me, folder.id, "NEW.TXT", b"no token")
    made = await put(me, folder.id, "new.txt", b"token", lock_tokens=[held.token])
    async with org_session(me.org_id, write=True) as db:
        assert [lock.token for lock in await service.locks(db, me, made.id)] == [held.token]
        with pytest.raises(Locked):  # its exclusive lock is inside the folder
            await service.lock(db, me, drive.id, "docs", depth_infinity=True, exclusive=False)
        await service.unlock(db, me, held.token)
        deep = await service.lock(db, me, drive.id, "docs", depth_infinity=True, exclusive=False)
        shared = await service.lock(db, me, drive.id, "docs/new.txt", exclusive=False)
        with pytest.raises(Locked):
            await service.lock(db, me, drive.id, "docs")
        await service.unlock(db, me, shared.token)
        await db.commit()
    with pytest.raises(Locked):  # the folder's depth-infinity lock covers it
        await put(me, folder.id, "new.txt", b"again")
    await put(me, folder.id, "new.txt", b"again", lock_tokens=[deep.token])
