"""The contacts pages under /calendar/contacts/: browse, search, add, view, edit (with
the ETag read), delete, import and export .vcf; who reaches them (anonymous, another
organisation, a colleague, an organisation without the module, a guest)."""

from __future__ import annotations

import re

import httpx
import vobject

from tests.calendar.factories import contact, make_calendar_org
from tests.factories import TestUser, login, make_org, make_user
from tests.mail.web.helpers import post, signed_in

BASE = "/calendar/contacts"


def _book(page: str) -> str:
    found = re.search(r'href="/calendar/contacts/([0-9a-f-]{36})/new"', page)
    assert found, page
    return found.group(1)


async def test_a_contact_is_added_found_edited_exported_and_deleted(client: httpx.AsyncClient) -> None:
    org = await make_calendar_org()
    await signed_in(client, await make_user(org))
    book = _book((await client.get(f"{BASE}/")).text)

    added = await post(
        client,
        f"{BASE}/{book}/new",
        {"given": "Éloïse", "family": "Dupré", "emails": "eloise@partner.test", "groups": "Clients, Presse"},
    )
    assert added.status_code == 303, added.text
    contact_path = added.headers["location"].split("?")[0]
    shown = (await client.get(contact_path)).text
    found = (await client.get(f"{BASE}/", params={"book": book, "q": "ÉLOÏSE"})).text
    form = (await client.get(f"{contact_path}/edit")).text
    etag = re.search(r'name="etag" value="([^"]+)"', form)
    assert etag
    stale = await post(client, f"{contact_path}/edit", {"given": "Autre", "etag": "stale"})
    edited = await post(client, f"{contact_path}/edit", {"given": "Éloïse", "family": "Martin", "etag": etag.group(1)})
    exported = await client.get(f"{BASE}/{book}/export.vcf")
    deleted = await post(client, f"{contact_path}/delete", {})
    gone = await client.get(contact_path)

    assert "eloise@partner.test" in shown and "Clients, Presse" in shown
    assert "Éloïse Dupré" in found
    assert stale.status_code == 409 and "Autre" in stale.text  # shown again as typed
    assert edited.status_code == 303
    assert exported.headers["content-type"].startswith("text/vcard")
    assert [c.fn.value for c in vobject.readComponents(exported.text)] == ["Éloïse Martin"]
    assert deleted.status_code == 303 and gone.status_code == 404


async def test_import_a_vcf_adds_its_cards_and_a_bad_file_says_why(client: httpx.AsyncClient) -> None:
    org = await make_calendar_org()
    await signed_in(client, await make_user(org))
    book = _book((await client.get(f"{BASE}/")).text)
    cards = contact(name="Paul Import", emails=("paul@x.test",)) + contact(name="Anne Import", emails=("anne@x.test",))
    token = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get(f"{BASE}/")).text)
    assert token

    imported = await client.post(
        f"{BASE}/{book}/import",
        data={"csrf_token": token.group(1)},
        files={"file": ("contacts.vcf", cards.encode(), "text/vcard")},
    )
    listed = (await client.get(f"{BASE}/", params={"book": book})).text
    refused = await client.post(
        f"{BASE}/{book}/import",
        data={"csrf_token": token.group(1)},
        files={"file": ("bad.vcf", b"BEGIN:VCARD\r\nFN:x", "text/vcard")},
    )

    assert imported.status_code == 303 and "Paul Import" in listed and "Anne Import" in listed
    assert refused.status_code == 400 and 'role="alert"' in refused.text


async def test_pages_refuse_anonymous_strangers_colleagues_guests_and_unsubscribed(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_calendar_org()
    owner = await make_user(org)
    await signed_in(client, owner)
    book = _book((await client.get(f"{BASE}/")).text)
    added = await post(client, f"{BASE}/{book}/new", {"given": "Secret", "emails": "secret@x.test"})
    contact_path = added.headers["location"].split("?")[0]
    callers = {
        "anonymous": None,
        "stranger": await make_user(await make_calendar_org()),
        "colleague": await make_user(org),
        "guest": await make_user(org, role="guest"),
        "unsubscribed": await make_user(await make_org(modules=("mail",))),
        "mfa pending": await make_user(org, mfa=True),
    }
    answers = {}
    for name, user in callers.items():
        async with httpx.AsyncClient(base_url=base_url) as other:
            if user is not None:
                await signed_in(other, user) if name != "mfa pending" else await _password_only(other, user)
            answers[name] = [
                (await other.get(path)).status_code
                for path in (contact_path, f"{contact_path}/edit", f"{BASE}/{book}/export.vcf")
            ]
            answers[name].append((await other.get(f"{BASE}/")).status_code)
    assert answers["anonymous"] == [404] * 4
    assert answers["unsubscribed"] == [404] * 4
    assert answers["stranger"] == answers["colleague"] == answers["guest"] == [404, 404, 404, 200]
    assert all(code in (302, 303) for code in answers["mfa pending"])


async def _password_only(client: httpx.AsyncClient, user: TestUser) -> None:
    await login(client, user, second_factor=False)


async def test_a_nul_character_in_the_form_or_the_search_is_refused_with_a_message(client: httpx.AsyncClient) -> None:
    org = await make_calendar_org()
    await signed_in(client, await make_user(org))
    book = _book((await client.get(f"{BASE}/")).text)

    added = await post(client, f"{BASE}/{book}/new", {"given": "Éloïse\x00", "emails": "eloise@partner.test"})
    searched = await client.get(f"{BASE}/", params={"book": book, "q": "Élo\x00"})

    assert added.status_code == 400 and "NUL" in added.text
    assert searched.status_code == 400 and "NUL" in searched.text
