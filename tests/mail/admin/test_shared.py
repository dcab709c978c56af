"""Shared mailboxes: created in the organisation's domains, members given read, read and
write, and send-as, then removed; another organisation's shared mailboxes and people are
out of reach."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from hexagone.core.db import org_session, system_session
from hexagone.identity.models import User
from hexagone.mail.models import Mailbox, MailboxGrant, MailboxKind
from hexagone.mail.service import administration
from hexagone.mail.service.addresses import sendable_addresses
from tests.admin.factories_admin import audited, post
from tests.factories import make_user, principal, unique
from tests.mail.admin.factories_mailadmin import mail_admin
from tests.mail.factories import folder_of, make_mail_org


async def create(client: httpx.AsyncClient, address: str, name: str = "Accueil") -> uuid.UUID:
    response = await post(client, "/mail/admin/shared", {"address": address, "name": name})
    assert response.status_code == 303, response.text[:300]
    return uuid.UUID(response.headers["location"].split("/")[-1].split("?")[0])


async def grant_of(mailbox_id: uuid.UUID, user_id: uuid.UUID) -> MailboxGrant | None:
    async with system_session() as db:
        return (
            await db.execute(
                select(MailboxGrant).where(MailboxGrant.mailbox_id == mailbox_id, MailboxGrant.user_id == user_id)
            )
        ).scalar_one_or_none()


async def can_send_as(user_id: uuid.UUID, address: str) -> bool:
    async with system_session() as db:
        user = await db.get(User, user_id)
        assert user is not None
        allowed = address in await sendable_addresses(db, user)
        await db.commit()
        return allowed


async def test_shared_mailbox_is_created_and_members_get_the_access_they_are_given(client: httpx.AsyncClient) -> None:
    org, _admin = await mail_admin(client)
    member = await make_user(org)
    address = f"{unique('accueil')}@{org.domain}"
    mailbox_id = await create(client, address)
    async with system_session() as db:
        mailbox = await db.get(Mailbox, mailbox_id)
        assert mailbox is not None and mailbox.kind == MailboxKind.SHARED and mailbox.display_name == "Accueil"
    assert address in (await client.get("/mail/admin/shared")).text

    members = f"/mail/admin/shared/{mailbox_id}/members"
    assert (await post(client, members, {"email": member.email, "access": "read"})).status_code == 303
    grant = await grant_of(mailbox_id, member.id)
    assert grant is not None and not grant.can_write and not grant.can_send_as
    assert not await can_send_as(member.id, address)

    assert (await post(client, members, {"email": member.email, "access": "write", "send_as": "on"})).status_code == 303
    grant = await grant_of(mailbox_id, member.id)
    assert grant is not None and grant.can_write and grant.can_send_as
    assert await can_send_as(member.id, address)
    page = (await client.get(f"/mail/admin/shared/{mailbox_id}")).text
    assert member.email in page and "Lecture et écriture" in page
    assert await audited("mail.grant_set", address)

    removed = await post(client, f"{members}/remove", {"user_id": str(member.id)})
    assert removed.status_code == 303 and await grant_of(mailbox_id, member.id) is None


async def test_shared_mailbox_bad_input_is_refused_with_a_message(client: httpx.AsyncClient) -> None:
    org, admin = await mail_admin(client)
    assert (await post(client, "/mail/admin/shared", {"address": "contact@elsewhere.test"})).status_code == 403
    assert (await post(client, "/mail/admin/shared", {"address": admin.email})).status_code == 409
    mailbox_id = await create(client, f"{unique('contact')}@{org.domain}", name="")
    members = f"/mail/admin/shared/{mailbox_id}/members"
    assert (await post(client, members, {"email": admin.email, "access": "everything"})).status_code == 400
    assert (await post(client, members, {"email": f"nobody@{org.domain}", "access": "read"})).status_code == 400
    guest = await make_user(org, role="guest")
    assert (await post(client, members, {"email": guest.email, "access": "read"})).status_code == 400
    assert (await post(client, f"{members}/remove", {"user_id": "not-a-uuid"})).status_code == 400


async def test_shared_mailboxes_of_another_organisation_are_not_found(client: httpx.AsyncClient) -> None:
    other = await make_mail_org()
    other_admin = await make_user(other, role="admin")
    stranger = await make_user(other)
    async with org_session(other.id) as db:
        theirs = await administration.create_shared(
            db, await principal(other_admin), f"{unique('contact')}@{other.domain}", ""
        )
        await db.commit()

    org, admin = await mail_admin(client)
    own = await create(client, f"{unique('contact')}@{org.domain}")
    assert (await client.get(f"/mail/admin/shared/{theirs.id}")).status_code == 404
    for action in ("members", "members/remove"):
        response = await post(
            client,
            f"/mail/admin/shared/{theirs.id}/{action}",
            {"email": admin.email, "access": "read", "user_id": str(admin.id)},
        )
        assert response.status_code == 404, action
    assert theirs.address not in (await client.get("/mail/admin/shared")).text
    assert (
        await post(client, f"/mail/admin/shared/{own}/members", {"email": stranger.email, "access": "read"})
    ).status_code == 400
    # A person's own mailbox is not a shared one: it has no page here either.
    personal = (await folder_of(admin)).mailbox_id
    assert (await client.get(f"/mail/admin/shared/{personal}")).status_code == 404
