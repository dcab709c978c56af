"""IMAP4rev2 (RFC 9051) beside IMAP4rev1: both are advertised, and ``ENABLE IMAP4rev2``
turns a session to rev2's semantics (no \\Recent, SEARCH answered with ESEARCH, UTF-8
mailbox names, a LIST response in SELECT, OLDNAME after RENAME, no LSUB nor CHECK). The
extensions RFC 9051 folds in are tested in their own files; here they are run once more in
a rev2 session. A session that does not enable it keeps IMAP4rev1's answers."""

from __future__ import annotations

import pytest

from tests.factories import TestUser
from tests.mail.factories import deliver, grant_shared, make_mail_org, make_mail_user, make_message

pytestmark = pytest.mark.usefixtures("migrated")


def _rev2(raw, user: TestUser):
    client = raw(user)
    assert client.command(b"e", b"ENABLE IMAP4rev2") == [b"* ENABLED IMAP4rev2", b"e OK ENABLE completed"]
    return client


def test_imap4rev2_is_advertised_beside_imap4rev1_before_and_after_login(raw, user: TestUser) -> None:
    client = raw()
    assert client.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 ")
    before = client.command(b"c", b"CAPABILITY")[0].split()
    client.login(user)
    after = client.command(b"c", b"CAPABILITY")[0].split()
    for capabilities in (before, after):
        assert capabilities[2:4] == [b"IMAP4rev1", b"IMAP4rev2"]
    assert b"ENABLE" in before and b"IMAP4rev2" not in after[4:]


async def test_imap4rev1_libraries_see_both_versions_and_keep_rev1_answers(connect, imapclient, five: TestUser) -> None:
    """imaplib and imapclient never enable IMAP4rev2: \\Recent, SEARCH, LSUB and CHECK
    answer them as before."""
    client = connect(five)
    assert {"IMAP4REV1", "IMAP4REV2"} <= set(client.capabilities) and client.PROTOCOL_VERSION == "IMAP4REV1"
    assert client.select("INBOX") == ("OK", [b"5"]) and client.recent() == ("OK", [b"5"])
    assert client.search(None, "RECENT") == ("OK", [b"1 2 3 4 5"])
    assert client.lsub()[0] == "OK" and client.check() == ("OK", [b"NOOP completed"])
    other = imapclient(five)
    assert b"IMAP4REV2" in other.capabilities()
    other.select_folder("INBOX")
    assert other.search("ALL") == [1, 2, 3, 4, 5] and other.folder_status("INBOX", ["RECENT"]) == {b"RECENT": 0}


async def test_imap4rev2_select_and_arrivals_have_no_recent(raw, five: TestUser) -> None:
    client = _rev2(raw, five)
    lines = client.command(b"s", b"SELECT INBOX")
    assert b"* 5 EXISTS" in lines and not any(line.endswith(b" RECENT") for line in lines)
    assert b"\\Recent" not in b"".join(client.command(b"f", b"FETCH 1:* (FLAGS)"))
    await deliver(five, subject="new")
    lines = client.command(b"n", b"NOOP")
    assert lines[0] == b"* 6 EXISTS" and not any(line.endswith(b" RECENT") for line in lines)


async def test_imap4rev2_idle_announces_arrivals_without_recent(raw, five: TestUser) -> None:
    client = _rev2(raw, five)
    client.command(b"s", b"SELECT INBOX")
    client.send(b"i IDLE\r\n")
    assert client.line() == b"+ idling"
    message = make_message(subject="while idling")
    raw(five).command(b"a", b"APPEND INBOX {%d+}\r\n%b" % (len(message), message))
    assert client.line() == b"* 6 EXISTS"
    client.send(b"DONE\r\n")
    assert client.until(b"i") == [b"i OK IDLE terminated"]


async def test_imap4rev2_search_answers_esearch(raw, five: TestUser) -> None:
    client = _rev2(raw, five)
    client.command(b"s", b"SELECT INBOX")
    client.command(b"d", b"STORE 2,4 +FLAGS.SILENT (\\Flagged)")
    assert client.command(b"a", b"SEARCH UNFLAGGED")[0] == b'* ESEARCH (TAG "a") ALL 1,3,5'
    assert client.command(b"b", b"UID SEARCH FLAGGED")[0] == b'* ESEARCH (TAG "b") UID ALL 2,4'
    assert client.command(b"c", b'SEARCH SUBJECT "nothing like it"')[0] == b'* ESEARCH (TAG "c")'
    assert client.command(b"d", b"SEARCH RETURN (COUNT) ALL")[0] == b'* ESEARCH (TAG "d") COUNT 5'
    assert client.command(b"e", b'UID SEARCH CHARSET UTF-8 SUBJECT "r\xc3\xa9union"')[0] == b'* ESEARCH (TAG "e") UID'


