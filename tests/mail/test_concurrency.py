"""The message store under concurrent sessions: every mutating command pair started
together on a barrier, on SQLite and on PostgreSQL alike.

Each race runs the store functions the way IMAP and SMTP call them (a write session
that reads the messages, then changes them) in two real database sessions, and is
repeated a few times; two races also go through real IMAP connections. The invariants:
a message moved lands in exactly one folder, no keyword change is lost, the quota used
is the sum of the sizes of the messages that remain, and no command fails.
"""

from __future__ import annotations

import asyncio
import imaplib
import re
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from hexagone.core.db import org_session, system_session
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import store
from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import deliver, folder_of, make_mail_org, make_mail_user, make_message, messages_in

pytestmark = pytest.mark.usefixtures("migrated")

ROUNDS = 4
MESSAGES = 6


async def race(*operations: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run ``operations`` at once, each released by the same barrier."""
    barrier = asyncio.Barrier(len(operations))

    async def run(operation: Callable[[], Awaitable[Any]]) -> Any:
        await barrier.wait()
        return await operation()

    return await asyncio.gather(*(run(operation) for operation in operations))


async def deliver_many(user: TestUser, count: int = MESSAGES, **kwargs: Any) -> list[Message]:
    return [await deliver(user, **kwargs) for _ in range(count)]


async def quota_drift(user: TestUser) -> int:
    """The mailbox's recorded use minus the sizes of the messages it holds (0 when exact)."""
    async with system_session() as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.user_id == user.id))).scalar_one()
        held = (
            await db.execute(select(func.coalesce(func.sum(Message.size), 0)).where(Message.mailbox_id == mailbox.id))
        ).scalar_one()
        return mailbox.used_bytes - held


# What IMAP does, each in its own write transaction.


async def move_all(user: TestUser, source_id: uuid.UUID, target_name: str) -> list[tuple[Message, Message]]:
    target_id = (await folder_of(user, target_name)).id
    async with org_session(user.org_id, write=True) as db:
        source, target = await db.get(Folder, source_id), await db.get(Folder, target_id)
        assert source is not None and target is not None
        pairs = await store.move(db, source, await store.messages_by_uid(db, source), target)
        await db.commit()
        return pairs


async def copy_all(user: TestUser, source_id: uuid.UUID, target_name: str) -> list[tuple[Message, Message]]:
    target_id = (await folder_of(user, target_name)).id
    async with org_session(user.org_id, write=True) as db:
        source, target = await db.get(Folder, source_id), await db.get(Folder, target_id)
        assert source is not None and target is not None
        pairs = await store.copy(db, await store.messages_by_uid(db, source), target)
        await db.commit()
        return pairs


async def store_all(
    user: TestUser, folder_id: uuid.UUID, flags: list[str], mode: str = "add", unchanged_since: int | None = None
) -> tuple[list[Message], list[Message]]:
    async with org_session(user.org_id, write=True) as db:
        folder = await db.get(Folder, folder_id)
        assert folder is not None
        result = await store.store_flags(
            db, folder, await store.messages_by_uid(db, folder), flags, mode, unchanged_since=unchanged_since
        )
        await db.commit()
        return result


async def expunge(user: TestUser, folder_id: uuid.UUID) -> list[int]:
    async with org_session(user.org_id, write=True) as db:
        folder = await db.get(Folder, folder_id)
        assert folder is not None
        removed = await store.expunge(db, folder)
        await db.commit()
        return removed


async def append(user: TestUser, folder_id: uuid.UUID) -> Message:
    async with org_session(user.org_id, write=True) as db:
        folder = await db.get(Folder, folder_id)
        assert folder is not None
        added = await store.append(db, folder, make_message(), flags=["\\Deleted"])
        await db.commit()
        return added


# --- the races --------------------------------------------------------------------------


async def test_move_racing_move_of_the_same_messages_lands_each_in_exactly_one_folder() -> None:
    user = await make_mail_user()
    inbox = await folder_of(user)
    for _ in range(ROUNDS):
        sent = {m.message_id for m in await deliver_many(user)}
        first, second = await race(
            lambda: move_all(user, inbox.id, "Archive"), lambda: move_all(user, inbox.id, "Junk")
        )
        assert len(first) + len(second) == MESSAGES
        landed = [
            m.message_id
            for m in await messages_in(user, "Archive") + await messages_in(user, "Junk")
            if m.message_id in sent
        ]
        assert sorted(landed) == sorted(sent) and await messages_in(user) == []
        assert await quota_drift(user) == 0


