"""NOTIFY (RFC 5465) answered as Dovecot 2.3 answers it (with its ``notify`` plugin and
the mailbox list index, which its NOTIFY needs): the same dialogue to a throw-away Dovecot
and to ours, the STATUS and FETCH told compared once UIDVALIDITY and HIGHESTMODSEQ are set
aside. Where the two differ on purpose (BADEVENT's list, the combinations RFC 5465 5
forbids, the implicit NOOP of NOTIFY SET), docs/mail-imap.md says so and these tests do
not compare."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mail.factories import make_mail_user, make_message
from tests.mail.imap.conftest import Raw
from tests.mail.migration.dovecot import CONFIG, Dovecot

pytestmark = pytest.mark.usefixtures("migrated")

PASSWORD = "dovecot-password"
WITH_NOTIFY = CONFIG + "mailbox_list_index = yes\nmail_plugins = $mail_plugins notify\n"
EVENTS = b"(MessageNew MessageExpunge FlagChange)"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    root = Path(tempfile.mkdtemp(prefix="hx-dovecot-notify-"))
    server = Dovecot(root, {f"user{n}": PASSWORD for n in range(4)}, WITH_NOTIFY).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _signed_in(dovecot: Dovecot, login: str) -> Raw:
    session = Raw(dovecot.imap_port)
    assert session.command(b"l", b"LOGIN %b %b" % (login.encode(), PASSWORD.encode()))[-1].startswith(b"l OK")
    return session


async def _watchers(raw, dovecot: Dovecot, login: str) -> list[tuple[Raw, Raw]]:
    """On each server (ours, then Dovecot) a watcher and a writer, with a Projects folder."""
    user = await make_mail_user()
    pairs = []
    for opened in (lambda: raw(user), lambda: _signed_in(dovecot, login)):
        watcher, writer = opened(), opened()
        assert writer.command(b"c", b"CREATE Projects")[-1].startswith(b"c OK")
        pairs.append((watcher, writer))
    return pairs


def _append(writer: Raw, folder: bytes) -> None:
    message = make_message(subject="notify")
    writer.send(b"a APPEND %b {%d+}\r\n%b\r\n" % (folder, len(message), message))
    assert writer.until(b"a")[-1].startswith(b"a OK")


def _told(lines: list[bytes]) -> list[bytes]:
    """Untagged STATUS, EXISTS and FETCH, names unquoted and UIDVALIDITY set aside."""
    kept = [line for line in lines if re.match(rb"\* (STATUS|\d+ EXISTS|\d+ FETCH)", line)]
    for pattern, own in ((rb"UIDVALIDITY \d+", b"UIDVALIDITY v"), (rb"HIGHESTMODSEQ \d+", b"HIGHESTMODSEQ m")):
        kept = [re.sub(pattern, own, line) for line in kept]
    return [line.replace(b'"', b"") for line in kept]


async def test_dovecot_same_status_for_a_new_message_in_another_folder(raw, dovecot: Dovecot) -> None:
    answers = []
    for watcher, writer in await _watchers(raw, dovecot, "user0"):
        told = watcher.command(b"n", b"NOTIFY SET STATUS (MAILBOXES Projects %b)" % EVENTS)
        _append(writer, b"Projects")
        answers.append(_told(told) + _told([watcher.line()]))  # told between commands, unasked
    assert (
        answers[0]
        == answers[1]
        == [
            b"* STATUS Projects (MESSAGES 0 UIDNEXT 1 UIDVALIDITY v UNSEEN 0 HIGHESTMODSEQ m)",
            b"* STATUS Projects (MESSAGES 1 UIDNEXT 2 UIDVALIDITY v UNSEEN 1 HIGHESTMODSEQ m)",
        ]
    )


async def test_dovecot_same_snapshot_then_selected_fetch(raw, dovecot: Dovecot) -> None:
    """Both keep the selected folder a snapshot without SELECTED; with it both tell EXISTS
    and the FETCH items asked (Dovecot skips RFC 5465 3.1's implicit NOOP at NOTIFY SET,
    so the two answers are compared once a second message has come)."""
    answers = []
    for watcher, writer in await _watchers(raw, dovecot, "user1"):
        watcher.command(b"s", b"SELECT Projects")
        watcher.command(b"n", b"NOTIFY SET (INBOXES (MessageNew MessageExpunge))")
        _append(writer, b"Projects")
        snapshot = _told(watcher.command(b"q", b"NOOP"))
        told = _told(watcher.command(b"m", b"NOTIFY SET (SELECTED (MessageNew (UID FLAGS) MessageExpunge))"))
        _append(writer, b"Projects")
        told += _told(watcher.command(b"r", b"NOOP"))
        answers.append(
            (snapshot, [line for line in told if b"EXISTS" in line][-1], sorted(set(told) - {b"* 1 EXISTS"}))
        )
    assert answers[0] == answers[1]
    told = [b"* 1 FETCH (UID 1 FLAGS (\\Recent))", b"* 2 EXISTS", b"* 2 FETCH (UID 2 FLAGS (\\Recent))"]
    assert answers[0] == ([], b"* 2 EXISTS", told)
