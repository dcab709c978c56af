"""Who reaches what: a personal drive is its owner's, a space's drive is its members' by
their space role, shares give a role on a subtree, guests come in only through spaces,
administrators get nothing more, and another organisation gets NotFound everywhere.
Also the metadata every file carries (tags, description, custom fields, properties) and
each person's favourites and recent files."""

from __future__ import annotations

import uuid

import pytest

from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, NotFound
from hexagone.drive import service
from tests.drive.factories import make_drive_org, make_member, own_drive, put, read, space_drive
from tests.factories import make_space, principal

pytestmark = pytest.mark.usefixtures("migrated")


async def _abilities(who, node_id):  # type: ignore[no-untyped-def]
    async with org_session(who.org_id) as db:
        try:
            return (await service.node(db, who, node_id)).abilities
        except NotFound:
            return None


async def test_a_personal_drive_is_its_owner_s_alone_even_for_an_administrator() -> None:
    org = await make_drive_org()
    _o, owner = await make_member(org)
    _a, admin = await make_member(org, role="admin")
    _u, user = await make_member(org)
    _g, guest = await make_member(org, role="guest")
    doc = await put(owner, (await own_drive(owner)).root_id, "private.txt", b"secret")
    assert (await _abilities(owner, doc.id)) == {
        "view": True,
        "read": True,
        "write": True,
        "manage": True,
        "share": True,
    }
    for other in (admin, user, guest):
        assert await _abilities(other, doc.id) is None
        with pytest.raises(NotFound):
            await read(other, doc.id)
        with pytest.raises(NotFound):
            await put(other, doc.parent_id, "intrus.txt")  # type: ignore[arg-type]
        async with org_session(other.org_id) as db:
            with pytest.raises(NotFound):
                await service.drive(db, other, doc.drive_id)
            with pytest.raises(NotFound):
                await service.list_folder(db, other, doc.parent_id)  # type: ignore[arg-type]


async def test_another_organisation_gets_not_found_on_every_function() -> None:
    _o, owner = await make_member()
    _s, stranger = await make_member()  # another organisation
    _a, stranger_admin = await make_member(role="admin")
    drive = await own_drive(owner)
    doc = await put(owner, drive.root_id, "doc.txt", b"doc")
    for who in (stranger, stranger_admin):
        async with org_session(who.org_id, write=True) as db:
            calls = [
                service.drive(db, who, drive.id),
                service.node(db, who, doc.id),
                service.list_folder(db, who, drive.root_id),
                service.resolve_path(db, who, drive.id, "doc.txt"),
                service.versions(db, who, doc.id),
                service.rename(db, who, doc.id, "x.txt"),
                service.trash(db, who, doc.id),
                service.set_tags(db, who, doc.id, ["x"]),
                service.share(db, who, doc.id, "reader", user_id=who.user_id),
                service.checkout(db, who, doc.id),
                service.set_favourite(db, who, doc.id),
                service.in_trash(db, who, drive.id),
                service.set_quota(db, stranger_admin, drive.id, 10),
            ]
            for call in calls:
                with pytest.raises(NotFound):
                    await call
        with pytest.raises(NotFound):
            await read(who, doc.id)
    # their own session cannot see it either: the tenancy layer scopes every query
    async with org_session(stranger.org_id) as db:
        with pytest.raises(NotFound):
            await service.node(db, owner, doc.id)


async def test_a_space_drive_follows_the_space_roles_and_guests_come_in_through_it() -> None:
    org = await make_drive_org()
    owner_u, _ = await make_member(org)
    manager_u, _ = await make_member(org)
    member_u, _ = await make_member(org)
    reader_u, _ = await make_member(org)
    guest_u, _ = await make_member(org, role="guest")
    _x, outsider = await make_member(org)
    space = await make_space(
        owner_u, members={manager_u: "manager", member_u: "member", reader_u: "reader", guest_u: "member"}
    )
    owner, manager, member, reader, guest = [
        await principal(u) for u in (owner_u, manager_u, member_u, reader_u, guest_u)
    ]
    drive = await space_drive(owner, space.id)
    doc = await put(member, drive.root_id, "plan.txt", b"plan")
    expected = [
        (owner, (True, True, True)),
        (manager, (True, True, True)),
        (member, (True, True, False)),
        (guest, (True, True, False)),
        (reader, (True, False, False)),
    ]
    for who, (can_read, can_write, can_manage) in expected:
        abilities = await _abilities(who, doc.id)
        assert abilities is not None
        assert (abilities["read"], abilities["write"], abilities["manage"]) == (can_read, can_write, can_manage)
    assert (await _abilities(guest, doc.id) or {})["share"] is False  # guests never share
    assert await _abilities(outsider, doc.id) is None
    await put(guest, drive.root_id, "from-guest.txt")
    with pytest.raises(Forbidden):
        await put(reader, drive.root_id, "from-reader.txt")
    async with org_session(org.id) as db:
        visible = {d.id for d in await service.drives(db, guest)}
    assert visible == {drive.id}


