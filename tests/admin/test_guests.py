"""Admin console, guests: the guest accounts and their spaces, pending invitations,
inviting into chosen spaces, revoking an invitation, disabling a guest."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.admin.factories_admin import audited, last_link_token, post, signed_in
from tests.factories import get_user_row, login, make_org, make_space, make_user, unique


async def test_guest_list_shows_guests_with_their_spaces(client: httpx.AsyncClient) -> None:
    org, admin = await signed_in(client)
    guest = await make_user(org, role="guest")
    space = await make_space(admin, members={guest: "member"})
    page = (await client.get("/admin/guests")).text
    assert guest.email in page and space.name in page


async def test_invite_into_chosen_spaces_sends_a_link_and_lists_the_invitation(client: httpx.AsyncClient) -> None:
    _org, admin = await signed_in(client)
    first, second = await make_space(admin), await make_space(admin)
    email = f"{unique('partner')}@partner.test"
    response = await post(client, "/admin/guests/invite", {"email": email, "space_id": [str(first.id), str(second.id)]})
    assert response.headers["location"] == "/admin/guests?done=invited"
    token = await last_link_token(email)
    assert (await client.get(f"/invitation/{token}")).status_code == 200
    page = (await client.get("/admin/guests")).text
    pending = page[page.index("Invitations en attente") :]
    assert email in pending and first.name in pending and second.name in pending


async def test_invite_without_space_or_with_a_member_address_is_refused(client: httpx.AsyncClient) -> None:
    org, admin = await signed_in(client)
    space = await make_space(admin)
    nowhere = await post(client, "/admin/guests/invite", {"email": f"{unique('g')}@partner.test"})
    assert nowhere.status_code == 400 and 'role="alert"' in nowhere.text
    member = await make_user(org)
    existing = await post(client, "/admin/guests/invite", {"email": member.email, "space_id": str(space.id)})
    assert existing.status_code == 400
    bad_space = await post(client, "/admin/guests/invite", {"email": "a@partner.test", "space_id": "nope"})
    assert bad_space.status_code == 400


async def test_revoked_invitation_link_stops_working(client: httpx.AsyncClient) -> None:
    _org, admin = await signed_in(client)
    space = await make_space(admin)
    email = f"{unique('late')}@partner.test"
    await post(client, "/admin/guests/invite", {"email": email, "space_id": str(space.id)})
    token = await last_link_token(email)
    page = (await client.get("/admin/guests")).text
    invitation_id = re.search(r"/admin/guests/invitations/([0-9a-f-]{36})/revoke", page).group(1)  # type: ignore[union-attr]
    revoked = await post(client, f"/admin/guests/invitations/{invitation_id}/revoke")
    assert revoked.headers["location"] == "/admin/guests?done=revoked"
    assert (await client.get(f"/invitation/{token}")).status_code == 404
    assert await audited("guest.invitation_revoked", email)
    assert (await post(client, f"/admin/guests/invitations/{invitation_id}/revoke")).status_code == 404


async def test_disabling_a_guest_returns_to_the_guest_page(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    guest = await make_user(org, role="guest")
    response = await post(client, f"/admin/users/{guest.id}/active", {"active": "0", "next": "/admin/guests"})
    assert response.headers["location"] == "/admin/guests?done=disabled"
    assert not (await get_user_row(guest.id)).is_active


async def test_invitations_and_spaces_of_another_organisation_are_out_of_reach(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    other_org = await make_org()
    other_admin = await make_user(other_org, role="admin")
    their_space = await make_space(other_admin)
    email = f"{unique('theirs')}@partner.test"
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, other_admin)
        await post(theirs, "/admin/guests/invite", {"email": email, "space_id": str(their_space.id)})
        page = (await theirs.get("/admin/guests")).text
    invitation_id = re.search(r"/admin/guests/invitations/([0-9a-f-]{36})/revoke", page).group(1)  # type: ignore[union-attr]
    mine = (await client.get("/admin/guests")).text
    assert email not in mine and their_space.name not in mine
    assert (await post(client, f"/admin/guests/invitations/{invitation_id}/revoke")).status_code == 404
    assert (await post(client, f"/admin/guests/invitations/{uuid.uuid4()}/revoke")).status_code == 404
    into_theirs = await post(
        client, "/admin/guests/invite", {"email": "x@partner.test", "space_id": str(their_space.id)}
    )
    assert into_theirs.status_code == 404
    token = await last_link_token(email)
    assert (await client.get(f"/invitation/{token}")).status_code == 200  # their invitation still stands
