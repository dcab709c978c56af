"""The addresses page: aliases of a person's or a shared mailbox and group addresses
deliver where they say; addresses outside the organisation's domains, taken ones, and
another organisation's mailboxes and aliases are refused."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlalchemy import select

from hexagone.core.db import org_session, system_session
from hexagone.identity.service import groups
from hexagone.mail.models import Address, Mailbox
from hexagone.mail.service import administration
from hexagone.mail.service.addresses import resolve
from tests.admin.factories_admin import audited, post
from tests.factories import make_user, principal, unique
from tests.mail.admin.factories_mailadmin import mail_admin
from tests.mail.factories import make_mail_org


def alert(response: httpx.Response) -> str:
    found = re.search(r'role="alert">(.*?)</p>', response.text)
    assert found, response.text[:500]
    return found.group(1)


async def mailbox_ids(address: str) -> set[uuid.UUID]:
    async with system_session() as db:
        found = await resolve(db, address)
        await db.commit()
        return set(found.mailbox_ids) if found else set()


async def mailbox_of(email: str) -> uuid.UUID:
    async with system_session() as db:
        return (await db.execute(select(Mailbox.id).where(Mailbox.address == email))).scalar_one()


async def alias_id(address: str) -> uuid.UUID:
    async with system_session() as db:
        return (await db.execute(select(Address.id).where(Address.address == address))).scalar_one()


async def test_alias_of_a_person_delivers_to_their_mailbox_and_can_be_removed(client: httpx.AsyncClient) -> None:
    org, _admin = await mail_admin(client)
    person = await make_user(org)
    alias = f"{unique('accueil')}@{org.domain}"
    response = await post(client, "/mail/admin/aliases", {"address": alias.upper(), "target": person.email})
    assert response.status_code == 303 and response.headers["location"] == "/mail/admin/aliases?done=alias_added"
    assert await mailbox_ids(alias) == {await mailbox_of(person.email)}
    page = (await client.get("/mail/admin/aliases?done=alias_added")).text
    assert alias in page and "L'adresse est ajoutée." in page.replace("&#39;", "'")
    assert await audited("mail.alias_added", alias)

    removed = await post(client, f"/mail/admin/aliases/{await alias_id(alias)}/remove")
    assert removed.status_code == 303 and await mailbox_ids(alias) == set()


async def test_group_address_reaches_every_member(client: httpx.AsyncClient) -> None:
    org, admin = await mail_admin(client)
    members = [await make_user(org) for _ in range(2)]
    async with org_session(org.id) as db:
        actor = await principal(admin)
        group = await groups.create_group(db, actor, name=unique("Équipe "))
        for member in members:
            await groups.add_to_group(db, actor, group, member.id)
        await db.commit()
    address = f"{unique('equipe')}@{org.domain}"
    response = await post(client, "/mail/admin/aliases/group", {"group_address": address, "group_id": str(group.id)})
    assert response.status_code == 303
    assert await mailbox_ids(address) == {await mailbox_of(m.email) for m in members}
    assert f"Groupe {group.name}" in (await client.get("/mail/admin/aliases")).text


async def test_alias_outside_the_domains_taken_or_to_nobody_is_refused_with_a_message(
    client: httpx.AsyncClient,
) -> None:
    org, admin = await mail_admin(client)
    outside = await post(client, "/mail/admin/aliases", {"address": "x@elsewhere.test", "target": admin.email})
    assert outside.status_code == 403 and "domaines de l" in outside.text
    assert 'value="x@elsewhere.test"' in outside.text  # what was typed is kept
    taken = await post(client, "/mail/admin/aliases", {"address": admin.email, "target": admin.email})
    assert taken.status_code == 409 and "déjà utilisée" in taken.text
    nobody = await post(
        client, "/mail/admin/aliases", {"address": f"{unique('a')}@{org.domain}", "target": f"nobody@{org.domain}"}
    )
    assert nobody.status_code == 400 and "Aucune personne" in nobody.text
    not_an_address = await post(client, "/mail/admin/aliases", {"address": "not an address", "target": admin.email})
    assert not_an_address.status_code == 400


async def test_aliases_of_another_organisation_are_not_found(client: httpx.AsyncClient) -> None:
    other_org = await make_mail_org()
    other_admin = await make_user(other_org, role="admin")
    stranger = await make_user(other_org)
    other_alias = f"{unique('contact')}@{other_org.domain}"
    async with org_session(other_org.id) as db:
        await administration.add_alias(db, await principal(other_admin), other_alias, stranger.email)
        await db.commit()

    org, _admin = await mail_admin(client)
    assert (await post(client, f"/mail/admin/aliases/{await alias_id(other_alias)}/remove")).status_code == 404
    assert await mailbox_ids(other_alias) != set()
    assert other_alias not in (await client.get("/mail/admin/aliases")).text
    to_stranger = await post(
        client, "/mail/admin/aliases", {"address": f"{unique('a')}@{org.domain}", "target": stranger.email}
    )
    to_nobody = await post(
        client,
        "/mail/admin/aliases",
        {"address": f"{unique('a')}@{org.domain}", "target": f"nobody@{other_org.domain}"},
    )
    assert to_stranger.status_code == to_nobody.status_code == 400
    assert alert(to_stranger).replace(stranger.email, "?") == alert(to_nobody).replace(
        f"nobody@{other_org.domain}", "?"
    )
    group_elsewhere = await post(
        client,
        "/mail/admin/aliases/group",
        {"group_address": f"{unique('g')}@{org.domain}", "group_id": str(uuid.uuid4())},
    )
    assert group_elsewhere.status_code == 404
