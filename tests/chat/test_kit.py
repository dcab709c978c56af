"""The chat's parts of the module kit: unified search (permission-filtered), retention
(the periodic job and the command), and the export of a conversation (the API's and the
command's)."""

from __future__ import annotations

import json
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from hexagone.chat import service
from hexagone.chat.models import Event, Message
from hexagone.chat.search import messages as search_messages
from hexagone.chat.service.retention import purge
from hexagone.core.db import org_session, system_session, utcnow
from tests.chat.factories import channel, direct, make_chat_org, make_member, say, upload
from tests.conftest import ROOT, hexagone_command, server_env
from tests.factories import make_space, make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")


async def test_search_finds_messages_only_where_the_person_can_read() -> None:
    org = await make_chat_org()
    alice_user, alice = await make_member(org)
    _b, bob = await make_member(org)
    guest_user = await make_user(org, role="guest")
    space = await make_space(alice_user, members={guest_user: "member"})
    guest = await principal(guest_user)
    alice = await principal(alice_user)  # now in the space
    public = await channel(alice, "public-recherche")
    secret = await channel(alice, "secret-recherche", private=True)
    talk = await direct(alice, bob)
    async with org_session(org.id, write=True) as db:
        await service.ensure_space_channels(db, alice)
        await db.commit()
        general = next(c.id for c in await service.listing(db, alice) if c.space_id == space.id)
    await say(alice, public, "Le budget Orion est validé")
    await say(alice, secret, "Le budget Orion confidentiel")
    await say(alice, talk, "Budget Orion entre nous")
    await say(alice, general, "Budget Orion pour l'espace")
    found = {hit.title for hit in await search_messages(bob, "budget orion", 20)}
    assert found == {"Le budget Orion est validé", "Budget Orion entre nous"}
    found = {hit.title for hit in await search_messages(guest, "ORION budget", 20)}
    assert found == {"Budget Orion pour l'espace"}  # guests read no public channel
    assert len(await search_messages(alice, "orion", 20)) == 4
    _s, stranger = await make_member()
    assert await search_messages(stranger, "orion", 20) == []
    assert await search_messages(alice, "100%_", 20) == []  # LIKE's wildcards are plain characters


async def test_search_ignores_accents_and_case_and_forgets_edited_and_deleted_words() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    meeting = await say(alice, room, "Réunion ÉTÉ à l'Hôtel de Ville")
    assert [h.title for h in await search_messages(alice, "reunion ete hotel", 20)] == [meeting.text]
    assert [h.title for h in await search_messages(alice, "RÉUNION", 20)] == [meeting.text]
    async with org_session(alice.org_id, write=True) as db:
        await service.edit(db, alice, meeting.id, "Rendez-vous d'hiver")
        await db.commit()
    assert await search_messages(alice, "reunion", 20) == []
    assert len(await search_messages(alice, "HIVER", 20)) == 1
    async with org_session(alice.org_id, write=True) as db:
        await service.delete(db, alice, meeting.id)
        await db.commit()
    assert await search_messages(alice, "hiver", 20) == []


async def test_retention_deletes_older_messages_of_organisations_that_set_one() -> None:
    org = await make_chat_org()
    _a, admin = await make_member(org, role="admin")
    room = await channel(admin)
    old, recent = await say(admin, room, "ancien"), await say(admin, room, "récent")
    other_org_user, other = await make_member()
    kept_elsewhere = await say(other, await channel(other), "ailleurs")
    async with system_session(write=True) as db:
        stale = utcnow() - timedelta(days=40)
        await db.execute(update(Message).where(Message.id.in_([old.id, kept_elsewhere.id])).values(created_at=stale))
        await db.execute(update(Event).where(Event.org_id == org.id).values(created_at=utcnow() - timedelta(days=4)))
        await db.commit()
    async with org_session(org.id, write=True) as db:
        await service.change_rules(db, admin, retention_days=30, keep_history=False)
        await db.commit()
    assert await purge() >= 1
    async with system_session() as db:
        left = set(
            (
                await db.execute(select(Message.id).where(Message.id.in_([old.id, recent.id, kept_elsewhere.id])))
            ).scalars()
        )
        events = (await db.execute(select(Event.seq).where(Event.org_id == org.id))).all()
    assert left == {recent.id, kept_elsewhere.id}  # the other organisation keeps everything
    assert events == []  # past the replay window
    del other_org_user


async def test_the_export_command_writes_a_conversation_as_json_for_a_member() -> None:
    org = await make_chat_org()
    alice_user, alice = await make_member(org)
    bob_user, bob = await make_member(org)
    outsider = await make_user(org)
    room = await channel(alice, "exporté", private=True)
    async with org_session(org.id, write=True) as db:
        await service.add_members(db, alice, room, [bob.user_id])
        await db.commit()
    root = await say(alice, room, "première")
    await say(bob, room, "réponse", thread_id=root.id)
    done = subprocess.run(
        hexagone_command("chat", "export", str(room), "--user", bob_user.email),
        env=server_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    assert exported["channel"]["title"] == "exporté"
    assert [(m["text"], m["thread"]) for m in exported["messages"]] == [("première", None), ("réponse", str(root.id))]
    refused = subprocess.run(
        hexagone_command("chat", "export", str(room), "--user", outsider.email),
        env=server_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2 and "No such conversation" in refused.stderr  # not a member
    del alice_user


async def test_the_organisation_export_holds_every_conversation_with_its_messages(tmp_path: Path) -> None:
    org = await make_chat_org()
    alice_user, alice = await make_member(org)
    _b, bob = await make_member(org)
    room = await channel(alice, "tout", private=True)
    talk = await direct(alice, bob)
    await say(alice, room, "dans le canal")
    sent = await upload(bob, talk, "relevé.csv", b"a;b\n1;2\n")
    await say(bob, talk, "en direct", files=[sent.id])
    target = tmp_path / "org.zip"
    done = subprocess.run(
        hexagone_command("org", "export", org.domain, str(target)),
        env=server_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(target) as archive:
        index = {c["id"]: c for c in json.loads(archive.read("chat/channels.json"))}
        assert index[str(room)]["name"] == "tout" and index[str(room)]["members"] == [str(alice.user_id)]
        assert sorted(index[str(talk)]["members"]) == sorted([str(alice.user_id), str(bob.user_id)])
        direct_export = json.loads(archive.read(f"chat/{talk}.json"))
        assert archive.read(f"chat/files/{sent.id}") == b"a;b\n1;2\n"
    assert [m["text"] for m in direct_export["messages"]] == ["en direct"]
    assert direct_export["messages"][0]["attachments"][0]["name"] == "relevé.csv"
    del alice_user
