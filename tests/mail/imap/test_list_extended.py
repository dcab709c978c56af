"""LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154) in LIST.
The expected lines are Dovecot 2.3's answers to the same commands on the same folders
(attribute order included): in the extended syntax, children and special uses are reported
only when asked for. The last test holds the same dialogue with a Dovecot and compares."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import TestUser
from tests.mail.factories import deliver, grant_shared, make_mail_org, make_mail_user
from tests.mail.imap.conftest import Raw
from tests.mail.migration import dovecot

pytestmark = pytest.mark.usefixtures("migrated")


def listed(client: Raw, command: bytes) -> list[bytes]:
    lines = client.command(b"l", command)
    assert lines[-1] == b"l OK LIST completed", lines
    return lines[:-1]


@pytest.fixture
def client(raw, user: TestUser) -> Raw:
    """A user with ``Projets/2025`` (``Projets`` unsubscribed, ``Projets/2025`` subscribed)
    and a subscription to ``Gone``, which has no folder."""
    session = raw(user)
    session.command(b"c", b'CREATE "Projets/2025"')
    session.command(b"s", b'SUBSCRIBE "Projets/2025"')
    session.command(b"t", b"SUBSCRIBE Gone")
    return session


def test_list_extended_basic_list_reports_children_and_special_use(client: Raw) -> None:
    assert listed(client, b'LIST "" "%"') == [
        b'* LIST (\\HasNoChildren) "/" "INBOX"',
        b'* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
        b'* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
        b'* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
        b'* LIST (\\HasChildren) "/" "Projets"',
        b'* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
        b'* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
    ]


def test_list_extended_subscribed_selection_lists_subscribed_names_nonexistent_included(client: Raw) -> None:
    lines = listed(client, b'LIST (SUBSCRIBED) "" "*"')
    assert b'* LIST (\\Subscribed \\NonExistent) "/" "Gone"' in lines
    assert b'* LIST (\\Subscribed) "/" "Projets/2025"' in lines
    assert b'* LIST (\\Subscribed) "/" "Sent"' in lines  # no special use unless asked
    assert not any(line.endswith(b'"Projets"') for line in lines)


def test_list_extended_subscribed_with_children_return_option(client: Raw) -> None:
    lines = listed(client, b'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN)')
    assert b'* LIST (\\Subscribed \\NonExistent \\HasNoChildren) "/" "Gone"' in lines
    assert b'* LIST (\\Subscribed \\HasNoChildren) "/" "Projets/2025"' in lines


def test_list_extended_recursivematch_reports_the_parent_of_a_subscription_with_childinfo(client: Raw) -> None:
    assert listed(client, b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "P%"') == [
        b'* LIST () "/" "Projets" (CHILDINFO ("SUBSCRIBED"))'
    ]
    client.command(b"s", b"SUBSCRIBE Projets")
    assert listed(client, b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "P*"') == [
        b'* LIST (\\Subscribed) "/" "Projets" (CHILDINFO ("SUBSCRIBED"))',
        b'* LIST (\\Subscribed) "/" "Projets/2025"',
    ]


def test_list_extended_recursivematch_of_a_missing_parent_is_nonexistent(client: Raw) -> None:
    client.command(b"s", b'SUBSCRIBE "Nowhere/Deep"')
    assert listed(client, b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "N%"') == [
        b'* LIST (\\NonExistent) "/" "Nowhere" (CHILDINFO ("SUBSCRIBED"))'
    ]


def test_list_extended_recursivematch_alone_is_bad(client: Raw) -> None:
    for command in (b'LIST (RECURSIVEMATCH) "" "%"', b'LIST (REMOTE RECURSIVEMATCH) "" "%"'):
        assert client.command(b"b", command)[-1].startswith(b"b BAD")


def test_list_extended_return_subscribed_marks_without_filtering(client: Raw) -> None:
    lines = listed(client, b'LIST "" "P*" RETURN (SUBSCRIBED)')
    assert lines == [b'* LIST () "/" "Projets"', b'* LIST (\\Subscribed) "/" "Projets/2025"']


def test_list_extended_return_children_and_special_use(client: Raw) -> None:
    assert listed(client, b'LIST "" ("Projets" "Sent") RETURN (CHILDREN SPECIAL-USE)') == [
        b'* LIST (\\HasChildren) "/" "Projets"',
        b'* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
    ]


def test_list_extended_several_patterns_give_each_name_once(client: Raw) -> None:
    assert listed(client, b'LIST "" ("INBOX" "inbox" "Dr*")') == [b'* LIST () "/" "INBOX"', b'* LIST () "/" "Drafts"']


def test_list_extended_special_use_selection(client: Raw) -> None:
    special = [b"Archive", b"Drafts", b"Junk", b"Sent", b"Trash"]  # each has the attribute of its name
    assert listed(client, b'LIST (SPECIAL-USE) "" "*"') == [b'* LIST (\\%b) "/" "%b"' % (n, n) for n in special]
    assert listed(client, b'LIST (SPECIAL-USE SUBSCRIBED) "" "S*"') == [b'* LIST (\\Subscribed \\Sent) "/" "Sent"']


def test_list_extended_remote_selects_what_a_plain_list_selects(client: Raw) -> None:
    assert listed(client, b'LIST (REMOTE) "" "P%"') == [b'* LIST () "/" "Projets"']


def test_list_extended_empty_options_are_the_extended_syntax(client: Raw) -> None:
    assert listed(client, b'LIST () "" "Projets" RETURN ()') == [b'* LIST () "/" "Projets"']
    assert listed(client, b'LIST () "" ""') == []
    assert listed(client, b'LIST "" "" RETURN (CHILDREN)') == []
    assert listed(client, b'LIST "" ""') == [b'* LIST (\\Noselect) "/" ""']


async def test_list_status_follows_each_selectable_folder(raw, user: TestUser) -> None:
    await deliver(user)
    client = raw(user)
    client.command(b"c", b'CREATE "Projets/2025"')
    client.command(b"d", b"DELETE Projets")  # now a \Noselect node: no STATUS for it
    assert listed(client, b'LIST "" ("INBOX" "Projets" "Nope") RETURN (STATUS (MESSAGES UNSEEN) SUBSCRIBED)') == [
        b'* LIST (\\Subscribed) "/" "INBOX"',
        b'* STATUS "INBOX" (MESSAGES 1 UNSEEN 1)',
        b'* LIST (\\Noselect) "/" "Projets"',
    ]


async def test_list_status_of_subscribed_names_skips_the_missing_ones(client: Raw) -> None:
    lines = listed(client, b'LIST (SUBSCRIBED) "" ("Gone" "Projets/2025") RETURN (STATUS (MESSAGES))')
    assert lines == [
        b'* LIST (\\Subscribed \\NonExistent) "/" "Gone"',
        b'* LIST (\\Subscribed) "/" "Projets/2025"',
        b'* STATUS "Projets/2025" (MESSAGES 0)',
    ]


def test_list_extended_refuses_malformed_options(client: Raw) -> None:
    for command in (
        b'LIST (BOGUS) "" "*"',
        b'LIST "" "*" RETURN (BOGUS)',
        b'LIST "" "*" RETURN SUBSCRIBED',
        b'LIST "" "*" RETURN (STATUS (BOGUS))',
        b'LIST "" "*" RETURN (STATUS)',
        b'LIST "" "*" RETURNS (CHILDREN)',
        b'LIST ((SUBSCRIBED)) "" "*"',
        b'LIST "" (("*"))',
    ):
        assert client.command(b"b", command)[-1].startswith(b"b BAD"), command


async def test_list_extended_shows_a_granted_mailbox_and_nothing_of_others(raw) -> None:
    org = await make_mail_org()
    alice, carol = await make_mail_user(org), await make_mail_user(org)
    outsider = await make_mail_user()
    shared = f"accueil@{org.domain}"
    await grant_shared(org, shared, alice, can_write=True)
    lines = listed(raw(alice), b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "Shared/%" RETURN (CHILDREN)')
    assert lines == [b'* LIST (\\Noselect \\HasChildren) "/" "Shared/%b" (CHILDINFO ("SUBSCRIBED"))' % shared.encode()]
    client = raw(carol)
    for other in (alice.email, outsider.email, shared):
        client.command(b"s", b'SUBSCRIBE "Shared/%b/INBOX"' % other.encode())
    lines = listed(client, b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "Shared/%"')
    assert sorted(lines) == sorted(
        b'* LIST (\\NonExistent) "/" "Shared/%b" (CHILDINFO ("SUBSCRIBED"))' % other.encode()
        for other in (alice.email, outsider.email, shared)
    )
    assert listed(client, b'LIST "" "Shared*" RETURN (SUBSCRIBED CHILDREN)') == []


# --- the same dialogue with Dovecot 2.3 ------------------------------------------------------

# Dovecot as close to a Hexagone mailbox as it gets: "/" as delimiter, folders as
# directories (a parent deleted under its children stays as \Noselect, as here), our
# default folders with their special uses, created and subscribed at sign-in, ACLs on.
TWIN_STORAGE = """\
mail_location = maildir:~/Maildir:LAYOUT=fs
mail_plugins = acl
protocol imap {{
  mail_plugins = $mail_plugins imap_acl
}}
plugin {{
  acl = vfile
}}
"""
TWIN_NAMESPACE = (
    "namespace inbox {{\n  inbox = yes\n  separator = /\n  mailbox INBOX {{\n    auto = subscribe\n  }}\n"
    + (
        "".join(
            f"  mailbox {name} {{{{\n    auto = subscribe\n    special_use = \\{name}\n  }}}}\n"
            for name in ("Archive", "Drafts", "Junk", "Sent", "Trash")
        )
        + "}}\n"
    )
)
TWIN_CONFIG = re.sub(
    r"namespace inbox \{\{.*?\n\}\}\n",
    lambda _: TWIN_NAMESPACE,
    dovecot.CONFIG.replace("mail_location = maildir:~/Maildir\n", TWIN_STORAGE),
    flags=re.S,
)

# The dialogue: what changes the folders and subscriptions, then what reads them. Left
# out where we choose differently (docs/mail-imap.md): SUBSCRIBE of a name with no folder,
# subscriptions after RENAME, and DELETE of a parent (Dovecot refuses it; we leave it as a
# \Noselect node, as RFC 3501 6.3.4 allows).
SETUP = (
    "CREATE Projets",  # parent by parent: Dovecot makes missing parents directories, not folders
    'CREATE "Projets/2025"',
    'CREATE "Projets/2025/Budget"',
    'SUBSCRIBE "Projets/2025"',
    "CREATE Vide",
    "SUBSCRIBE Vide",
    "DELETE Vide",
    "UNSUBSCRIBE Jamais",
)
COMPARED = (
    'LIST "" "*"',
    'LIST "" "%"',
    'LIST "" ""',
    'LIST "Projets/" "%"',
    'LSUB "" "*"',
    'LSUB "" "%"',
    'LSUB "" "P%"',
    'LIST (SUBSCRIBED) "" "*"',
    'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN)',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"',
    'LIST "" "*" RETURN (SUBSCRIBED)',
    'LIST "" "*" RETURN (CHILDREN SPECIAL-USE)',
    'LIST "" "%" RETURN (SUBSCRIBED CHILDREN SPECIAL-USE)',
    'LIST (SPECIAL-USE) "" "*"',
    'LIST (SPECIAL-USE SUBSCRIBED) "" "*" RETURN (CHILDREN)',
    'LIST "" ("INBOX" "P*" "inbox")',
    'LIST (REMOTE) "" "%"',
    'LIST () "" ""',
    'LIST "" "%" RETURN (STATUS (MESSAGES UIDNEXT UNSEEN))',
    'LIST (RECURSIVEMATCH) "" "%"',
    'LIST "" "%" RETURN (STATUS ())',
    "MYRIGHTS INBOX",
    "GETACL INBOX",
    "GETACL Nowhere",
)


@pytest.fixture
def twin(user: TestUser) -> Iterator[dovecot.Dovecot]:
    """A Dovecot where the user has the same login and password."""
    root = Path(tempfile.mkdtemp(prefix="hx-dovecot-list-"))
    server = dovecot.Dovecot(root, {user.email: user.password}, TWIN_CONFIG)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


QUOTED_ATOM = re.compile(rb'"([^\x00-\x20"\\(){%*\]\x7f-\xff]+)"')


def answers(client: Raw, command: str) -> tuple[bytes, list[bytes]]:
    """The status word and the untagged answers, a string that could be an atom written as
    one (RFC 3501 lets a server quote it or not), in name order."""
    lines = client.command(b"d", command.encode())
    untagged = sorted(QUOTED_ATOM.sub(rb"\1", line) for line in lines[:-1])
    return lines[-1].split(b" ")[1], untagged


async def test_list_extended_answers_as_dovecot_does(raw, user: TestUser, twin: dovecot.Dovecot) -> None:
    ours, theirs = raw(user), Raw(twin.imap_port)
    try:
        theirs.login(user)
        for command in SETUP:
            assert answers(ours, command)[0] == answers(theirs, command)[0] == b"OK", command
        compared = 0
        for command in COMPARED:
            (ours_status, ours_lines), (their_status, their_lines) = answers(ours, command), answers(theirs, command)
            assert ours_status == their_status, command
            assert ours_lines == their_lines, (command, sorted(set(ours_lines) ^ set(their_lines)))
            compared += len(ours_lines)
        assert compared > 100
    finally:
        theirs.close()
