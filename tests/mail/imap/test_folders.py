"""Folders over IMAP: LIST, CREATE, RENAME, DELETE, STATUS, NAMESPACE, QUOTA, and names
in modified UTF-7 (subscriptions: test_subscriptions.py; LIST-EXTENDED: test_list_extended.py)."""

from __future__ import annotations

import pytest

from hexagone.core.db import org_session
from hexagone.mail.service import mailboxes
from tests.factories import TestUser
from tests.mail.factories import deliver, folder_of, messages_in

pytestmark = pytest.mark.usefixtures("migrated")

DEFAULTS = ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"]


def names(listing: list[bytes]) -> list[str]:
    return [line.rsplit(b' "/" ', 1)[1].strip(b'"').decode() for line in listing if line]


async def folder_names(user: TestUser) -> list[str]:
    inbox = await folder_of(user)
    async with org_session(user.org_id) as db:
        return sorted(f.name for f in await mailboxes.folders(db, inbox.mailbox_id))


async def test_folders_list_shows_the_default_folders_with_special_use(connect, user: TestUser) -> None:
    typ, listing = connect(user).list()
    assert typ == "OK" and names(listing) == DEFAULTS
    assert listing[0] == b'(\\HasNoChildren) "/" "INBOX"'
    assert b'(\\HasNoChildren \\Sent) "/" "Sent"' in listing and b'(\\HasNoChildren \\Trash) "/" "Trash"' in listing


async def test_folders_list_empty_pattern_gives_the_delimiter(raw, user: TestUser) -> None:
    assert raw(user).command(b"a", b'LIST "" ""')[0] == b'* LIST (\\Noselect) "/" ""'


async def test_folders_list_wildcards_and_children(imapclient, user: TestUser) -> None:
    client = imapclient(user)
    client.create_folder("Projets/2025/Budget")
    top = {name: flags for flags, _, name in client.list_folders("", "%")}
    assert top["Projets"] == (b"\\HasChildren",) and "Projets/2025" not in top
    deep = [name for _, _, name in client.list_folders("Projets/", "*")]
    assert deep == ["Projets/2025", "Projets/2025/Budget"]
    assert [name for _, _, name in client.list_folders("", "inbox")] == ["INBOX"]


async def test_folders_create_rename_delete(imapclient, user: TestUser) -> None:
    client = imapclient(user)
    client.create_folder("Clients/Alpha")
    assert "Clients/Alpha" in await folder_names(user) and "Clients" in await folder_names(user)
    client.rename_folder("Clients", "Customers")
    assert {"Customers", "Customers/Alpha"} <= set(await folder_names(user))
    client.delete_folder("Customers/Alpha")
    assert "Customers/Alpha" not in await folder_names(user)


async def test_folders_rename_leaves_a_folder_whose_name_only_matches_as_a_pattern(imapclient, user: TestUser) -> None:
    client = imapclient(user)
    client.create_folder("a_b/x")
    client.create_folder("axb/y")  # "_" is a LIKE wildcard: a_b/ must not match axb/
    client.rename_folder("a_b", "c")
    assert {"c", "c/x", "axb", "axb/y"} <= set(await folder_names(user))


async def test_folders_refusals_name_their_reason(raw, user: TestUser) -> None:
    client = raw(user)
    assert b"[ALREADYEXISTS]" in client.command(b"a", b"CREATE Sent")[-1]
    assert b"[CANNOT]" in client.command(b"b", b"DELETE INBOX")[-1]
    assert b"[NONEXISTENT]" in client.command(b"c", b"DELETE Nowhere")[-1]
    assert b"[NONEXISTENT]" in client.command(b"d", b"RENAME Nowhere Somewhere")[-1]
    assert b"[ALREADYEXISTS]" in client.command(b"e", b"RENAME Sent Trash")[-1]
    assert client.command(b"f", b'CREATE "bad*name"')[-1].startswith(b"f NO")
    assert b"[CANNOT]" in client.command(b"g", b"CREATE Shared")[-1]


async def test_folders_rename_inbox_moves_its_messages_and_keeps_inbox(imapclient, user: TestUser) -> None:
    await deliver(user, subject="kept")
    client = imapclient(user)
    client.rename_folder("INBOX", "Old inbox")
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    assert client.select_folder("Old inbox")[b"EXISTS"] == 1


async def test_folders_non_ascii_names_travel_in_modified_utf7(raw, user: TestUser) -> None:
    client = raw(user)
    assert client.command(b"a", b'CREATE "&AMk-l&AOk-ments envoy&AOk-s"')[-1].startswith(b"a OK")
    assert "Éléments envoyés" in await folder_names(user)
    assert (
        client.command(b"b", b'LIST "" "&AMk-*"')[0] == b'* LIST (\\HasNoChildren) "/" "&AMk-l&AOk-ments envoy&AOk-s"'
    )
    assert client.command(b"c", b'CREATE "Caf&AOk-&-Co"')[-1].startswith(b"c OK")
    assert "Café&Co" in await folder_names(user)
    assert client.command(b"d", b'CREATE "&Jjo"')[-1].startswith(b"d BAD")  # unterminated shift


async def test_folders_status_reports_every_item(raw, user: TestUser) -> None:
    await deliver(user, flags=("\\Seen",))
    await deliver(user, flags=("\\Deleted",))
    inbox = await folder_of(user)
    size = sum(m.size for m in await messages_in(user))
    line = raw(user).command(
        b"a", b"STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE DELETED)"
    )[0]
    assert line == (
        b'* STATUS "INBOX" (MESSAGES 2 RECENT 2 UIDNEXT 3 UIDVALIDITY %d UNSEEN 1 HIGHESTMODSEQ %d '
        b"SIZE %d DELETED 1)" % (inbox.uidvalidity, inbox.highest_modseq, size)
    )


async def test_folders_status_of_a_missing_folder_is_nonexistent(raw, user: TestUser) -> None:
    assert b"NO [NONEXISTENT]" in raw(user).command(b"a", b"STATUS Nowhere (MESSAGES)")[-1]


async def test_folders_namespace_has_personal_and_shared(connect, user: TestUser) -> None:
    _, data = connect(user).namespace()
    assert data == [b'(("" "/")) NIL (("Shared/" "/"))']


async def test_folders_quota_of_the_mailbox(imapclient, raw, user: TestUser) -> None:
    await deliver(user, body="x" * 5000)
    roots, quotas = imapclient(user).get_quota_root("INBOX")
    assert roots.quota_roots == [""]
    [quota] = quotas
    assert quota.resource == "STORAGE" and quota.usage >= 5 and quota.limit == 5 * 1024 * 1024
    assert raw(user).command(b"a", b'GETQUOTA ""')[0] == b'* QUOTA "" (STORAGE %d %d)' % (quota.usage, quota.limit)


async def test_folders_setquota_is_refused(raw, user: TestUser) -> None:
    assert b"NO [NOPERM]" in raw(user).command(b"a", b'SETQUOTA "" (STORAGE 1)')[-1]


async def test_folders_deleting_a_parent_leaves_it_as_a_non_selectable_node(imapclient, user: TestUser) -> None:
    client = imapclient(user)
    client.create_folder("Projets/2025")
    client.delete_folder("Projets")
    listing = {name: flags for flags, _, name in client.list_folders("", "%")}
    assert listing["Projets"] == (b"\\Noselect", b"\\HasChildren")
    assert [name for _, _, name in client.list_folders("Projets/", "%")] == ["Projets/2025"]
