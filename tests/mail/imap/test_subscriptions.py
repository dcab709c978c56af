"""IMAP subscriptions (RFC 3501 6.3.6-6.3.9, RFC 9051 6.3.7): a list of names per user,
independent of folders, as in Dovecot 2.3 — CREATE does not subscribe, DELETE does not
unsubscribe, LSUB with ``%`` reports the ``\\Noselect`` parent of a deeper subscription.
Where we choose differently from Dovecot, the RFC allows both: we accept a subscription to a
name that has no folder (Dovecot refuses it), and RENAME moves the renaming user's
subscriptions (Dovecot leaves them, and Thunderbird moves them itself)."""

from __future__ import annotations

import pytest

from hexagone.core.db import org_session
from hexagone.mail.service import subscriptions
from tests.factories import TestUser
from tests.mail.factories import grant_shared, make_mail_org, make_mail_user
from tests.mail.imap.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")

DEFAULTS = ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"]


def lsub(client: Raw, pattern: bytes = b'"*"') -> list[bytes]:
    return client.command(b"l", b'LSUB "" ' + pattern)[:-1]


def lsub_names(client: Raw, pattern: bytes = b'"*"') -> list[str]:
    return [line.rsplit(b' "/" ', 1)[1].strip(b'"').decode() for line in lsub(client, pattern)]


async def stored(user: TestUser) -> set[str]:
    async with org_session(user.org_id) as db:
        return await subscriptions.names(db, user.id)


async def test_subscriptions_a_new_mailbox_subscribes_its_owner_to_the_default_folders(raw, user: TestUser) -> None:
    assert lsub_names(raw(user)) == DEFAULTS
    assert lsub(raw(user), b'"Sent"') == [b'* LSUB (\\Sent) "/" "Sent"']


async def test_subscriptions_create_does_not_subscribe(raw, user: TestUser) -> None:
    client = raw(user)
    assert client.command(b"c", b"CREATE Projets")[-1].endswith(b"CREATE completed")  # with its MAILBOXID (RFC 8474)
    assert "Projets" not in lsub_names(client)


async def test_subscriptions_delete_keeps_the_name_subscribed(raw, user: TestUser) -> None:
    client = raw(user)
    client.command(b"c", b"CREATE Projets")
    client.command(b"s", b"SUBSCRIBE Projets")
    assert client.command(b"d", b"DELETE Projets")[-1] == b"d OK DELETE completed"
    assert lsub(client, b'"Projets"') == [b'* LSUB () "/" "Projets"']
    assert (
        client.command(b"l", b'LIST (SUBSCRIBED) "" "Projets"')[0]
        == b'* LIST (\\Subscribed \\NonExistent) "/" "Projets"'
    )


async def test_subscriptions_a_name_without_a_folder_may_be_subscribed(raw, user: TestUser) -> None:
    client = raw(user)
    assert client.command(b"s", b'SUBSCRIBE "Later/Deep"')[-1] == b"s OK SUBSCRIBE completed"
    assert "Later/Deep" in await stored(user)
    client.command(b"c", b'CREATE "Later/Deep"')
    assert client.command(b"l", b'LIST (SUBSCRIBED) "" "Later/Deep"')[0] == b'* LIST (\\Subscribed) "/" "Later/Deep"'


async def test_subscriptions_lsub_percent_reports_the_unsubscribed_parent_as_noselect(raw, user: TestUser) -> None:
    client = raw(user)
    client.command(b"s", b'SUBSCRIBE "Later/Deep"')
    assert lsub(client, b'"L%"') == [b'* LSUB (\\Noselect) "/" "Later"']
    assert lsub(client, b'"L*"') == [b'* LSUB () "/" "Later/Deep"']
    client.command(b"t", b"SUBSCRIBE Later")
    assert lsub(client, b'"L%"') == [b'* LSUB () "/" "Later"']


async def test_subscriptions_subscribe_twice_keeps_one_and_unsubscribe_of_an_unknown_name_succeeds(
    raw, user: TestUser
) -> None:
    client = raw(user)
    for tag in (b"a", b"b"):
        assert client.command(tag, b"SUBSCRIBE Twice")[-1].startswith(tag + b" OK")
    assert lsub_names(client, b'"Twice"') == ["Twice"]
    assert client.command(b"u", b"UNSUBSCRIBE Twice")[-1] == b"u OK UNSUBSCRIBE completed"
    assert client.command(b"v", b"UNSUBSCRIBE Twice")[-1] == b"v OK UNSUBSCRIBE completed"
    assert client.command(b"w", b"UNSUBSCRIBE Never")[-1] == b"w OK UNSUBSCRIBE completed"
    assert lsub(client, b'"Twice"') == []


