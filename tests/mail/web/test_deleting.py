"""Deleting folders and emptying the trash: a folder goes into the trash whole (nothing
lost, the quota unchanged); what is in the trash is destroyed only after a confirmation;
the standard folders stay; another user's folders are not found; no CSRF token, no change."""

from __future__ import annotations

import httpx
import pytest

from hexagone.core.db import org_session
from hexagone.mail.models import Mailbox, SpecialUse
from hexagone.mail.service import mailboxes
from tests.factories import TestUser
from tests.mail.factories import deliver, folder_of, make_mail_user, messages_in
from tests.mail.web.helpers import folder_id, mailbox_id, make_pair, post, signed_in, stranger_message


async def signed_in_user(client: httpx.AsyncClient) -> TestUser:
    user = await make_mail_user()
    await signed_in(client, user)
    return user


async def used_bytes(user: TestUser) -> int:
    async with org_session(user.org_id) as db:
        mailbox = await db.get(Mailbox, await mailbox_id(user))
        assert mailbox is not None
        return mailbox.used_bytes


async def folder_names(user: TestUser) -> set[str]:
    async with org_session(user.org_id) as db:
        return {f.name for f in await mailboxes.folders(db, await mailbox_id(user))}


async def projects_with_a_subfolder(client: httpx.AsyncClient, user: TestUser) -> None:
    """Projets (two messages) and Projets/2026 (one), made through the folders page."""
    manage = f"/mail/mailboxes/{await mailbox_id(user)}/folders"
    await post(client, manage, {"name": "Projets"})
    await post(client, manage, {"name": "2026", "parent": "Projets"})
    await deliver(user, folder="Projets", subject="Budget")
    await deliver(user, folder="Projets", subject="Voirie")
    await deliver(user, folder="Projets/2026", subject="Calendrier")


async def subjects(user: TestUser, folder: str) -> list[str | None]:
    return sorted(m.subject for m in await messages_in(user, folder))


