"""The message store: UIDs, flags, modseqs, copies, expunge, quotas and threading."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from hexagone.core.db import org_session, system_session
from hexagone.core.exceptions import Invalid
from hexagone.mail.models import Folder, Mailbox
from hexagone.mail.service import mailboxes, store
from hexagone.mail.service.addresses import resolve
from tests.mail.factories import deliver, folder_of, make_mail_org, make_mail_user, make_message, messages_in

pytestmark = pytest.mark.usefixtures("migrated")


async def test_store_deliveries_get_increasing_uids_and_modseqs() -> None:
    user = await make_mail_user()
    first = await deliver(user)
    second = await deliver(user)
    assert (first.uid, second.uid) == (1, 2)
    assert second.modseq > first.modseq
    folder = await folder_of(user)
    assert folder.uid_next == 3 and folder.highest_modseq >= second.modseq


async def test_store_flags_set_add_remove_bump_modseq_only_when_changed() -> None:
    user = await make_mail_user()
    await deliver(user)
    folder = await folder_of(user)
    async with org_session(user.org_id) as db:
        folder = await db.get(Folder, folder.id)
        [message] = await store.messages_by_uid(db, folder)
        changed, _ = await store.store_flags(db, folder, [message], ["\\seen", "$Label1"], "add")
        assert store.flags_of(message) == ["\\Seen", "$Label1"] and changed
        modseq = message.modseq
        changed, _ = await store.store_flags(db, folder, [message], ["\\Seen"], "add")
        assert changed == [] and message.modseq == modseq
        changed, refused = await store.store_flags(
            db, folder, [message], ["\\Flagged"], "add", unchanged_since=modseq - 1
        )
        assert refused == [message] and changed == []
        await store.store_flags(db, folder, [message], ["$Label1"], "remove")
        assert store.flags_of(message) == ["\\Seen"]
        await db.commit()


async def test_store_unknown_system_flag_is_refused() -> None:
    with pytest.raises(Invalid):
        store.check_flags(["\\Bogus"])


async def test_store_copy_shares_the_blob_and_expunge_removes_only_deleted() -> None:
    user = await make_mail_user()
    await deliver(user, flags=("\\Deleted",))
    await deliver(user)
    inbox, archive = await folder_of(user), await folder_of(user, "Archive")
    async with org_session(user.org_id) as db:
        inbox, archive = await db.get(Folder, inbox.id), await db.get(Folder, archive.id)
        messages = await store.messages_by_uid(db, inbox)
        pairs = await store.copy(db, messages, archive)
        assert [c.uid for _, c in pairs] == [1, 2] and pairs[0][1].blob_key == messages[0].blob_key
        assert await store.expunge(db, inbox) == [1]
        await db.commit()
    assert [m.uid for m in await messages_in(user)] == [2]
    assert len(await messages_in(user, "Archive")) == 2


async def test_store_over_quota_is_refused_and_nothing_is_added() -> None:
    user = await make_mail_user()
    await folder_of(user)  # the mailbox exists from first use
    async with system_session() as db:
        await db.execute(update(Mailbox).where(Mailbox.user_id == user.id).values(quota_bytes=100))
        await db.commit()
    with pytest.raises(store.QuotaExceeded):
        await deliver(user)
    assert await messages_in(user) == []


async def test_store_reply_joins_the_thread_of_its_parent() -> None:
    user = await make_mail_user()
    parent = await deliver(user, message_id="<parent@example.net>")
    reply = await deliver(user, in_reply_to="<parent@example.net>")
    other = await deliver(user)
    assert reply.thread_id == parent.thread_id != other.thread_id


async def test_store_blob_holds_the_exact_bytes() -> None:
    user = await make_mail_user()
    raw = make_message(subject="Octets exacts")
    message = await deliver(user, raw)
    assert await store.read(message) == raw and message.size == len(raw)
    assert message.subject == "Octets exacts"


async def test_addresses_resolve_users_subaddresses_and_not_other_domains() -> None:
    org = await make_mail_org()
    user = await make_mail_user(org)
    local, domain = user.email.split("@")
    async with system_session() as db:
        found = await resolve(db, f"{local}+news@{domain.upper()}")
        assert found is not None and found.org_id == org.id and len(found.mailbox_ids) == 1
        assert await resolve(db, f"nobody@{domain}") is None
        assert await resolve(db, f"{local}@elsewhere.test") is None
        await db.commit()


async def test_addresses_org_without_mail_receives_nothing() -> None:
    from tests.factories import make_org, make_user

    org = await make_org(modules=())
    user = await make_user(org)
    async with system_session() as db:
        assert await resolve(db, user.email) is None


def test_make_message_uses_crlf() -> None:
    assert b"\r\n\r\n" in make_message()


async def test_store_concurrent_deliveries_all_land_with_distinct_uids() -> None:
    import asyncio

    user = await make_mail_user()
    inbox = await folder_of(user)
    await asyncio.gather(*(store.deliver(user.org_id, [inbox.id], make_message()) for _ in range(20)))
    uids = [m.uid for m in await messages_in(user)]
    assert uids == list(range(1, 21))


async def test_store_move_within_a_full_mailbox_is_allowed_and_keeps_the_quota() -> None:
    user = await make_mail_user()
    moved = await deliver(user)
    async with system_session() as db:
        await db.execute(update(Mailbox).where(Mailbox.user_id == user.id).values(quota_bytes=moved.size))
        await db.commit()
    inbox, archive = await folder_of(user), await folder_of(user, "Archive")
    async with org_session(user.org_id, write=True) as db:
        inbox, archive = await db.get(Folder, inbox.id), await db.get(Folder, archive.id)
        [(_, copied)] = await store.move(db, inbox, await store.messages_by_uid(db, inbox), archive)
        await db.commit()
    assert await messages_in(user) == [] and [m.id for m in await messages_in(user, "Archive")] == [copied.id]
    async with system_session() as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.user_id == user.id))).scalar_one()
        assert mailbox.used_bytes == moved.size


async def test_store_delete_folder_gives_back_the_quota_of_its_messages() -> None:
    user = await make_mail_user()
    kept = await deliver(user)
    await deliver(user, folder="Archive")
    async with org_session(user.org_id, write=True) as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.user_id == user.id))).scalar_one()
        keys = await mailboxes.delete_folder(db, mailbox, "Archive")
        await db.commit()
    assert len(keys) == 1
    async with system_session() as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.user_id == user.id))).scalar_one()
        assert mailbox.used_bytes == kept.size


async def test_store_add_messages_in_bulk_get_consecutive_uids_their_flags_dates_and_one_modseq() -> None:
    from datetime import UTC, datetime

    from hexagone.mail import mime

    user = await make_mail_user()
    inbox = await folder_of(user)
    raws = [make_message(subject=f"bulk {i}") for i in range(3)]
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    new = [
        store.NewMessage(await store.put_blob(user.org_id, raw), mime.parse(raw), flags, when)
        for raw, flags in zip(raws, [("\\Seen",), (), ("\\Flagged", "$Work")], strict=True)
    ]
    async with org_session(user.org_id, write=True) as db:
        folder = await db.get(Folder, inbox.id)
        assert folder is not None
        assert await store.add_messages(db, folder, new) == [1, 2, 3]
        await db.commit()
    added = await messages_in(user)
    assert [store.flags_of(m) for m in added] == [["\\Seen"], [], ["\\Flagged", "$Work"]]
    assert {m.internal_date for m in added} == {when} and len({m.modseq for m in added}) == 1
    assert [m.subject for m in added] == ["bulk 0", "bulk 1", "bulk 2"]