async def test_a_share_gives_its_role_on_the_subtree_only() -> None:
    org = await make_drive_org()
    _o, owner = await make_member(org)
    _f, friend = await make_member(org)
    _g, guest = await make_member(org, role="guest")
    drive = await own_drive(owner)
    async with org_session(org.id, write=True) as db:
        shared = await service.create_folder(db, owner, drive.root_id, "Partagé")
        private = await service.create_folder(db, owner, drive.root_id, "Privé")
        with pytest.raises(Invalid):
            await service.share(db, owner, shared.id, "reader", user_id=guest.user_id)
        with pytest.raises(Invalid):
            await service.share(db, owner, shared.id, "owner", user_id=friend.user_id)
        made = await service.share(db, owner, shared.id, "reader", user_id=friend.user_id)
        await db.commit()
    inside = await put(owner, shared.id, "inside.txt", b"in")
    outside = await put(owner, private.id, "outside.txt", b"out")
    assert await read(friend, inside.id) == b"in"
    assert await _abilities(friend, outside.id) is None
    with pytest.raises(Forbidden):
        await put(friend, shared.id, "mine.txt")
    async with org_session(org.id, write=True) as db:
        await service.share(db, owner, shared.id, "editor", user_id=friend.user_id)  # the same grantee: a new role
        assert [s.role for s in await service.shares(db, owner, shared.id)] == ["editor"]
        assert [n.id for n in await service.shared_with_me(db, friend)] == [shared.id]
        crumbs = await service.path_of(db, friend, inside.id)
        with pytest.raises(Forbidden):
            await service.shares(db, friend, shared.id)  # an editor may not share
        await db.commit()
    assert [c.name for c in crumbs] == ["Partagé", "inside.txt"]  # not the owner's root
    await put(friend, shared.id, "mine.txt")
    async with org_session(org.id, write=True) as db:
        with pytest.raises(NotFound):
            await service.trash(db, friend, shared.id)  # the share's folder is the owner's to remove
        await service.unshare(db, owner, made.id)
        await db.commit()
    assert await _abilities(friend, inside.id) is None


async def test_a_share_to_a_group_or_a_space_reaches_their_members() -> None:
    org = await make_drive_org()
    owner_u, owner = await make_member(org)
    guest_u, _ = await make_member(org, role="guest")
    space = await make_space(owner_u, members={guest_u: "reader"})
    owner = await principal(owner_u)
    guest = await principal(guest_u)
    doc = await put(owner, (await own_drive(owner)).root_id, "for-the-space.txt", b"s")
    async with org_session(org.id, write=True) as db:
        await service.share(db, owner, doc.id, "reader", space_id=space.id)
        with pytest.raises(NotFound):
            await service.share(db, owner, doc.id, "reader", space_id=uuid.uuid4())
        with pytest.raises(Invalid):
            await service.share(db, owner, doc.id, "reader", space_id=space.id, user_id=owner.user_id)
        await db.commit()
    assert await read(guest, doc.id) == b"s"


