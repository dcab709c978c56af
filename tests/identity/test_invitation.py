"""Guest invitations: e-mailed token, guest account, membership of the invited spaces only."""

from __future__ import annotations

import re

import httpx

from hexagone.core.db import org_session
from hexagone.core.exceptions import Forbidden, Invalid
from hexagone.identity.service import tokens
from tests.factories import TestUser, csrf_token, make_org, make_space, make_user, outbox_for, principal, unique

LINK_RE = re.compile(r"(/invitation/[A-Za-z0-9_-]+)")


async def invite(inviter: TestUser, space_id, email: str) -> str:  # type: ignore[no-untyped-def]
    actor = await principal(inviter)
    async with org_session(inviter.org_id) as db:
        await tokens.invite_guest(db, actor, email=email, space_ids=[space_id], base_url="http://x")
        await db.commit()
    link = LINK_RE.search((await outbox_for(email))[-1].body)
    assert link
    return link.group(1)


async def accept(client: httpx.AsyncClient, link: str, password: str = "Guest-password-123") -> httpx.Response:
    token = await csrf_token(client, link)
    return await client.post(
        link, data={"name": "Guest Person", "password": password, "password_confirm": password, "csrf_token": token}
    )


async def test_invited_guest_accepts_and_sees_only_the_invited_space(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_user(org)
    invited_space = await make_space(owner)
    other_space = await make_space(owner)
    email = f"{unique('ext')}@partner.test"
    link = await invite(owner, invited_space.id, email)
    assert (await accept(client, link)).status_code == 303
    guest = TestUser(id=None, org_id=org.id, email=email, password="Guest-password-123", role="guest")  # type: ignore[arg-type]
    from tests.factories import login

    await login(client, guest)
    me = (await client.get("/api/v1/me")).json()
    assert me["role"] == "guest"
    assert [s["id"] for s in me["spaces"]] == [str(invited_space.id)]
    assert str(other_space.id) not in (await client.get("/")).text


async def test_invitation_link_works_once(client: httpx.AsyncClient) -> None:
    owner = await make_user(await make_org())
    space = await make_space(owner)
    link = await invite(owner, space.id, f"{unique('ext')}@partner.test")
    assert (await accept(client, link)).status_code == 303
    assert (await client.get(link)).status_code == 404


async def test_plain_member_cannot_invite_into_a_space_they_do_not_manage() -> None:
    org = await make_org()
    owner = await make_user(org)
    member = await make_user(org)
    space = await make_space(owner, members={member: "member"})
    actor = await principal(member)
    async with org_session(org.id) as db:
        try:
            await tokens.invite_guest(db, actor, email="x@partner.test", space_ids=[space.id], base_url="http://x")
        except Forbidden:
            pass
        else:
            raise AssertionError("a plain member invited a guest")


async def test_inviting_a_member_of_the_org_as_guest_is_refused() -> None:
    org = await make_org()
    owner = await make_user(org)
    colleague = await make_user(org)
    space = await make_space(owner)
    actor = await principal(owner)
    async with org_session(org.id) as db:
        try:
            await tokens.invite_guest(db, actor, email=colleague.email, space_ids=[space.id], base_url="http://x")
        except Invalid:
            pass
        else:
            raise AssertionError("an existing member was invited as a guest")