async def test_imap4rev1_session_keeps_search_and_recent(raw, five: TestUser) -> None:
    client = raw(five)
    lines = client.command(b"s", b"SELECT INBOX")
    assert b"* 5 RECENT" in lines
    assert client.command(b"a", b"SEARCH ALL")[0] == b"* SEARCH 1 2 3 4 5"


async def test_imap4rev2_names_are_utf8(raw, user: TestUser) -> None:
    client = _rev2(raw, user)
    assert client.command(b"a", 'CREATE "Réunions"'.encode())[-1].startswith(b"a OK")
    lines = client.command(b"l", b'LIST "" "R*"')
    assert lines[0] == '* LIST (\\HasNoChildren) "/" "Réunions"'.encode()


@pytest.mark.parametrize("command", [b"COPY 1 Nowhere", b"MOVE 1 Nowhere", b"UID COPY 1 Nowhere"])
async def test_copy_or_move_to_a_missing_folder_is_trycreate(raw, five: TestUser, command: bytes) -> None:
    client = raw(five)
    client.command(b"s", b"SELECT INBOX")
    assert client.command(b"c", command) == [b"c NO [TRYCREATE] No such mailbox"]


async def test_imap4rev2_select_sends_the_folder_list_response_and_no_unseen(raw, five: TestUser) -> None:
    """RFC 9051 6.3.2: LIST is a required untagged response of SELECT; [UNSEEN] is gone."""
    client = _rev2(raw, five)
    lines = client.command(b"s", b"SELECT inbox")
    assert b'* LIST (\\HasNoChildren) "/" "INBOX"' in lines
    assert not any(b"[UNSEEN" in line for line in lines)
    assert lines[-1] == b"s OK [READ-WRITE] SELECT completed"
    client.command(b"c", b"CREATE Sent/2026")
    lines = client.command(b"e", b"EXAMINE Sent")
    assert b'* LIST (\\HasChildren \\Sent) "/" "Sent"' in lines


async def test_imap4rev1_select_and_rename_send_no_list(raw, five: TestUser) -> None:
    client = raw(five)
    lines = client.command(b"s", b"SELECT INBOX")
    assert b"* OK [UNSEEN 1] First unseen" in lines and not any(line.startswith(b"* LIST") for line in lines)
    client.command(b"c", b"CREATE Projects")
    assert client.command(b"r", b"RENAME Projects Archive/Projects") == [b"r OK RENAME completed"]


async def test_imap4rev2_rename_sends_list_with_oldname(raw, user: TestUser) -> None:
    """RFC 9051 7.3.1: the OLDNAME extended data item names what the mailbox was called."""
    client = _rev2(raw, user)
    client.command(b"c", 'CREATE "Réunions"'.encode())
    assert client.command(b"r", b'RENAME "R\xc3\xa9unions" Archive/2026') == [
        '* LIST (\\HasNoChildren) "/" "Archive/2026" ("OLDNAME" ("Réunions"))'.encode(),
        b"r OK RENAME completed",
    ]


async def test_imap4rev2_rename_of_inbox_lists_the_new_folder_without_oldname(raw, five: TestUser) -> None:
    """INBOX keeps its name when renamed (its messages move), so it is no OLDNAME."""
    client = _rev2(raw, five)
    lines = client.command(b"r", b"RENAME INBOX Old")
    assert lines == [b'* LIST (\\HasNoChildren) "/" "Old"', b"r OK RENAME completed"]


@pytest.mark.parametrize("command", [b'LSUB "" "*"', b"CHECK"])
async def test_imap4rev2_lsub_and_check_are_bad(raw, five: TestUser, command: bytes) -> None:
    """RFC 9051 appendix E: LSUB (use LIST (SUBSCRIBED)) and CHECK (use NOOP) are gone."""
    client = _rev2(raw, five)
    client.command(b"s", b"SELECT INBOX")
    name = command.split()[0]
    assert client.command(b"x", command) == [b"x BAD %b is not part of IMAP4rev2" % name]


async def test_imap4rev1_keeps_lsub_and_check(raw, five: TestUser) -> None:
    client = raw(five)
    assert client.command(b"l", b'LSUB "" "INBOX"') == [b'* LSUB () "/" "INBOX"', b"l OK LSUB completed"]
    client.command(b"s", b"SELECT INBOX")
    assert client.command(b"c", b"CHECK") == [b"c OK NOOP completed"]


