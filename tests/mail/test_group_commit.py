"""Group commit: concurrent deliveries share transactions, each one durable and answered
on its own (mail/service/groupcommit.py and store.deliver_stored)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select, update

from hexagone.core.db import system_session
from hexagone.core.exceptions import Invalid
from hexagone.mail import mime
from hexagone.mail.models import Mailbox, Message
from hexagone.mail.service import store
from hexagone.mail.service.groupcommit import GroupCommit
from tests.mail.factories import folder_of, make_mail_org, make_mail_user, make_message, messages_in

pytestmark = pytest.mark.usefixtures("migrated")


async def _stored(org_id: uuid.UUID, raw: bytes | None = None) -> tuple[store.blobs.BlobRef, mime.Parsed]:
    raw = raw or make_message()
    return await store.put_blob(org_id, raw), mime.parse(raw)


async def test_group_commit_concurrent_callers_share_batches_and_each_gets_its_own_result() -> None:
    batches: list[list[int]] = []

    async def double(key: str, items: list[int]) -> list[int | Exception]:
        batches.append(items)
        await asyncio.sleep(0.01)  # a commit: the callers that arrive meanwhile wait for the next batch
        return [item * 2 for item in items]

    group: GroupCommit[str, int, int] = GroupCommit(double)
    results = await asyncio.gather(*(group.submit("org", i) for i in range(20)))
    assert results == [i * 2 for i in range(20)]
    assert len(batches) < 20 and sorted(i for batch in batches for i in batch) == list(range(20))


async def test_group_commit_failed_batch_is_retried_item_by_item_so_only_the_culprit_fails() -> None:
    async def fragile(key: str, items: list[int]) -> list[int | Exception]:
        if 13 in items:
            raise RuntimeError("the transaction failed")
        return items

    group: GroupCommit[str, int, int] = GroupCommit(fragile)
    results = await asyncio.gather(*(group.submit("org", i) for i in range(20)), return_exceptions=True)
    assert [r for r in results if isinstance(r, Exception)] == [results[13]]
    assert isinstance(results[13], RuntimeError) and results[:13] == list(range(13))


async def test_group_commit_keys_never_share_a_batch() -> None:
    seen: list[tuple[str, list[int]]] = []

    async def record(key: str, items: list[int]) -> list[int | Exception]:
        seen.append((key, items))
        return items

    group: GroupCommit[str, int, int] = GroupCommit(record)
    await asyncio.gather(*(group.submit("even" if i % 2 == 0 else "odd", i) for i in range(10)))
    assert all(all(i % 2 == (key == "odd") for i in items) for key, items in seen)


async def test_group_commit_concurrent_deliveries_are_each_committed_once_with_distinct_uids() -> None:
    org = await make_mail_org()
    first, second = await make_mail_user(org), await make_mail_user(org)
    inboxes = {first.id: (await folder_of(first)).id, second.id: (await folder_of(second)).id}
    parts = [await _stored(org.id) for _ in range(30)]
    results = await asyncio.gather(
        *(
            store.deliver_stored(org.id, ref, parsed, folder_ids=[inboxes[(first, second)[i % 2].id]])
            for i, (ref, parsed) in enumerate(parts)
        )
    )
    assert all(len(r.messages) == 1 for r in results)
    async with system_session() as db:  # committed: another session reads them
        ids = set((await db.execute(select(Message.id).where(Message.org_id == org.id))).scalars())
    assert ids == {r.messages[0].id for r in results}
    for user in (first, second):
        assert [m.uid for m in await messages_in(user)] == list(range(1, 16))


async def test_group_commit_full_mailbox_refuses_its_delivery_and_not_the_others() -> None:
    org = await make_mail_org()
    full, roomy = await make_mail_user(org), await make_mail_user(org)
    full_inbox, roomy_inbox = (await folder_of(full)).id, (await folder_of(roomy)).id
    async with system_session() as db:
        await db.execute(update(Mailbox).where(Mailbox.user_id == full.id).values(quota_bytes=10))
        await db.commit()
    (ref_a, parsed_a), (ref_b, parsed_b) = await _stored(org.id), await _stored(org.id)
    refused, delivered = await asyncio.gather(
        store.deliver_stored(org.id, ref_a, parsed_a, folder_ids=[full_inbox, roomy_inbox]),
        store.deliver_stored(org.id, ref_b, parsed_b, folder_ids=[roomy_inbox]),
        return_exceptions=True,
    )
    assert isinstance(refused, store.QuotaExceeded)  # all or nothing: not even the roomy copy
    assert isinstance(delivered, store.Delivered) and len(delivered.messages) == 1
    assert len(await messages_in(roomy)) == 1 and await messages_in(full) == []


async def test_group_commit_skip_full_delivers_to_the_mailboxes_with_room() -> None:
    org = await make_mail_org()
    full, roomy = await make_mail_user(org), await make_mail_user(org)
    await folder_of(full), await folder_of(roomy)  # their mailboxes exist from first use
    async with system_session() as db:
        await db.execute(update(Mailbox).where(Mailbox.user_id == full.id).values(quota_bytes=10))
        await db.commit()
        boxes = dict((await db.execute(select(Mailbox.user_id, Mailbox.id).where(Mailbox.org_id == org.id))).all())
    ref, parsed = await _stored(org.id)
    delivered = await store.deliver_stored(
        org.id, ref, parsed, inboxes=[boxes[full.id], boxes[roomy.id]], skip_full=True
    )
    assert [m.mailbox_id for m in delivered.messages] == [boxes[roomy.id]]
    assert delivered.full == [(await folder_of(full)).id]
    assert len(await messages_in(roomy)) == 1 and await messages_in(full) == []


async def test_group_commit_delivery_to_a_deleted_folder_is_refused_alone() -> None:
    user = await make_mail_user()
    inbox = (await folder_of(user)).id
    (ref_a, parsed_a), (ref_b, parsed_b) = await _stored(user.org_id), await _stored(user.org_id)
    gone, delivered = await asyncio.gather(
        store.deliver_stored(user.org_id, ref_a, parsed_a, folder_ids=[uuid.uuid4()]),
        store.deliver_stored(user.org_id, ref_b, parsed_b, folder_ids=[inbox]),
        return_exceptions=True,
    )
    assert isinstance(gone, Invalid) and isinstance(delivered, store.Delivered)
    assert len(await messages_in(user)) == 1


async def test_group_commit_reply_in_the_same_batch_joins_its_parents_thread() -> None:
    user = await make_mail_user()
    inbox = (await folder_of(user)).id
    parent = await _stored(user.org_id, make_message(message_id="<p@example.net>"))
    reply = await _stored(user.org_id, make_message(in_reply_to="<p@example.net>"))
    first, second = await asyncio.gather(
        *(store.deliver_stored(user.org_id, ref, parsed, folder_ids=[inbox]) for ref, parsed in (parent, reply))
    )
    assert first.messages[0].thread_id == second.messages[0].thread_id