async def test_folder_deleted_goes_into_the_trash_with_its_subfolder_and_messages(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await projects_with_a_subfolder(client, user)
    before = await used_bytes(user)

    response = await post(client, f"/mail/folders/{(await folder_of(user, 'Projets')).id}/delete")

    assert response.status_code == 303 and "done=folder_trashed" in response.headers["location"]
    names = await folder_names(user)
    assert "Projets" not in names and "Projets/2026" not in names
    assert await subjects(user, "Trash/Projets") == ["Budget", "Voirie"]
    assert await subjects(user, "Trash/Projets/2026") == ["Calendrier"]
    assert await used_bytes(user) == before


async def test_folder_deleted_under_a_name_the_trash_holds_gets_a_free_name(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    manage = f"/mail/mailboxes/{await mailbox_id(user)}/folders"
    for subject in ("first", "second"):
        await post(client, manage, {"name": "Projets"})
        await deliver(user, folder="Projets", subject=subject)
        await post(client, f"/mail/folders/{(await folder_of(user, 'Projets')).id}/delete")

    assert await subjects(user, "Trash/Projets") == ["first"]
    assert await subjects(user, "Trash/Projets 2") == ["second"]


async def test_folder_in_the_trash_is_deleted_for_good_only_once_confirmed(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await projects_with_a_subfolder(client, user)
    kept = await deliver(user, subject="Kept")
    await post(client, f"/mail/folders/{(await folder_of(user, 'Projets')).id}/delete")
    trashed = f"/mail/folders/{(await folder_of(user, 'Trash/Projets')).id}/delete"

    asked = await client.get(trashed)
    unconfirmed = await post(client, trashed)
    still_there = await folder_names(user)
    confirmed = await post(client, trashed, {"confirm": "1"})

    assert asked.status_code == unconfirmed.status_code == 200
    assert 'name="confirm" value="1"' in unconfirmed.text and "3 messages" in unconfirmed.text
    assert {"Trash/Projets", "Trash/Projets/2026"} <= still_there
    assert confirmed.status_code == 303 and "done=folder_deleted" in confirmed.headers["location"]
    assert not any(name.startswith("Trash/") for name in await folder_names(user))
    assert await used_bytes(user) == kept.size


async def test_emptying_the_trash_asks_first_then_deletes_its_messages_and_folders(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await projects_with_a_subfolder(client, user)
    await post(client, f"/mail/folders/{(await folder_of(user, 'Projets')).id}/delete")
    await deliver(user, folder="Trash", subject="Old")
    kept = await deliver(user, subject="Kept")
    empty = f"/mail/folders/{await folder_id(user, 'Trash')}/empty"

    asked = await client.get(empty)
    unconfirmed = await post(client, empty)
    messages_after_asking = len(await messages_in(user, "Trash")) + len(await messages_in(user, "Trash/Projets"))
    confirmed = await post(client, empty, {"confirm": "1"})

    assert asked.status_code == unconfirmed.status_code == 200 and "4 messages" in asked.text
    assert messages_after_asking == 3
    assert confirmed.status_code == 303 and "done=emptied" in confirmed.headers["location"]
    assert await messages_in(user, "Trash") == [] and "Trash" in await folder_names(user)
    assert not any(name.startswith("Trash/") for name in await folder_names(user))
    assert await used_bytes(user) == kept.size and len(await messages_in(user)) == 1


async def test_emptying_the_trash_keeps_a_standard_folder_a_client_moved_into_it(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    async with org_session(user.org_id) as db:
        mailbox = await db.get(Mailbox, await mailbox_id(user))
        assert mailbox is not None
        await mailboxes.create_folder(db, mailbox, "Trash/Old/Archives 2025", special_use=SpecialUse.ARCHIVE)
        await mailboxes.create_folder(db, mailbox, "Trash/Other")
        await db.commit()
    await deliver(user, folder="Trash/Old/Archives 2025")
    await deliver(user, folder="Trash/Old")

    response = await post(client, f"/mail/folders/{await folder_id(user, 'Trash')}/empty", {"confirm": "1"})

    assert response.status_code == 303
    assert {n for n in await folder_names(user) if n.startswith("Trash/")} == {"Trash/Old", "Trash/Old/Archives 2025"}
    assert len(await messages_in(user, "Trash/Old/Archives 2025")) == 1 and await messages_in(user, "Trash/Old") == []


@pytest.mark.parametrize("name", ["INBOX", "Drafts", "Sent", "Archive", "Junk", "Trash"])
async def test_standard_folder_is_never_deleted_even_confirmed(client: httpx.AsyncClient, name: str) -> None:
    user = await signed_in_user(client)
    await deliver(user, folder=name)

    response = await post(client, f"/mail/folders/{await folder_id(user, name)}/delete", {"confirm": "1"})

    assert response.status_code == 400 and "alert-error" in response.text
    assert name in await folder_names(user) and len(await messages_in(user, name)) == 1


async def test_other_users_and_organisations_folders_are_not_found(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    await deliver(pair.bob, folder="Trash")
    stranger = await stranger_message()
    await signed_in(client, pair.alice)
    targets = [await folder_id(pair.bob, "Trash"), await folder_id(pair.bob, "Archive"), stranger.folder_id]

    answers = []
    for target in targets:
        for action in ("delete", "empty"):
            answers.append((await client.get(f"/mail/folders/{target}/{action}")).status_code)
            answers.append((await post(client, f"/mail/folders/{target}/{action}", {"confirm": "1"})).status_code)

    assert set(answers) == {404}
    assert len(await messages_in(pair.bob, "Trash")) == 1 and "Archive" in await folder_names(pair.bob)


async def test_emptying_or_deleting_without_the_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await deliver(user, folder="Trash")
    await post(client, f"/mail/mailboxes/{await mailbox_id(user)}/folders", {"name": "Projets"})

    emptied = await client.post(f"/mail/folders/{await folder_id(user, 'Trash')}/empty", data={"confirm": "1"})
    deleted = await client.post(f"/mail/folders/{await folder_id(user, 'Projets')}/delete", data={"confirm": "1"})

    assert emptied.status_code == deleted.status_code == 403
    assert len(await messages_in(user, "Trash")) == 1 and "Projets" in await folder_names(user)