async def test_move_racing_expunge_either_moves_or_removes_each_message() -> None:
    user = await make_mail_user()
    inbox = await folder_of(user)
    for _ in range(ROUNDS):
        sent = {m.message_id for m in await deliver_many(user, flags=("\\Deleted",))}
        moved, removed = await race(lambda: move_all(user, inbox.id, "Archive"), lambda: expunge(user, inbox.id))
        assert len(moved) + len(removed) == MESSAGES
        archived = [m.message_id for m in await messages_in(user, "Archive") if m.message_id in sent]
        assert len(archived) == len(moved) and len(set(archived)) == len(archived)
        assert await messages_in(user) == [] and await quota_drift(user) == 0


async def test_copy_racing_expunge_of_its_source_leaves_readable_copies_and_an_exact_quota() -> None:
    user = await make_mail_user()
    inbox = await folder_of(user)
    copies = 0
    for _ in range(ROUNDS):
        await deliver_many(user, flags=("\\Deleted",))
        copied, removed = await race(lambda: copy_all(user, inbox.id, "Archive"), lambda: expunge(user, inbox.id))
        assert len(removed) == MESSAGES and len(copied) in (0, MESSAGES)
        copies += len(copied)
        archive = await messages_in(user, "Archive")
        assert len(archive) == copies and await messages_in(user) == []
        for message in archive:
            assert await store.read(message)
        assert await quota_drift(user) == 0


async def test_store_racing_store_keeps_both_keywords() -> None:
    user = await make_mail_user()
    inbox = await folder_of(user)
    await deliver_many(user)
    for round_ in range(ROUNDS):
        first, second = f"$a{round_}", f"$b{round_}"
        await race(lambda: store_all(user, inbox.id, [first]), lambda: store_all(user, inbox.id, [second]))
        for message in await messages_in(user):
            assert {first, second} <= set(message.keywords)


async def test_store_unchangedsince_racing_store_lets_only_one_change_each_message() -> None:
    user = await make_mail_user()
    inbox = await folder_of(user)
    await deliver_many(user)
    for round_ in range(ROUNDS):
        since = max(m.modseq for m in await messages_in(user))
        first, second = await race(
            lambda: store_all(user, inbox.id, [f"$a{round_}"], unchanged_since=since),
            lambda: store_all(user, inbox.id, [f"$b{round_}"], unchanged_since=since),
        )
        (changed_first, refused_first), (changed_second, refused_second) = first, second
        assert sorted([len(changed_first), len(changed_second)]) == [0, MESSAGES]
        assert sorted([len(refused_first), len(refused_second)]) == [0, MESSAGES]
        for message in await messages_in(user):
            assert len({f"$a{round_}", f"$b{round_}"} & set(message.keywords)) == 1


async def test_store_racing_expunge_of_the_same_messages_answers_cleanly() -> None:
    user = await make_mail_user()
    inbox = await folder_of(user)
    for round_ in range(ROUNDS):
        await deliver_many(user, flags=("\\Deleted",))
        (changed, _), removed = await race(
            lambda: store_all(user, inbox.id, [f"$k{round_}"]), lambda: expunge(user, inbox.id)
        )
        assert len(removed) == MESSAGES and len(changed) in (0, MESSAGES)
        assert await messages_in(user) == [] and await quota_drift(user) == 0


async def test_expunge_racing_expunge_subtracts_each_message_once_from_the_quota() -> None:
    user = await make_mail_user()
    inbox = await folder_of(user)
    await deliver(user)  # one that stays, so that a drift shows even below zero
    for _ in range(ROUNDS):
        await deliver_many(user, flags=("\\Deleted",))
        first, second = await race(lambda: expunge(user, inbox.id), lambda: expunge(user, inbox.id))
        assert sorted([len(first), len(second)]) == [0, MESSAGES]
        assert len(await messages_in(user)) == 1 and await quota_drift(user) == 0


async def test_append_racing_expunge_never_deadlocks() -> None:
    user = await make_mail_user()
    inbox = await folder_of(user)
    for _ in range(ROUNDS * 2):
        await deliver_many(user, 2, flags=("\\Deleted",))
        await race(
            lambda: append(user, inbox.id),
            lambda: expunge(user, inbox.id),
            lambda: append(user, inbox.id),
            lambda: expunge(user, inbox.id),
        )
    assert await quota_drift(user) == 0


