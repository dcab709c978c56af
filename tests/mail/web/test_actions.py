"""Acting on messages: read and unread, flags, moving, deleting to the trash and for good,
emptying the trash; on whole conversations from the list, on one message from its page."""

from __future__ import annotations

import httpx

from hexagone.core.db import org_session
from hexagone.mail.models import Mailbox
from hexagone.mail.service import mailboxes
from tests.mail.factories import deliver, make_mail_user, make_message, messages_in
from tests.mail.web.helpers import folder_id, mailbox_id, make_pair, post, reload, signed_in


async def test_list_action_marks_whole_conversations_read_and_flagged(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    first = await deliver(user, make_message(message_id="<t1@example.net>"))
    second = await deliver(user, make_message(in_reply_to="<t1@example.net>"))
    alone = await deliver(user)
    await signed_in(client, user)
    actions = f"/mail/mailboxes/{await mailbox_id(user)}/actions"

    read = await post(client, actions, {"message": str(second.id), "conversations": "1", "action": "read"})
    flag = await post(client, actions, {"message": str(second.id), "conversations": "1", "action": "flag"})

    assert read.status_code == flag.status_code == 303
    for message in (first, second):
        row = await reload(message)
        assert row.seen and row.flagged
    untouched = await reload(alone)
    assert not untouched.seen and not untouched.flagged


async def test_message_page_actions_mark_unread_and_remove_the_flag(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    message = await deliver(user, flags=("\\Seen", "\\Flagged"))
    await signed_in(client, user)
    actions = f"/mail/mailboxes/{await mailbox_id(user)}/actions"

    back = f"/mail/messages/{message.id}"
    unread = await post(client, actions, {"message": str(message.id), "action": "unread", "next": back})
    await post(client, actions, {"message": str(message.id), "action": "unflag"})

    assert unread.headers["location"] == f"{back}?done=unread"
    row = await reload(message)
    assert not row.seen and not row.flagged


async def test_move_puts_the_message_in_the_chosen_folder(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    message = await deliver(user, subject="To archive")
    await signed_in(client, user)

    response = await post(
        client,
        f"/mail/mailboxes/{await mailbox_id(user)}/actions",
        {"message": str(message.id), "action": "move", "target": str(await folder_id(user, "Archive"))},
    )

    assert response.status_code == 303
    assert await messages_in(user) == []
    assert [m.subject for m in await messages_in(user, "Archive")] == ["To archive"]


async def test_delete_moves_to_trash_then_deletes_for_good_from_there(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await deliver(user, subject="Unwanted")
    await signed_in(client, user)
    actions = f"/mail/mailboxes/{await mailbox_id(user)}/actions"
    [message] = await messages_in(user)

    trashed = await post(client, actions, {"message": str(message.id), "action": "delete"})
    [in_trash] = await messages_in(user, "Trash")
    gone = await post(client, actions, {"message": str(in_trash.id), "action": "delete"})

    assert "done=trashed" in trashed.headers["location"] and "done=deleted" in gone.headers["location"]
    assert await messages_in(user) == [] and await messages_in(user, "Trash") == []


async def test_empty_trash_deletes_everything_in_it_and_frees_the_quota(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    for _ in range(3):
        await deliver(user, folder="Trash")
    await deliver(user, subject="Kept")
    await signed_in(client, user)

    response = await post(client, f"/mail/folders/{await folder_id(user, 'Trash')}/empty", {"confirm": "1"})

    assert response.status_code == 303
    assert await messages_in(user, "Trash") == [] and len(await messages_in(user)) == 1
    async with org_session(user.org_id) as db:
        mailbox = await db.get(Mailbox, await mailbox_id(user))
        assert mailbox.used_bytes == (await messages_in(user))[0].size


async def test_only_trash_and_junk_can_be_emptied(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await deliver(user)
    await signed_in(client, user)

    response = await post(client, f"/mail/folders/{await folder_id(user)}/empty")

    assert response.status_code == 400 and len(await messages_in(user)) == 1


async def test_unknown_action_and_foreign_message_ids_are_refused(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    mine = await deliver(pair.alice)
    theirs = await deliver(pair.bob)
    await signed_in(client, pair.alice)
    actions = f"/mail/mailboxes/{await mailbox_id(pair.alice)}/actions"

    unknown = await post(client, actions, {"message": str(mine.id), "action": "explode"})
    foreign = await post(client, actions, {"message": [str(mine.id), str(theirs.id)], "action": "delete"})

    assert unknown.status_code == 400 and foreign.status_code == 404
    assert await reload(mine) is not None and await reload(theirs) is not None


async def test_read_only_delegate_may_read_but_not_change(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    message = await deliver(pair.bob)
    async with org_session(pair.org.id) as db:
        mailbox = await db.get(Mailbox, await mailbox_id(pair.bob))
        await mailboxes.grant(db, mailbox, pair.alice.id, can_write=False)
        await db.commit()
    await signed_in(client, pair.alice)

    page = await client.get(f"/mail/messages/{message.id}")
    response = await post(
        client, f"/mail/mailboxes/{mailbox.id}/actions", {"message": str(message.id), "action": "delete"}
    )

    assert page.status_code == 200 and 'value="delete"' not in page.text
    assert response.status_code == 403
    row = await reload(message)
    assert row is not None and not row.seen, "a read-only delegate does not change the owner's unread state"