async def test_tags_description_and_custom_fields_of_a_space_drive() -> None:
    org = await make_drive_org()
    owner_u, _ = await make_member(org)
    member_u, _ = await make_member(org)
    space = await make_space(owner_u, members={member_u: "member"})
    owner, member = await principal(owner_u), await principal(member_u)
    drive = await space_drive(owner, space.id)
    doc = await put(member, drive.root_id, "contrat.pdf")
    async with org_session(org.id, write=True) as db:
        assert await service.set_tags(db, member, doc.id, ["Juridique", "juridique ", "2027"]) == ["2027", "Juridique"]
        described = await service.set_description(db, member, doc.id, "Le contrat signé.")
        with pytest.raises(Forbidden):
            await service.define_field(db, member, drive.id, "Numéro")
        number = await service.define_field(db, owner, drive.id, "Numéro", "number")
        status = await service.define_field(db, owner, drive.id, "Statut", "choice", ["Brouillon", "Signé"])
        with pytest.raises(Conflict):
            await service.define_field(db, owner, drive.id, "numéro")
        with pytest.raises(Invalid):
            await service.set_field_values(db, member, doc.id, {number.id: "douze"})
        with pytest.raises(Invalid):
            await service.set_field_values(db, member, doc.id, {status.id: "Perdu"})
        values = await service.set_field_values(db, member, doc.id, {number.id: "12,5", status.id: "Signé"})
        fields = await service.fields(db, member, drive.id)
        with pytest.raises(Invalid):
            await service.define_field(db, owner, (await service.drive_of_user(db, owner)).id, "Perso")
        await db.commit()
    assert described.description == "Le contrat signé."
    assert values == {number.id: "12,5", status.id: "Signé"}
    assert [f.label for f in fields] == ["Numéro", "Statut"] and fields[1].choices == ("Brouillon", "Signé")


async def test_dead_properties_are_all_or_nothing_and_follow_a_move() -> None:
    _u, me = await make_member()
    drive = await own_drive(me)
    doc = await put(me, drive.root_id, "p.txt")
    async with org_session(me.org_id, write=True) as db:
        folder = await service.create_folder(db, me, drive.root_id, "f")
        await service.change_properties(db, me, doc.id, set_={("urn:x", "colour"): "<x:colour>bleu</x:colour>"})
        await service.move(db, me, doc.id, folder.id)
        await db.commit()
        assert await service.properties(db, me, doc.id) == {("urn:x", "colour"): "<x:colour>bleu</x:colour>"}


async def test_favourites_and_recent_files_are_each_person_s_and_drop_what_they_lost() -> None:
    org = await make_drive_org()
    _o, owner = await make_member(org)
    _f, friend = await make_member(org)
    drive = await own_drive(owner)
    first = await put(owner, drive.root_id, "first.txt")
    second = await put(owner, drive.root_id, "second.txt")
    async with org_session(org.id, write=True) as db:
        await service.set_favourite(db, owner, first.id)
        await service.set_favourite(db, owner, first.id)  # twice: once
        share = await service.share(db, owner, second.id, "reader", user_id=friend.user_id)
        await service.set_favourite(db, friend, second.id)
        await service.mark_recent(db, friend, second.id)
        await db.commit()
        assert [n.id for n in await service.favourites(db, owner)] == [first.id]
        assert [n.id for n in await service.recent(db, owner)] == [second.id, first.id]
        assert [n.id for n in await service.favourites(db, friend)] == [second.id]
        await service.unshare(db, owner, share.id)
        await service.trash(db, owner, first.id)
        await db.commit()
        assert await service.favourites(db, friend) == [] and await service.recent(db, friend) == []
        assert [n.id for n in await service.recent(db, owner)] == [second.id]


async def test_access_found_once_in_a_session_is_found_again_after_a_write_in_it() -> None:
    """A request reaches a node several times (by path, then opened, then its properties):
    the session remembers it, and forgets it as soon as it writes."""
    org = await make_drive_org()
    _o, owner = await make_member(org)
    _c, colleague = await make_member(org)
    root = (await own_drive(owner)).root_id
    doc = await put(owner, root, "report.txt")
    async with org_session(owner.org_id, write=True) as db:
        assert (await service.node(db, owner, doc.id)).name == "report.txt"
        with pytest.raises(NotFound):  # what the owner reaches is not the colleague's
            await service.node(db, colleague, doc.id)
        await service.share(db, owner, doc.id, "reader", user_id=colleague.user_id)
        assert (await service.node(db, colleague, doc.id)).abilities["read"]
        await service.trash(db, owner, doc.id)
        with pytest.raises(NotFound):
            await service.node(db, owner, doc.id)