async def test_delivery_racing_expunge_never_deadlocks() -> None:
    org = await make_mail_org()
    user, other = await make_mail_user(org), await make_mail_user(org)
    inbox, other_inbox = await folder_of(user), await folder_of(other)
    for _ in range(ROUNDS * 2):
        await deliver_many(user, 2, flags=("\\Deleted",))
        await race(
            lambda: store.deliver(user.org_id, [inbox.id], make_message()),
            lambda: expunge(user, inbox.id),
            lambda: store.deliver(other.org_id, [other_inbox.id], make_message()),
            lambda: expunge(user, inbox.id),
        )
    assert len(await messages_in(user)) == ROUNDS * 2 and await quota_drift(user) == 0
    assert len(await messages_in(other)) == ROUNDS * 2 and await quota_drift(other) == 0


async def test_deliveries_to_several_inboxes_in_opposite_orders_never_deadlock() -> None:
    org = await make_mail_org()
    first, second = await make_mail_user(org), await make_mail_user(org)
    inboxes = [(await folder_of(first)).id, (await folder_of(second)).id]
    for _ in range(ROUNDS):
        await race(
            lambda: store.deliver(first.org_id, inboxes, make_message()),
            lambda: store.deliver(first.org_id, inboxes[::-1], make_message()),
        )
    assert len(await messages_in(first)) == len(await messages_in(second)) == ROUNDS * 2


# --- end to end, over IMAP ----------------------------------------------------------------


def imap_race(server: Server, user: TestUser, *commands: Callable[[imaplib.IMAP4], Any]) -> list[Any]:
    """Each command on its own signed-in IMAP connection (INBOX selected), in its own
    thread, all released by one barrier; returns their results in order."""
    clients = []
    for _ in commands:
        client = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=30)
        client.login(user.email, user.password)
        client.select("INBOX")
        clients.append(client)
    barrier = threading.Barrier(len(commands))
    results: list[Any] = [None] * len(commands)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = commands[index](clients[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(commands))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.logout()
    return results


def move_to(target: str) -> Callable[[imaplib.IMAP4], tuple[str, list[bytes]]]:
    """UID MOVE of every message; its status and the untagged OK lines (COPYUID) it got."""

    def command(client: imaplib.IMAP4) -> tuple[str, list[bytes]]:
        client.untagged_responses.pop("OK", None)
        status, _ = client.uid("MOVE", "1:*", target)
        return status, client.untagged_responses.pop("OK", [])

    return command


async def test_imap_move_racing_move_lands_each_message_in_exactly_one_folder(server: Server) -> None:
    user = await make_mail_user()
    for _ in range(2):
        sent = {m.message_id for m in await deliver_many(user)}
        replies = await asyncio.to_thread(imap_race, server, user, move_to("Archive"), move_to("Junk"))
        assert [status for status, _ in replies] == ["OK", "OK"]
        for _, untagged_ok in replies:  # the session left with nothing to move names no UIDs
            for text in untagged_ok:
                assert b"COPYUID" not in text or re.match(rb"\[COPYUID \d+ [\d:,]+ [\d:,]+\]", text), text
        landed = [
            m.message_id
            for m in await messages_in(user, "Archive") + await messages_in(user, "Junk")
            if m.message_id in sent
        ]
        assert sorted(landed) == sorted(sent) and await quota_drift(user) == 0


async def test_imap_store_racing_store_keeps_both_keywords(server: Server) -> None:
    user = await make_mail_user()
    await deliver_many(user)
    for round_ in range(2):
        replies = await asyncio.to_thread(
            imap_race,
            server,
            user,
            lambda c: c.uid("STORE", "1:*", "+FLAGS.SILENT", f"($a{round_})"),
            lambda c: c.uid("STORE", "1:*", "+FLAGS.SILENT", f"($b{round_})"),
        )
        assert [status for status, _ in replies] == ["OK", "OK"]
        for message in await messages_in(user):
            assert {f"$a{round_}", f"$b{round_}"} <= set(message.keywords)


async def test_imap_store_racing_expunge_answers_ok_to_both(server: Server) -> None:
    user = await make_mail_user()
    for round_ in range(3):
        await deliver_many(user, flags=("\\Deleted",))
        replies = await asyncio.to_thread(
            imap_race,
            server,
            user,
            lambda c: c.uid("STORE", "1:*", "+FLAGS.SILENT", f"($k{round_})"),
            lambda c: c.expunge(),
        )
        assert [status for status, _ in replies] == ["OK", "OK"]
        assert await messages_in(user) == [] and await quota_drift(user) == 0
