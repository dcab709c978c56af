"""Folders and search: making, renaming and deleting folders (into the trash; the
standard ones stay), and finding messages by subject, address or words of the text."""

from __future__ import annotations

import re

import httpx

from tests.mail.factories import deliver, folder_of, make_mail_user, make_message, messages_in
from tests.mail.web.helpers import folder_id, mailbox_id, post, signed_in


async def test_folder_created_inside_another_then_renamed_and_deleted(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    manage = f"/mail/mailboxes/{await mailbox_id(user)}/folders"

    created = await post(client, manage, {"name": "Projets"})
    nested = await post(client, manage, {"name": "2026", "parent": "Projets"})
    projects = await folder_of(user, "Projets")
    await deliver(user, folder="Projets/2026")
    renamed = await post(client, f"/mail/folders/{projects.id}/rename", {"name": "Chantiers"})
    child = await folder_of(user, "Chantiers/2026")
    deleted = await post(client, f"/mail/folders/{child.id}/delete")

    assert created.status_code == nested.status_code == renamed.status_code == deleted.status_code == 303
    page = await client.get(manage)
    assert page.status_code == 200
    names = re.findall(r'<th scope="row"><a[^>]*>([^<]*)<', page.text)
    assert "Chantiers" in names and "Chantiers / 2026" not in names and "Trash / 2026" in names and len(names) == 8
    assert "Projets" not in page.text and len(await messages_in(user, "Trash/2026")) == 1


async def test_standard_folders_cannot_be_renamed_or_deleted(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)

    inbox = await post(client, f"/mail/folders/{await folder_id(user)}/delete")
    trash = await post(client, f"/mail/folders/{await folder_id(user, 'Trash')}/rename", {"name": "Bin"})

    assert inbox.status_code == trash.status_code == 400
    assert (await folder_of(user, "Trash")).name == "Trash"


async def test_folder_name_taken_or_invalid_is_refused_with_the_page_again(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    manage = f"/mail/mailboxes/{await mailbox_id(user)}/folders"

    taken = await post(client, manage, {"name": "Archive"})
    invalid = await post(client, manage, {"name": "a*b"})

    assert taken.status_code == 409 and "alert-error" in taken.text
    assert invalid.status_code == 400 and "alert-error" in invalid.text


async def test_search_finds_words_in_subject_sender_and_text_of_this_folder(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await deliver(user, subject="Budget 2026")
    await deliver(user, make_message(sender="Trésorerie <tresor@example.net>", subject="Note"))
    await deliver(user, subject="Other", body="the budget is attached\n")
    await deliver(user, subject="Unrelated")
    await deliver(user, subject="Budget archived", folder="Archive")
    await signed_in(client, user)
    inbox = await folder_id(user)

    here = (await client.get(f"/mail/folders/{inbox}", params={"q": "budget"})).text
    everywhere = (await client.get(f"/mail/folders/{inbox}", params={"q": "BUDGET", "scope": "all"})).text
    by_sender = (await client.get(f"/mail/folders/{inbox}", params={"q": "tresor"})).text
    both_words = (await client.get(f"/mail/folders/{inbox}", params={"q": "budget attached"})).text

    def subjects(page: str) -> set[str]:
        return set(re.findall(r'class="mail-row-subject">([^<]*)<', page))

    assert subjects(here) == {"Budget 2026", "Other"}
    assert subjects(everywhere) == {"Budget 2026", "Other", "Budget archived"}
    assert subjects(by_sender) == {"Note"}
    assert subjects(both_words) == {"Other"}


async def test_search_wildcards_are_taken_literally(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await deliver(user, subject="100% sure")
    await deliver(user, subject="1000 reasons")
    await signed_in(client, user)

    page = (await client.get(f"/mail/folders/{await folder_id(user)}", params={"q": "100%"})).text

    assert re.findall(r'class="mail-row-subject">([^<]*)<', page) == ["100% sure"]


async def test_every_folder_of_the_mailbox_is_listed_with_its_unread_count(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await deliver(user)
    await deliver(user)
    await deliver(user, flags=("\\Seen",))
    await signed_in(client, user)

    page = (await client.get(f"/mail/folders/{await folder_id(user)}")).text

    nav = page.split('class="mail-nav"')[1].split("</nav>")[0]
    assert len(re.findall(r'href="/mail/folders/', nav)) == 6
    assert re.search(r'class="badge">2<', nav)
    assert len(await messages_in(user)) == 3