async def test_subscriptions_inbox_is_one_name_in_any_case(raw, user: TestUser) -> None:
    client = raw(user)
    client.command(b"u", b"UNSUBSCRIBE inbox")
    assert "INBOX" not in lsub_names(client)
    client.command(b"s", b"SUBSCRIBE InBoX")
    assert await stored(user) >= {"INBOX"} and "InBoX" not in await stored(user)


async def test_subscriptions_rename_moves_the_folder_and_its_children(raw, user: TestUser) -> None:
    client = raw(user)
    client.command(b"c", b'CREATE "Clients/Alpha"')
    client.command(b"s", b"SUBSCRIBE Clients")
    client.command(b"t", b'SUBSCRIBE "Clients/Alpha"')
    client.command(b"o", b'SUBSCRIBE "ClientsOld"')  # shares a prefix, not a parent
    client.command(b"p", b'SUBSCRIBE "clients/Beta"')  # another name: case matters
    assert client.command(b"r", b"RENAME Clients Customers")[-1] == b"r OK RENAME completed"
    names = await stored(user)
    assert {"Customers", "Customers/Alpha", "ClientsOld", "clients/Beta"} <= names
    assert not {"Clients", "Clients/Alpha"} & names


async def test_subscriptions_rename_of_inbox_keeps_inbox_subscribed(raw, user: TestUser) -> None:
    client = raw(user)
    assert client.command(b"r", b'RENAME INBOX "Old inbox"')[-1] == b"r OK RENAME completed"
    assert "INBOX" in await stored(user) and "Old inbox" not in await stored(user)


async def test_subscriptions_refuse_an_empty_name(raw, user: TestUser) -> None:
    assert raw(user).command(b"s", b'SUBSCRIBE ""')[-1].startswith(b"s NO [CANNOT]")


async def test_subscriptions_imapclient_sees_only_subscribed_folders(imapclient, user: TestUser) -> None:
    client = imapclient(user)
    client.create_folder("Projets/2025")
    client.unsubscribe_folder("Junk")
    client.subscribe_folder("Projets/2025")
    subscribed = {name: flags for flags, _, name in client.list_sub_folders()}
    assert set(subscribed) == {"INBOX", "Archive", "Drafts", "Sent", "Trash", "Projets/2025"}
    assert subscribed["Sent"] == (b"\\Sent",)
    assert "Projets" in [name for _, _, name in client.list_sub_folders("", "%")]


async def test_subscriptions_belong_to_one_user(raw) -> None:
    org = await make_mail_org()
    alice, bob = await make_mail_user(org), await make_mail_user(org)
    outsider = await make_mail_user()
    raw(alice).command(b"s", b"SUBSCRIBE Secret")
    assert "Secret" not in lsub_names(raw(bob)) and "Secret" not in lsub_names(raw(outsider))
    raw(bob).command(b"u", b"UNSUBSCRIBE Secret")
    assert "Secret" in await stored(alice)


async def test_subscriptions_a_grant_subscribes_the_grantee_to_the_shared_folders(raw) -> None:
    org = await make_mail_org()
    alice = await make_mail_user(org)
    shared = f"accueil@{org.domain}"
    await grant_shared(org, shared, alice, can_write=False)
    names = lsub_names(raw(alice), b'"Shared/*"')
    assert sorted(names) == sorted(f"Shared/{shared}/{name}" for name in DEFAULTS)


async def test_subscriptions_to_another_users_folder_tell_nothing_about_it(raw) -> None:
    """A name in a mailbox one has no grant on is subscribed like any missing name, and
    stays \\NonExistent: the answer is the same whether the folder exists or not."""
    org = await make_mail_org()
    alice, carol = await make_mail_user(org), await make_mail_user(org)
    outsider = await make_mail_user()
    client = raw(carol)
    names = [f"Shared/{alice.email}/INBOX", f"Shared/{outsider.email}/INBOX", f"Shared/nobody@{org.domain}/INBOX"]
    for name in names:
        assert client.command(b"s", b'SUBSCRIBE "%b"' % name.encode())[-1] == b"s OK SUBSCRIBE completed"
    listed = client.command(b"l", b'LIST (SUBSCRIBED) "" "Shared/*"')[:-1]
    assert sorted(listed) == sorted(b'* LIST (\\Subscribed \\NonExistent) "/" "%b"' % n.encode() for n in names)
