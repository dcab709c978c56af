"""Spaces as members see them: their list, a space with its members, management by owners
and managers, guest invitations; guests see only their spaces."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.admin.factories_admin import last_link_token, post, signed_in
from tests.factories import login, make_org, make_space, make_user, unique


async def test_guest_sees_only_their_spaces_and_gets_404_on_others(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_user(org)
    guest = await make_user(org, role="guest")
    theirs = await make_space(owner, members={guest: "member"})
    hidden = await make_space(owner)
    await login(client, guest)
    listing = (await client.get("/spaces")).text
    assert theirs.name in listing and hidden.name not in listing
    assert "Créer un espace" not in listing  # guests cannot create spaces
    assert (await client.get(f"/spaces/{theirs.id}")).status_code == 200
    assert (await client.get(f"/spaces/{hidden.id}")).status_code == 404
    assert (await post(client, f"/spaces/{hidden.id}/members", {"email": guest.email})).status_code == 404
    assert (await post(client, "/spaces", {"name": unique("G ")})).status_code == 400


async def test_anonymous_visitor_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/spaces/{uuid.uuid4()}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/spaces/")


async def test_member_creates_a_space_and_becomes_its_owner(client: httpx.AsyncClient) -> None:
    await signed_in(client, "user")
    name = unique("Projet ")
    response = await post(client, "/spaces", {"name": name, "description": "Pour travailler"})
    assert response.status_code == 303
    found = re.match(r"^/spaces/([0-9a-f-]{36})\?done=created$", response.headers["location"])
    assert found
    page = (await client.get(response.headers["location"])).text
    assert name in page and "Votre rôle ici : Propriétaire." in page
    assert (await post(client, "/spaces", {"name": name})).status_code == 409
    empty = await post(client, "/spaces", {"name": "", "description": "kept"})
    assert empty.status_code == 400 and ">kept</textarea>" in empty.text


async def test_owner_adds_changes_and_removes_a_member(client: httpx.AsyncClient) -> None:
    org, owner = await signed_in(client, "user")
    space = await make_space(owner)
    colleague = await make_user(org)
    added = await post(client, f"/spaces/{space.id}/members", {"email": colleague.email, "role": "reader"})
    assert added.headers["location"] == f"/spaces/{space.id}?done=added"
    page = (await client.get(f"/spaces/{space.id}")).text
    assert colleague.email in page
    assert (
        await post(client, f"/spaces/{space.id}/members/role", {"user_id": str(colleague.id), "role": "manager"})
    ).status_code == 303
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, colleague)
        assert "Votre rôle ici : Gestionnaire." in (await theirs.get(f"/spaces/{space.id}")).text
    removed = await post(client, f"/spaces/{space.id}/members/remove", {"user_id": str(colleague.id)})
    assert removed.status_code == 303
    assert colleague.email not in (await client.get(f"/spaces/{space.id}")).text


async def test_bad_member_input_is_refused_with_a_message(client: httpx.AsyncClient) -> None:
    org, owner = await signed_in(client, "user")
    space = await make_space(owner)
    guest = await make_user(org, role="guest")
    unknown = await post(client, f"/spaces/{space.id}/members", {"email": "ghost@nowhere.test", "role": "member"})
    assert unknown.status_code == 400 and "ghost@nowhere.test" in unknown.text
    bad_role = await post(client, f"/spaces/{space.id}/members", {"email": guest.email, "role": "emperor"})
    assert bad_role.status_code == 400
    guest_manager = await post(client, f"/spaces/{space.id}/members", {"email": guest.email, "role": "manager"})
    assert guest_manager.status_code == 400
    bad_id = await post(client, f"/spaces/{space.id}/members/remove", {"user_id": "42"})
    assert bad_id.status_code == 400


async def test_space_keeps_at_least_one_owner(client: httpx.AsyncClient) -> None:
    _org, owner = await signed_in(client, "user")
    space = await make_space(owner)
    leave = await post(client, f"/spaces/{space.id}/members/remove", {"user_id": str(owner.id)})
    assert leave.status_code == 409 and 'role="alert"' in leave.text
    demote = await post(client, f"/spaces/{space.id}/members/role", {"user_id": str(owner.id), "role": "member"})
    assert demote.status_code == 409


async def test_manager_cannot_give_or_take_the_owner_role(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_user(org)
    manager = await make_user(org)
    other = await make_user(org)
    space = await make_space(owner, members={manager: "manager", other: "member"})
    await login(client, manager)
    promote = await post(client, f"/spaces/{space.id}/members/role", {"user_id": str(other.id), "role": "owner"})
    assert promote.status_code == 403
    remove_owner = await post(client, f"/spaces/{space.id}/members/remove", {"user_id": str(owner.id)})
    assert remove_owner.status_code == 403
    assert (
        await post(client, f"/spaces/{space.id}/members/role", {"user_id": str(other.id), "role": "reader"})
    ).status_code == 303


async def test_plain_member_sees_members_but_cannot_manage_them(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_user(org)
    member = await make_user(org)
    space = await make_space(owner, members={member: "member"})
    await login(client, member)
    page = (await client.get(f"/spaces/{space.id}")).text
    assert owner.email in page and f'action="/spaces/{space.id}/members"' not in page
    refused = await post(client, f"/spaces/{space.id}/members", {"email": owner.email, "role": "reader"})
    assert refused.status_code == 403
    assert (await post(client, f"/spaces/{space.id}/invite", {"guest_email": "x@partner.test"})).status_code == 403


async def test_manager_invites_a_guest_who_then_sees_the_space(client: httpx.AsyncClient) -> None:
    _org, owner = await signed_in(client, "user")
    space = await make_space(owner)
    email = f"{unique('partner')}@partner.test"
    response = await post(client, f"/spaces/{space.id}/invite", {"guest_email": email})
    assert response.headers["location"] == f"/spaces/{space.id}?done=invited"
    token = await last_link_token(email)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as guest:
        accept = await post(
            guest,
            f"/invitation/{token}",
            {"name": "Partenaire", "password": "Guest-password-1", "password_confirm": "Guest-password-1"},
        )
        assert accept.status_code == 303
        token_page = await guest.get("/login")
        csrf = re.search(r'data-csrf="([0-9a-f]+)"', token_page.text).group(1)  # type: ignore[union-attr]
        await guest.post("/login", data={"email": email, "password": "Guest-password-1", "csrf_token": csrf})
        assert space.name in (await guest.get("/spaces")).text
    bad = await post(client, f"/spaces/{space.id}/invite", {"guest_email": "not an address"})
    assert bad.status_code == 400


async def test_archived_space_is_read_only(client: httpx.AsyncClient) -> None:
    org, admin = await signed_in(client, "admin")
    member = await make_user(org)
    space = await make_space(admin)
    await post(client, f"/admin/spaces/{space.id}/archive", {"archived": "1"})
    page = (await client.get(f"/spaces/{space.id}")).text
    assert "archivé" in page and f'action="/spaces/{space.id}/members"' not in page
    refused = await post(client, f"/spaces/{space.id}/members", {"email": member.email, "role": "member"})
    assert refused.status_code == 409
    assert (await post(client, f"/spaces/{space.id}/invite", {"guest_email": "a@partner.test"})).status_code == 409


async def test_spaces_of_another_organisation_answer_404(client: httpx.AsyncClient) -> None:
    _org, admin = await signed_in(client, "admin")
    other_org = await make_org()
    outsider = await make_user(other_org)
    theirs = await make_space(outsider)
    assert theirs.name not in (await client.get("/spaces")).text
    assert (await client.get(f"/spaces/{theirs.id}")).status_code == 404
    for path, data in (
        ("members", {"email": admin.email, "role": "member"}),
        ("members/role", {"user_id": str(outsider.id), "role": "reader"}),
        ("members/remove", {"user_id": str(outsider.id)}),
        ("invite", {"guest_email": "x@partner.test"}),
    ):
        assert (await post(client, f"/spaces/{theirs.id}/{path}", data)).status_code == 404, path
    mine = await make_space(admin)
    foreign = await post(client, f"/spaces/{mine.id}/members/role", {"user_id": str(outsider.id), "role": "member"})
    assert foreign.status_code == 404
