"""QRESYNC on the message side (RFC 7162 3.2): ENABLE QRESYNC, UID FETCH's VANISHED
modifier answering VANISHED (EARLIER), and EXPUNGE, UID EXPUNGE and MOVE answering
VANISHED instead of EXPUNGE once it is on."""

from __future__ import annotations

import pytest

from tests.factories import TestUser
from tests.mail.factories import deliver
from tests.mail.imap.sessions import ok, selected

pytestmark = pytest.mark.usefixtures("migrated")


def _qresync(raw, user: TestUser):
    client = raw(user)
    assert b"QRESYNC" in client.command(b"c", b"CAPABILITY")[0].split()
    assert client.command(b"e", b"ENABLE QRESYNC")[:2] == [b"* ENABLED QRESYNC", b"e OK ENABLE completed"]
    ok(client, b"s", b"SELECT INBOX")
    return client


async def test_qresync_enable_implies_condstore(raw, five: TestUser) -> None:
    client = _qresync(raw, five)
    lines = client.command(b"f", b"FETCH 1 (FLAGS)")
    assert b"MODSEQ (" in lines[0]


async def test_qresync_uid_fetch_vanished_names_expunged_uids_earlier(raw, five: TestUser) -> None:
    client = _qresync(raw, five)
    client.command(b"d", b"UID STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    client.command(b"x", b"EXPUNGE")
    lines = client.command(b"f", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
    assert lines[0] == b"* VANISHED (EARLIER) 2,4"
    assert [line.split(b" ")[1] for line in lines[1:-1]] == [b"1", b"2", b"3"]  # sequence numbers of 1, 3, 5


async def test_qresync_vanished_without_changedsince_is_bad(raw, five: TestUser) -> None:
    client = _qresync(raw, five)
    assert client.command(b"f", b"UID FETCH 1:* (FLAGS) (VANISHED)")[-1].startswith(b"f BAD")


async def test_qresync_vanished_without_enable_is_bad(raw, five: TestUser) -> None:
    client = selected(raw, five)
    assert client.command(b"f", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")[-1].startswith(b"f BAD")


async def test_qresync_expunge_answers_vanished_not_expunge(raw, five: TestUser) -> None:
    client = _qresync(raw, five)
    client.command(b"d", b"STORE 1:2,5 +FLAGS.SILENT (\\Deleted)")
    lines = client.command(b"x", b"EXPUNGE")
    assert lines == [b"* VANISHED 1:2,5", b"x OK EXPUNGE completed"]


async def test_qresync_uid_expunge_answers_vanished(raw, five: TestUser) -> None:
    client = _qresync(raw, five)
    client.command(b"d", b"STORE 1:* +FLAGS.SILENT (\\Deleted)")
    assert client.command(b"x", b"UID EXPUNGE 3")[0] == b"* VANISHED 3"


async def test_qresync_move_answers_vanished(raw, five: TestUser) -> None:
    client = _qresync(raw, five)
    lines = client.command(b"m", b"UID MOVE 2 Archive")
    assert lines[0].startswith(b"* OK [COPYUID ") and lines[1] == b"* VANISHED 2"


async def test_expunge_without_qresync_still_answers_expunge(raw, five: TestUser) -> None:
    client = selected(raw, five)
    client.command(b"d", b"STORE 2 +FLAGS.SILENT (\\Deleted)")
    assert client.command(b"x", b"EXPUNGE")[0] == b"* 2 EXPUNGE"


async def test_qresync_uid_fetch_vanished_names_the_newest_uid_expunged_elsewhere(raw, five: TestUser) -> None:
    other = selected(raw, five)
    other.command(b"d", b"UID STORE 5 +FLAGS.SILENT (\\Deleted)")
    other.command(b"x", b"EXPUNGE")
    client = _qresync(raw, five)  # selected after the expunge: its highest UID is 4
    lines = client.command(b"f", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
    assert lines[0] == b"* VANISHED (EARLIER) 5"  # "*" is the last UID given, not the last one left


async def test_qresync_uid_fetch_vanished_never_names_an_arrival_not_yet_announced(raw, five: TestUser) -> None:
    client = _qresync(raw, five)
    await deliver(five, subject="new")  # UID 6, which the session has not announced yet
    lines = ok(client, b"f", b"UID FETCH 1:* (UID) (CHANGEDSINCE 1 VANISHED)")
    assert not any(line.startswith(b"* VANISHED") for line in lines)
