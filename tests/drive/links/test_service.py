"""Public links through the service face: who makes them, what a token opens (and what it
never tells), passwords and their throttle, file drops, revocation, the audit of every
use, and asking for access."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from hexagone.core.db import org_session, system_session, utcnow
from hexagone.core.downloads import Unsatisfiable
from hexagone.core.exceptions import Forbidden, InsufficientStorage, Invalid, NotFound, RateLimited
from hexagone.core.i18n import gettext
from hexagone.core.models import AuditEntry, Notification
from hexagone.core.security import token_digest
from hexagone.drive import service
from hexagone.drive.models import Link
from hexagone.drive.service import links as links_service
from tests.drive.factories import chunks, make_drive_org, make_member, own_drive, put, space_drive
from tests.drive.links.helpers import drop_box
from tests.factories import make_org, make_space, make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")

ANONYMOUS = service.Visitor("203.0.113.7")


async def _link(who, node_id, **options) -> service.NewLink:  # type: ignore[no-untyped-def]
    async with org_session(who.org_id, write=True) as db:
        made = await service.create_link(db, who, node_id, **options)
        await db.commit()
    return made


async def _entries(org_id: uuid.UUID, action: str) -> list[AuditEntry]:
    async with org_session(org_id) as db:
        rows = await db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.created_at))
        return list(rows.scalars())


async def _read(stream) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join([chunk async for chunk in stream])


async def test_link_token_is_shown_once_and_only_its_digest_is_stored() -> None:
    _user, me = await make_member()
    doc = await put(me, (await own_drive(me)).root_id, "rapport.pdf", b"%PDF report")
    made = await _link(me, doc.id)
    assert len(made.token) >= 40 and made.link.hint == made.token[:6] and made.link.active
    async with system_session() as db:
        stored = await db.scalar(select(Link).where(Link.id == made.link.id))
    assert stored is not None and stored.token_digest == token_digest(made.token) != made.token
    [created] = await _entries(me.org_id, links_service.CREATED)
    assert created.actor_id == me.user_id and created.target_id == str(made.link.id)
    view = await service.view_link(made.token, ANONYMOUS)
    assert view.node.name == "rapport.pdf" and view.entries == []
    found, stream, span = await service.download_link(made.token, ANONYMOUS, doc.id)
    assert span is None and found.name == "rapport.pdf" and await _read(stream) == b"%PDF report"
    [opened] = await _entries(me.org_id, links_service.OPENED)
    assert opened.actor_id is None and opened.actor_label == "anonymous" and opened.ip == "203.0.113.7"
    assert opened.details["link"] == str(made.link.id) and opened.details["outcome"] == "ok"
    [downloaded] = await _entries(me.org_id, links_service.DOWNLOADED)
    assert downloaded.target_label == "rapport.pdf"
    async with org_session(me.org_id) as db:
        [listed] = await service.node_links(db, me, doc.id)
    assert (listed.opened, listed.downloads, listed.uploads) == (1, 1, 0) and listed.last_used_at is not None


async def test_link_download_serves_one_byte_range_and_refuses_one_past_the_end() -> None:
    _user, me = await make_member()
    doc = await put(me, (await own_drive(me)).root_id, "data.bin", bytes(range(100)))
    made = await _link(me, doc.id)
    _found, stream, span = await service.download_link(made.token, ANONYMOUS, doc.id, "bytes=10-19")
    assert span == (10, 20) and await _read(stream) == bytes(range(10, 20))
    _found, stream, span = await service.download_link(made.token, ANONYMOUS, doc.id, "bytes=-5")
    assert span == (95, 100) and await _read(stream) == bytes(range(95, 100))
    with pytest.raises(Unsatisfiable):
        await service.download_link(made.token, ANONYMOUS, doc.id, "bytes=100-")


async def test_link_is_made_only_by_who_may_share_and_never_by_a_guest() -> None:
    org = await make_drive_org()
    owner_user = await make_user(org)
    guest_user = await make_user(org, role="guest")
    member_user = await make_user(org)
    space = await make_space(owner_user, members={guest_user: "member", member_user: "member"})
    owner = await principal(owner_user)
    folder = await space_drive(owner, space.id)
    doc = await put(owner, folder.root_id, "cr.txt", b"notes")
    for who in (await principal(guest_user), await principal(member_user)):
        with pytest.raises(Forbidden):
            await _link(who, doc.id)
    reader = await principal(await make_user(org))
    async with org_session(org.id, write=True) as db:
        await service.share(db, owner, doc.id, "reader", user_id=reader.user_id)
        await db.commit()
    with pytest.raises(Forbidden):
        await _link(reader, doc.id)
    admin = await principal(await make_user(org, role="admin"))
    stranger = await principal(await make_user(await make_drive_org()))
    for who in (admin, stranger):
        with pytest.raises(NotFound):
            await _link(who, doc.id)
    made = await _link(owner, doc.id)
    async with org_session(stranger.org_id, write=True) as db:
        with pytest.raises(NotFound):
            await service.revoke_link(db, stranger, made.link.id)
    async with org_session(org.id) as db:
        with pytest.raises(Forbidden):
            await service.node_links(db, await principal(guest_user), doc.id)


def _untranslated(message: str, **variables: object) -> str:
    return message % variables if variables and "%(" in message else message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "edit"}, "A link is for viewing or for sending files."),
        ({"mode": "upload"}, "Files can be sent only into a folder."),
        ({"password": "short"}, "A link's password has %(min)s to %(max)s characters."),
        ({"expires_at": utcnow() - timedelta(minutes=1)}, "The expiry date must be in the future."),
    ],
    ids=["unknown-mode", "upload-to-a-file", "short-password", "past-expiry"],
)
async def test_link_with_bad_options_is_refused_with_a_message(options: dict[str, object], message: str) -> None:
    _user, me = await make_member()
    doc = await put(me, (await own_drive(me)).root_id, "a.txt")
    with pytest.raises(Invalid) as refused:
        await _link(me, doc.id, **options)
    # In French once a test of this process has loaded the catalogues, in English before.
    assert refused.value.message in {gettext(message, min=10, max=200), _untranslated(message, min=10, max=200)}
    async with org_session(me.org_id) as db:
        assert await service.node_links(db, me, doc.id) == []


async def test_unknown_expired_and_revoked_links_are_the_same_not_found_and_audited() -> None:
    _user, me = await make_member()
    doc = await put(me, (await own_drive(me)).root_id, "a.txt")
    revoked = await _link(me, doc.id)
    expiring = await _link(me, doc.id, expires_at=utcnow() + timedelta(seconds=1))
    async with org_session(me.org_id, write=True) as db:
        await service.revoke_link(db, me, revoked.link.id)
        row = await db.get(Link, expiring.link.id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        await db.commit()
    messages = set()
    for token in (revoked.token, expiring.token, "x" * 43, "../../etc/passwd", ""):
        with pytest.raises(NotFound) as refused:
            await service.view_link(token, ANONYMOUS)
        messages.add(refused.value.message)
    assert len(messages) == 1
    reasons = sorted(e.details["reason"] for e in await _entries(me.org_id, links_service.REFUSED))
    assert reasons == ["expired", "revoked"]
    [revoking] = await _entries(me.org_id, links_service.REVOKED)
    assert revoking.actor_id == me.user_id


async def test_link_dies_with_its_makers_access_and_with_the_node() -> None:
    org = await make_drive_org()
    _owner_user, owner = await make_member(org)
    colleague = await principal(await make_user(org))
    doc = await put(owner, (await own_drive(owner)).root_id, "a.txt")
    async with org_session(org.id, write=True) as db:
        shared = await service.share(db, owner, doc.id, "manager", user_id=colleague.user_id)
        await db.commit()
    made = await _link(colleague, doc.id)
    assert (await service.view_link(made.token, ANONYMOUS)).node.id == doc.id
    async with org_session(org.id, write=True) as db:
        await service.unshare(db, owner, shared.id)
        await db.commit()
    with pytest.raises(NotFound):
        await service.view_link(made.token, ANONYMOUS)
    own = await _link(owner, doc.id)
    async with org_session(org.id, write=True) as db:
        await service.trash(db, owner, doc.id)
        await db.commit()
    with pytest.raises(NotFound):
        await service.view_link(own.token, ANONYMOUS)


async def test_password_link_opens_only_with_its_proof_and_wrong_passwords_are_throttled() -> None:
    _user, me = await make_member()
    doc = await put(me, (await own_drive(me)).root_id, "secret.txt", b"secret")
    made = await _link(me, doc.id, password="correct horse battery")
    other = await _link(me, doc.id, password="correct horse battery")
    assert made.link.has_password
    with pytest.raises(service.PasswordNeeded):
        await service.view_link(made.token, ANONYMOUS)
    with pytest.raises(service.PasswordNeeded):
        await service.download_link(made.token, ANONYMOUS, doc.id)
    with pytest.raises(Forbidden) as wrong:
        await service.unlock_link(made.token, "wrong horse", ANONYMOUS)
    assert wrong.value.message == "Mot de passe incorrect." or wrong.value.message == "Wrong password."
    proof = await service.unlock_link(made.token, "correct horse battery", ANONYMOUS)
    visitor = service.Visitor(ANONYMOUS.ip, proof=proof)
    assert (await service.view_link(made.token, visitor)).node.id == doc.id
    with pytest.raises(service.PasswordNeeded):  # a proof opens its own link only
        await service.view_link(other.token, visitor)
    with pytest.raises(service.PasswordNeeded):
        await service.view_link(made.token, service.Visitor(ANONYMOUS.ip, proof="1" + proof))
    for _attempt in range(links_service.MAX_FAILURES_PER_ADDRESS - 1):
        with pytest.raises(Forbidden):
            await service.unlock_link(made.token, "guess", ANONYMOUS)
    with pytest.raises(RateLimited):  # even the right one, from this address, for a while
        await service.unlock_link(made.token, "correct horse battery", ANONYMOUS)
    assert await service.unlock_link(made.token, "correct horse battery", service.Visitor("198.51.100.1"))
    assert len(await _entries(me.org_id, links_service.WRONG_PASSWORD)) == links_service.MAX_FAILURES_PER_ADDRESS
    [throttled] = await _entries(me.org_id, links_service.THROTTLED)
    assert throttled.ip == ANONYMOUS.ip and throttled.target_id == str(made.link.id)


async def test_folder_link_browses_below_its_folder_and_nowhere_else() -> None:
    _user, me = await make_member()
    root = (await own_drive(me)).root_id
    async with org_session(me.org_id, write=True) as db:
        shared = await service.create_folder(db, me, root, "Partagé")
        inner = await service.create_folder(db, me, shared.id, "Dedans")
        await db.commit()
    inside = await put(me, inner.id, "in.txt", b"in")
    outside = await put(me, root, "out.txt", b"out")
    made = await _link(me, shared.id)
    view = await service.view_link(made.token, ANONYMOUS)
    assert [e.name for e in view.entries] == ["Dedans"] and [c.id for c in view.crumbs] == [shared.id]
    deeper = await service.view_link(made.token, ANONYMOUS, inner.id)
    assert [e.name for e in deeper.entries] == ["in.txt"] and [c.id for c in deeper.crumbs] == [shared.id, inner.id]
    _found, stream, _span = await service.download_link(made.token, ANONYMOUS, inside.id)
    assert await _read(stream) == b"in"
    for node_id in (outside.id, root, uuid.uuid4()):
        with pytest.raises(NotFound):
            await service.view_link(made.token, ANONYMOUS, node_id)
        with pytest.raises(NotFound):
            await service.download_link(made.token, ANONYMOUS, node_id)


async def test_file_drop_stores_numbered_files_shows_nothing_and_counts_in_the_quota() -> None:
    org = await make_drive_org()
    _user, me = await make_member(org)
    drive, box = await drop_box(me)
    made = await _link(me, box.id, mode="upload")
    view = await service.view_link(made.token, ANONYMOUS)
    assert view.entries == [] and view.folder is None
    await service.upload_link(made.token, ANONYMOUS, "cv.pdf", chunks(b"theirs"))
    async with org_session(me.org_id) as db:
        names = sorted(e.name for e in (await service.list_folder(db, me, box.id)).entries)
    assert names == ["cv (2).pdf", "cv.pdf"]
    with pytest.raises(NotFound):  # a drop is not a download
        await service.download_link(made.token, ANONYMOUS, box.id)
    for bad in ("../../etc/passwd", "a\\b.txt", "CON", ""):
        with pytest.raises(Invalid):
            await service.upload_link(made.token, ANONYMOUS, bad, chunks(b"x"))
    admin = await principal(await make_user(org, role="admin"))
    async with org_session(org.id, write=True) as db:
        await service.set_quota(db, admin, drive.id, 20)
        await db.commit()
    with pytest.raises(InsufficientStorage):
        await service.upload_link(made.token, ANONYMOUS, "big.bin", chunks(b"x" * 100))
    outcomes = [e.details["outcome"] for e in await _entries(me.org_id, links_service.UPLOADED)]
    assert outcomes == ["ok", 400, 400, 400, 400, 507]
    async with org_session(me.org_id) as db:
        assert len((await service.list_folder(db, me, box.id)).entries) == 2
        [listed] = await service.node_links(db, me, box.id)
    assert listed.uploads == 1


async def test_asking_for_access_notifies_the_managers_once_and_tells_nothing_of_existence() -> None:
    org = await make_drive_org()
    owner_user, owner = await make_member(org)
    manager = await principal(await make_user(org))
    asker = await principal(await make_user(org))
    doc = await put(owner, (await own_drive(owner)).root_id, "plan.txt")
    async with org_session(org.id, write=True) as db:
        await service.share(db, owner, doc.id, "manager", user_id=manager.user_id)
        assert await service.request_access(db, asker, doc.id, "pour le projet") is False
        assert await service.request_access(db, asker, doc.id) is False  # again: nobody notified
        assert await service.request_access(db, asker, uuid.uuid4()) is False
        assert await service.request_access(db, manager, doc.id) is True
        await db.commit()
    async with org_session(org.id) as db:
        notes = list((await db.execute(select(Notification).where(Notification.module == "drive"))).scalars())
    assert sorted(n.user_id for n in notes) == sorted([owner.user_id, manager.user_id])
    assert all(n.link == f"/drive/links/{doc.id}?requester={asker.user_id}" for n in notes)
    assert notes[0].body == "pour le projet"
    guest = await principal(await make_user(org, role="guest"))
    async with org_session(org.id, write=True) as db:
        with pytest.raises(Forbidden):
            await service.request_access(db, guest, doc.id)
    stranger = await principal(await make_user(await make_org(modules=("drive",))))
    async with org_session(stranger.org_id, write=True) as db:
        assert await service.request_access(db, stranger, doc.id) is False
    [asked] = await _entries(org.id, links_service.ACCESS_REQUESTED)
    assert asked.actor_id == asker.user_id and asked.target_id == str(doc.id)
    assert owner_user.id == owner.user_id
