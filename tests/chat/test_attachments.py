"""Files sent in a conversation: uploaded, sent with a message, previewed, read by the
conversation's readers only, gone with their message, and never kept when not sent."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update

from hexagone.chat import service
from hexagone.chat.models import Attachment, Message
from hexagone.chat.service import attachments, retention
from hexagone.core import blobs
from hexagone.core.auth import Principal
from hexagone.core.db import org_session, utcnow
from hexagone.core.exceptions import Invalid, NotFound
from tests.chat.factories import (
    channel,
    direct,
    history,
    make_chat_org,
    make_member,
    read_file,
    say,
    space_channel,
    upload,
)
from tests.drive.extraction.documents import jpeg, pdf
from tests.drive.factories import own_drive, read
from tests.factories import TestOrg, make_org, make_space, make_user, principal, queued

pytestmark = pytest.mark.usefixtures("migrated")


async def _collected(org_id: uuid.UUID) -> None:
    """Run the blob collections the deletions planned, as the job worker does."""
    for job in await queued(org_id, attachments.COLLECT_JOB):
        await attachments.collect(job)


async def test_a_file_sent_with_a_message_is_in_its_history_and_readable_by_its_members() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    sent = await upload(alice, room, "compte-rendu.txt", b"Ordre du jour", "text/plain")
    message = await say(alice, room, "Le compte rendu", files=[sent.id])
    assert [a.name for a in message.attachments] == ["compte-rendu.txt"]
    shown = (await history(alice, room))[0]
    assert shown.attachments == [sent] and shown.attachments[0].size == len(b"Ordre du jour")
    assert message.as_json()["attachments"][0]["content_type"] == "text/plain"
    assert await read_file(alice, sent.id) == b"Ordre du jour"
    assert not sent.preview


async def test_a_message_may_be_only_files_and_keeps_their_order() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    files = [await upload(alice, room, f"{n}.txt", str(n).encode()) for n in range(3)]
    message = await say(alice, room, "  ", files=[files[2].id, files[0].id, files[1].id])
    assert message.text == "" and [a.name for a in (await history(alice, room))[0].attachments] == [
        "2.txt",
        "0.txt",
        "1.txt",
    ]


async def test_a_picture_and_a_pdf_get_a_preview_at_upload_and_a_text_file_none() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    picture = await upload(alice, room, "photo.jpg", jpeg(1600, 900), "image/jpeg")
    document = await upload(alice, room, "note.pdf", pdf("Bonjour"), "application/pdf")
    plain = await upload(alice, room, "note.txt", b"texte")
    assert picture.preview and document.preview and not plain.preview
    with Image.open(io.BytesIO(await read_file(alice, picture.id, preview=True))) as shown:
        assert shown.format == "PNG" and max(shown.size) == 512
    with pytest.raises(NotFound):
        await read_file(alice, plain.id, preview=True)


async def test_a_corrupt_picture_is_sent_without_a_preview() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    broken = await upload(alice, room, "photo.png", b"\x89PNG\r\n\x1a\nnot really", "image/png")
    assert not broken.preview
    assert await read_file(alice, broken.id) == b"\x89PNG\r\n\x1a\nnot really"


async def test_a_file_over_the_limit_is_refused_and_nothing_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments, "MAX_SIZE", 1000)
    _u, alice = await make_member()
    room = await channel(alice)
    with pytest.raises(Invalid):
        await upload(alice, room, "gros.bin", b"x" * 1001)
    async with org_session(alice.org_id) as db:
        assert (await db.execute(select(Attachment))).scalars().all() == []
    assert (await blobs.get_store().usage(f"org/{alice.org_id}/chat/")).count == 0


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../secret", ".._secret"),
        ("a/b\\c.txt", "a_b_c.txt"),
        ("CON.txt", "_CON.txt"),
        ("note. ", "note"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
        ("bilan\x00.pdf", "bilan_.pdf"),
    ],
)
async def test_a_file_name_a_drive_could_not_hold_is_mended_not_refused(given: str, kept: str) -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    assert (await upload(alice, room, given)).name == kept


@pytest.mark.parametrize(("name", "data"), [("", b"x"), (" ", b"x"), (".", b"x"), ("...", b"x"), ("vide.txt", b"")])
async def test_a_file_without_a_name_or_without_bytes_is_refused_and_nothing_is_kept(name: str, data: bytes) -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    with pytest.raises(Invalid):
        await upload(alice, room, name, data)
    assert (await blobs.get_store().usage(f"org/{alice.org_id}/chat/")).count == 0


async def test_only_who_may_post_uploads_and_only_the_uploader_sends_their_file() -> None:
    org = await make_chat_org()
    _a, alice = await make_member(org)
    _b, bob = await make_member(org)
    room = await channel(alice, private=True)
    with pytest.raises(NotFound):
        await upload(bob, room)
    mine = await upload(alice, room)
    other_room = await channel(bob)
    with pytest.raises(NotFound):
        await say(bob, other_room, "pas à moi", files=[mine.id])
    with pytest.raises(NotFound):
        await say(alice, await channel(alice), "pas ici", files=[mine.id])
    with pytest.raises(NotFound):
        await read_file(bob, mine.id)  # not sent: the uploader's alone
    await say(alice, room, "à moi", files=[mine.id])
    with pytest.raises(NotFound):
        await say(alice, room, "encore", files=[mine.id])  # already sent
    with pytest.raises(NotFound):
        await read_file(bob, mine.id)  # sent where bob cannot read


async def test_a_file_of_another_organisation_is_not_found() -> None:
    _u, alice = await make_member()
    _o, outsider = await make_member()
    room = await channel(alice)
    sent = await upload(alice, room)
    await say(alice, room, "fichier", files=[sent.id])
    with pytest.raises(NotFound):
        await read_file(outsider, sent.id)
    with pytest.raises(NotFound):
        await read_file(outsider, uuid.uuid4())


async def test_too_many_or_repeated_files_in_one_message_are_refused() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    one = await upload(alice, room)
    with pytest.raises(Invalid):
        await say(alice, room, "deux fois", files=[one.id, one.id])
    many = [uuid.uuid4() for _ in range(service.MAX_PER_MESSAGE + 1)]
    with pytest.raises(Invalid):
        await say(alice, room, "trop", files=many)


async def test_a_deleted_message_takes_its_files_with_it() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    sent = await upload(alice, room, "photo.jpg", jpeg(64, 64), "image/jpeg")
    message = await say(alice, room, "photo", files=[sent.id])
    async with org_session(alice.org_id, write=True) as db:
        await service.delete(db, alice, message.id)
        await db.commit()
    assert (await history(alice, room))[0].attachments == []
    with pytest.raises(NotFound):
        await read_file(alice, sent.id)
    await _collected(alice.org_id)
    store = blobs.get_store()
    key = attachments.blob_key(alice.org_id, sent.id)
    assert not await store.exists(key) and not await store.exists(attachments.preview_key(key))


async def test_an_organisation_keeping_history_keeps_a_deleted_messages_files_unreadable() -> None:
    _u, alice = await make_member(role="admin")
    room = await channel(alice)
    async with org_session(alice.org_id, write=True) as db:
        await service.change_rules(db, alice, retention_days=None, keep_history=True)
        await db.commit()
    sent = await upload(alice, room)
    message = await say(alice, room, "gardé", files=[sent.id])
    async with org_session(alice.org_id, write=True) as db:
        await service.delete(db, alice, message.id)
        await db.commit()
    with pytest.raises(NotFound):
        await read_file(alice, sent.id)
    assert await blobs.get_store().exists(attachments.blob_key(alice.org_id, sent.id))


async def test_the_purge_deletes_uploads_never_sent_after_a_day_and_old_messages_files() -> None:
    _u, alice = await make_member(role="admin")
    room = await channel(alice)
    forgotten = await upload(alice, room, "oublié.txt")
    recent = await upload(alice, room, "récent.txt")
    old = await upload(alice, room, "ancien.txt")
    old_message = await say(alice, room, "ancien", files=[old.id])
    async with org_session(alice.org_id, write=True) as db:
        await service.change_rules(db, alice, retention_days=30, keep_history=False)
        long_ago = utcnow() - timedelta(days=40)
        await db.execute(update(Attachment).where(Attachment.id == forgotten.id).values(created_at=long_ago))
        await db.execute(update(Message).where(Message.id == old_message.id).values(created_at=long_ago))
        await db.commit()
    await retention.purge()
    await _collected(alice.org_id)
    store = blobs.get_store()
    assert not await store.exists(attachments.blob_key(alice.org_id, forgotten.id))
    assert not await store.exists(attachments.blob_key(alice.org_id, old.id))
    assert await store.exists(attachments.blob_key(alice.org_id, recent.id))
    async with org_session(alice.org_id) as db:
        left = (await db.execute(select(Attachment.name))).scalars().all()
    assert left == ["récent.txt"]


async def test_a_file_saved_to_ones_drive_is_a_copy_there_numbered_when_the_name_is_taken() -> None:
    org = await make_org(modules=("chat", "drive"))
    _a, alice = await make_member(org)
    _b, bob = await make_member(org)
    room = await direct(alice, bob)
    sent = await upload(alice, room, "budget.ods", b"chiffres")
    await say(alice, room, "le budget", files=[sent.id])
    first = await service.save_to_drive(bob, sent.id)
    second = await service.save_to_drive(bob, sent.id)
    assert first.name == "budget.ods" and second.name == "budget (2).ods"
    assert await read(bob, first.id) == b"chiffres"
    assert (await own_drive(bob)).root_id == first.parent_id
    with pytest.raises(NotFound):
        await service.save_to_drive(await outsider_of(org), sent.id)  # cannot read the conversation


async def test_saving_to_a_drive_is_refused_to_a_guest_and_without_the_drive_module() -> None:
    org = await make_org(modules=("chat", "drive"))
    owner_user = await make_user(org)
    guest_user = await make_user(org, role="guest")
    space = await make_space(owner_user, members={guest_user: "member"})
    owner = await principal(owner_user)  # now a member of the space
    general = await space_channel(owner, space.id)
    sent = await upload(owner, general)
    await say(owner, general, "pour tous", files=[sent.id])
    guest = await principal(guest_user)
    assert await read_file(guest, sent.id) == b"du texte"  # a guest reads the file of their space
    with pytest.raises(NotFound):
        await service.save_to_drive(guest, sent.id)
    _u, chat_only = await make_member()
    room = await channel(chat_only)
    mine = await upload(chat_only, room)
    await say(chat_only, room, "fichier", files=[mine.id])
    with pytest.raises(NotFound):
        await service.save_to_drive(chat_only, mine.id)


async def outsider_of(org: TestOrg) -> Principal:
    """A colleague of the same organisation in none of the conversations."""
    _u, who = await make_member(org)
    return who
