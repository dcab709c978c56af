"""RCPT answers from what the server keeps of who receives mail (the organisation of a
domain, whether a mailbox's owner may receive: :func:`delivery.receiving_org`), and every
change to who receives takes effect on the very next RCPT.

Each test asks the server twice (the first RCPT reads, the second is answered from what
it kept), changes one thing in this process, as an administrator's request in another
worker or a command would (the drop crosses processes through the generations file),
and asks again."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.db import org_session, system_session
from hexagone.identity.models import Domain, OrgRole
from hexagone.identity.service import groups, orgs, users
from hexagone.mail.models import Address, Mailbox
from hexagone.mail.service import administration, delivery
from tests.conftest import Server
from tests.factories import TestOrg, make_user, principal, unique
from tests.mail.factories import make_mail_org
from tests.mail.smtp.helpers import distribution_list, inbound, mail_user, shared_mailbox

pytestmark = pytest.mark.usefixtures("migrated")

ACCEPTED, NO_SUCH_USER, NOT_OURS = 250, 550, 554


def rcpt(server: Server, address: str) -> int:
    with inbound(server) as client:
        client.mail("someone@example.net")
        return client.rcpt(address)[0]


def warmed(server: Server, address: str, expected: int) -> None:
    """Two RCPTs with the same answer: the second one comes from what the server kept."""
    assert [rcpt(server, address), rcpt(server, address)] == [expected, expected]


async def administer(org: TestOrg, change: Callable[[AsyncSession, Principal], Awaitable[object]]) -> None:
    """``change`` made by an administrator of ``org``, committed."""
    admin = await principal(await make_user(org, role=OrgRole.ADMIN))
    async with org_session(org.id) as db:
        await change(db, admin)
        await db.commit()


async def test_rcpt_removed_alias_is_refused_at_once(mail_server: Server) -> None:
    org = await make_mail_org()
    user = await mail_user(org)
    alias = f"{unique('alias')}@{org.domain}"
    await administer(org, lambda db, admin: administration.add_alias(db, admin, alias, user.email))
    warmed(mail_server, alias, ACCEPTED)

    async def remove(db: AsyncSession, admin: Principal) -> None:
        row = (await db.execute(select(Address).where(Address.address == alias))).scalar_one()
        await administration.remove_alias(db, admin, row.id)

    await administer(org, remove)
    assert rcpt(mail_server, alias) == NO_SUCH_USER


async def test_rcpt_new_alias_is_accepted_at_once(mail_server: Server) -> None:
    org = await make_mail_org()
    user = await mail_user(org)
    alias = f"{unique('new')}@{org.domain}"
    warmed(mail_server, alias, NO_SUCH_USER)
    await administer(org, lambda db, admin: administration.add_alias(db, admin, alias, user.email))
    assert rcpt(mail_server, alias) == ACCEPTED


async def test_rcpt_deleted_mailbox_is_refused_at_once(mail_server: Server) -> None:
    org = await make_mail_org()
    address = f"{unique('team')}@{org.domain}"
    mailbox_id = await shared_mailbox(org, address, members={})
    warmed(mail_server, address, ACCEPTED)
    async with system_session() as db:
        await db.execute(delete(Mailbox).where(Mailbox.id == mailbox_id))
        await db.commit()
    assert rcpt(mail_server, address) == NO_SUCH_USER


async def test_rcpt_disabled_account_is_refused_at_once_and_enabled_again_accepted(mail_server: Server) -> None:
    org = await make_mail_org()
    user = await mail_user(org)
    warmed(mail_server, user.email, ACCEPTED)
    await administer(org, lambda db, admin: users.set_active(db, admin, user.id, False))
    warmed(mail_server, user.email, NO_SUCH_USER)
    await administer(org, lambda db, admin: users.set_active(db, admin, user.id, True))
    assert rcpt(mail_server, user.email) == ACCEPTED


async def _disable(db: AsyncSession, admin: Principal, group_id: uuid.UUID, member_id: uuid.UUID) -> None:
    await users.set_active(db, admin, member_id, False)


async def _leave(db: AsyncSession, admin: Principal, group_id: uuid.UUID, member_id: uuid.UUID) -> None:
    await groups.remove_from_group(db, admin, await groups.get_group(db, group_id), member_id)


@pytest.mark.parametrize("change", [_disable, _leave], ids=["member disabled", "member left"])
async def test_rcpt_list_whose_only_member_goes_is_refused_at_once(
    mail_server: Server, change: Callable[[AsyncSession, Principal, uuid.UUID, uuid.UUID], Awaitable[None]]
) -> None:
    org = await make_mail_org()
    member = await mail_user(org)
    address = f"{unique('list')}@{org.domain}"
    await distribution_list(org, address, [member])
    warmed(mail_server, address, ACCEPTED)

    async def go(db: AsyncSession, admin: Principal) -> None:
        group_id = (await db.execute(select(Address.group_id).where(Address.address == address))).scalar_one()
        assert group_id is not None
        await change(db, admin, group_id, member.id)

    await administer(org, go)
    assert rcpt(mail_server, address) == NO_SUCH_USER


async def test_rcpt_removed_domain_is_refused_at_once(mail_server: Server) -> None:
    org = await make_mail_org()
    domain = f"{unique('second')}.test"
    await administer(org, lambda db, admin: orgs.add_domain(db, admin, domain))
    address = f"team@{domain}"
    await shared_mailbox(org, address, members={})
    warmed(mail_server, address, ACCEPTED)
    async with system_session() as db:
        await db.delete((await db.execute(select(Domain).where(Domain.name == domain))).scalar_one())
        await db.commit()
    assert rcpt(mail_server, address) == NOT_OURS


async def test_rcpt_new_domain_is_accepted_at_once(mail_server: Server) -> None:
    org = await make_mail_org()
    domain = f"{unique('later')}.test"
    address = f"team@{domain}"
    warmed(mail_server, address, NOT_OURS)
    await administer(org, lambda db, admin: orgs.add_domain(db, admin, domain))
    await shared_mailbox(org, address, members={})
    assert rcpt(mail_server, address) == ACCEPTED


async def test_rcpt_organisation_leaving_mail_is_refused_at_once(mail_server: Server) -> None:
    org = await make_mail_org()
    user = await mail_user(org)
    warmed(mail_server, user.email, ACCEPTED)
    await administer(org, lambda db, admin: orgs.set_modules(db, admin, [], ["mail"]))
    assert rcpt(mail_server, user.email) == NOT_OURS


async def test_resolve_with_room_asked_again_reads_only_the_mailbox(statements: list[str]) -> None:
    user = await mail_user()
    first = await delivery.resolve_with_room(user.email)
    assert first[0] is not None and not first[1]
    statements.clear()
    assert await delivery.resolve_with_room(user.email.upper()) == first
    [statement] = statements
    assert "mail_mailboxes" in statement and "users" not in statement and "domains" not in statement


async def test_resolve_with_room_unknown_domain_asked_again_reads_nothing(statements: list[str]) -> None:
    address = f"someone@{uuid.uuid4().hex}.example"
    assert await delivery.resolve_with_room(address) == (None, False)
    statements.clear()
    assert await delivery.resolve_with_room(address) == (None, False)
    assert statements == []