REV1_RECENT_COMMANDS = (
    b"STATUS INBOX (MESSAGES RECENT)",
    b'LIST "" "INBOX" RETURN (STATUS (RECENT))',
    b"SEARCH RECENT",
    b"SEARCH NEW",
    b"SEARCH NOT OLD",
    b"UID SORT (ARRIVAL) UTF-8 RECENT",
)


@pytest.mark.parametrize("command", REV1_RECENT_COMMANDS)
async def test_imap4rev2_recent_is_no_status_item_nor_search_key(raw, five: TestUser, command: bytes) -> None:
    """RFC 9051 has no \\Recent: STATUS RECENT and SEARCH RECENT/NEW/OLD are BAD."""
    client = _rev2(raw, five)
    client.command(b"s", b"SELECT INBOX")
    lines = client.command(b"x", command)
    assert len(lines) == 1 and lines[0].startswith(b"x BAD")


async def test_imap4rev2_status_size_and_deleted(raw, five: TestUser) -> None:
    """RFC 9051 6.3.11: STATUS SIZE and DELETED, also through LIST RETURN (STATUS)."""
    client = _rev2(raw, five)
    client.command(b"s", b"SELECT INBOX")
    client.command(b"d", b"STORE 1:2 +FLAGS.SILENT (\\Deleted)")
    size = client.command(b"z", b"STATUS INBOX (SIZE)")[0]
    assert size.startswith(b'* STATUS "INBOX" (SIZE ') and int(size.split()[-1].rstrip(b")")) > 0
    assert client.command(b"t", b"STATUS INBOX (DELETED MESSAGES)")[0] == b'* STATUS "INBOX" (DELETED 2 MESSAGES 5)'
    lines = client.command(b"l", b'LIST "" "INBOX" RETURN (STATUS (DELETED))')
    assert lines[:2] == [b'* LIST () "/" "INBOX"', b'* STATUS "INBOX" (DELETED 2)']


async def test_imap4rev2_folded_in_extensions_answer_in_a_rev2_session(raw, five: TestUser) -> None:
    """RFC 9051 folds in SEARCHRES ($), UIDPLUS (UID EXPUNGE, COPYUID), MOVE, BINARY,
    NAMESPACE, UNSELECT and LIST-EXTENDED's \\NonExistent: one dialogue through them."""
    client = _rev2(raw, five)
    client.command(b"s", b"SELECT INBOX")
    assert client.command(b"a", b"SEARCH RETURN (SAVE) 2:3") == [b"a OK SEARCH completed"]
    assert client.command(b"b", b"FETCH $ (UID)")[:2] == [b"* 2 FETCH (UID 2)", b"* 3 FETCH (UID 3)"]
    client.command(b"c", b"STORE 1,5 +FLAGS.SILENT (\\Deleted)")
    assert client.command(b"d", b"UID EXPUNGE 5") == [b"* 5 EXPUNGE", b"d OK EXPUNGE completed"]
    lines = client.command(b"m", b"UID MOVE 2 Archive")
    assert lines[0].startswith(b"* OK [COPYUID ") and lines[1:] == [b"* 2 EXPUNGE", b"m OK MOVE completed"]
    assert client.command(b"f", b"FETCH 1 (BINARY.SIZE[1])")[0].startswith(b"* 1 FETCH (BINARY.SIZE[1] ")
    assert client.command(b"n", b"NAMESPACE")[0] == b'* NAMESPACE (("" "/")) NIL (("Shared/" "/"))'
    assert client.command(b"u", b"UNSELECT") == [b"u OK UNSELECT completed"]
    client.command(b"g", b"SUBSCRIBE Gone")
    assert b'* LIST (\\Subscribed \\NonExistent) "/" "Gone"' in client.command(b"l", b'LIST (SUBSCRIBED) "" "G*"')


async def test_imap4rev2_select_and_rename_of_others_folders_list_nothing(raw) -> None:
    """A colleague's folder that is not shared, or another organisation's, is NONEXISTENT:
    no LIST response tells its name or attributes."""
    org = await make_mail_org()
    alice, bob = await make_mail_user(org), await make_mail_user(org)
    outsider = await make_mail_user()
    await grant_shared(org, f"accueil@{org.domain}", alice, can_write=False)
    client = _rev2(raw, bob)
    for owner in (alice.email, outsider.email, f"accueil@{org.domain}"):
        name = b'"Shared/%b/INBOX"' % owner.encode()
        assert client.command(b"s", b"SELECT " + name) == [b"s NO [NONEXISTENT] No such mailbox"]
        lines = client.command(b"r", b"RENAME %b Mine" % name)
        assert len(lines) == 1 and lines[0].startswith(b"r NO")
    assert client.command(b"l", b'LIST "" "Mine"') == [b"l OK LIST completed"]
