"""SORT, ESORT and THREAD answers identical to Dovecot's on the same messages: the shared
corpus, the malformed messages of :mod:`.malformed` and a set of replies of our own making
(missing parents, duplicate and absent Message-IDs, reference loops, "Re:"/"Fwd:"
subjects), in the same order on both servers with internal dates that are not in that
order (so that ARRIVAL and the Date fallback mean something): the messages ``compared``
APPENDed (``conftest.py``), COPYed into a folder of their own, then the replies."""

from __future__ import annotations

import imaplib
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.utils import format_datetime

import pytest

from tests.conftest import Server
from tests.mail.imap.differential import harness
from tests.mail.imap.differential.conftest import PASSWORD, Compared
from tests.mail.migration.dovecot import Dovecot

pytestmark = pytest.mark.usefixtures("migrated")

BASE = harness.BASE


def _reply(number: int, subject: str, references: str = "", *, message_id: str | None = None, day: int = 0) -> bytes:
    header = f"From: Person {number} <p{number}@example.org>\r\nTo: list@example.org\r\nSubject: {subject}\r\n"
    header += f"Date: {format_datetime(BASE + timedelta(days=day, hours=number))}\r\n"
    if message_id != "":
        header += f"Message-ID: {message_id or f'<t{number}@example.org>'}\r\n"
    if references:
        header += f"References: {references}\r\n"
    return (header + "\r\nText.\r\n").encode()


# Threads of our own making: RFC 5256 4's cases that a corpus seldom has.
THREADS = [
    _reply(1, "Plan"),
    _reply(2, "Re: Plan", "<t1@example.org>"),
    _reply(3, "RE: [list] Plan", "<t1@example.org> <t2@example.org>"),
    _reply(4, "Plan", "<gone@example.org>", day=-2),  # a parent never seen: a dummy
    _reply(5, "Re: Plan", "<gone@example.org>", day=-1),
    _reply(6, "Fwd: Budget", "<t7@example.org>"),  # its parent comes later
    _reply(7, "Budget"),
    _reply(8, "Budget", message_id="<t7@example.org>"),  # a duplicate Message-ID
    _reply(9, "Loop", "<t10@example.org>"),
    _reply(10, "Re: Loop", "<t9@example.org>"),  # each refers to the other
    _reply(11, "No id", message_id=""),
    _reply(12, "Re: No id", message_id=""),
    _reply(13, "[Fwd: Plan]"),
    _reply(14, "", "<t13@example.org>"),
    _reply(15, "Re: Budget (fwd)", "<t6@example.org>", day=3),
    _reply(16, "Budget", day=-5),
]

SORTS = [
    "SORT (ARRIVAL) UTF-8 ALL",
    "SORT (CC) UTF-8 ALL",
    "SORT (DATE) UTF-8 ALL",
    "SORT (FROM) UTF-8 ALL",
    "SORT (SIZE) UTF-8 ALL",
    "SORT (REVERSE SIZE) UTF-8 ALL",
    "SORT (SUBJECT) UTF-8 ALL",
    "SORT (TO) UTF-8 ALL",
    "SORT (DISPLAYFROM) UTF-8 ALL",
    "SORT (DISPLAYTO) UTF-8 ALL",
    "SORT (REVERSE DATE SUBJECT) UTF-8 ALL",
    "SORT (SUBJECT REVERSE ARRIVAL) UTF-8 ALL",
    "SORT (REVERSE FROM REVERSE DATE) UTF-8 ALL",
    "SORT (DATE) UTF-8 OR LARGER 5000 UID 1:50",
    "UID SORT (REVERSE ARRIVAL) UTF-8 1:40",
    "SORT RETURN (ALL) (REVERSE DATE) UTF-8 ALL",
    "SORT RETURN (MIN MAX COUNT) (SUBJECT) UTF-8 ALL",
    "SORT RETURN (PARTIAL 1:10) (SUBJECT) UTF-8 ALL",
    "SORT RETURN (PARTIAL 100:200) (DISPLAYFROM) UTF-8 ALL",
    "UID SORT RETURN () (SIZE) UTF-8 ALL",
    "SORT RETURN (COUNT) (SIZE) UTF-8 LARGER 100000000",
    "SORT (SIZE) UTF-8 LARGER 100000000",
]
THREADS_ASKED = [
    "THREAD REFERENCES UTF-8 ALL",
    "THREAD ORDEREDSUBJECT UTF-8 ALL",
    "UID THREAD REFERENCES UTF-8 ALL",
    'THREAD REFERENCES UTF-8 NOT SUBJECT "plan"',
    "THREAD REFERENCES UTF-8 SMALLER 3000",
    "THREAD ORDEREDSUBJECT UTF-8 UID 100:*",
    "THREAD REFERENCES UTF-8 LARGER 100000000",
]


def _answers(client: imaplib.IMAP4, commands: list[str]) -> dict[str, list[bytes]]:
    """Each command's untagged responses and the status of its completion."""
    found = {}
    for command in commands:
        tag = client._new_tag()
        client.send(tag + b" " + command.encode() + b"\r\n")
        lines = []
        while not (line := client.readline().rstrip(b"\r\n")).startswith(tag + b" "):
            lines.append(line.replace(tag, b"TAG"))
        found[command] = [*lines, line.split()[1]]
    return found


@pytest.fixture(scope="module")
def sign_in(server: Server, dovecot: Dovecot, compared: Compared) -> Iterator[Callable[[], list[imaplib.IMAP4]]]:
    """Open one signed-in client on each server, ours then Dovecot, in the accounts that
    hold ``compared``'s messages in INBOX."""
    opened: list[imaplib.IMAP4] = []

    def both() -> list[imaplib.IMAP4]:
        ours = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=60)
        ours.login(compared.user.email, compared.user.password)
        theirs = imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=60)
        theirs.login(compared.login, PASSWORD)
        opened.extend((ours, theirs))
        return [ours, theirs]

    yield both
    for client in opened:
        client.logout()


@pytest.fixture(scope="module")
def both(compared: Compared, sign_in: Callable[[], list[imaplib.IMAP4]]) -> tuple[imaplib.IMAP4, imaplib.IMAP4]:
    """Our server and Dovecot, each with a folder holding ``compared``'s messages (COPYed
    from INBOX, with their internal dates) then :data:`THREADS`, selected."""
    threads = [harness.Mail(f"threads/{n}", data) for n, data in enumerate(THREADS)]
    ours, theirs = sign_in()
    for client in (ours, theirs):
        assert client.create("Sorted")[0] == "OK"
        client.select("INBOX", readonly=True)
        assert client.copy(f"1:{len(compared.mails)}", "Sorted")[0] == "OK"
        harness.append_all(client, threads, "Sorted", first=len(compared.mails))
        client.select("Sorted", readonly=True)
    return ours, theirs


@pytest.mark.parametrize("command", SORTS)
def test_sort_answers_are_identical_to_dovecots(both: tuple[imaplib.IMAP4, imaplib.IMAP4], command: str) -> None:
    ours, theirs = both
    assert _answers(ours, [command]) == _answers(theirs, [command])


@pytest.mark.parametrize("command", THREADS_ASKED)
def test_thread_answers_are_identical_to_dovecots(both: tuple[imaplib.IMAP4, imaplib.IMAP4], command: str) -> None:
    ours, theirs = both
    assert _answers(ours, [command]) == _answers(theirs, [command])


def _sent(client: imaplib.IMAP4, tag: bytes, command: bytes) -> list[bytes]:
    """The untagged responses to one command sent with our own tag."""
    client.send(tag + b" " + command + b"\r\n")
    lines = []
    while not (line := client.readline().rstrip(b"\r\n")).startswith(tag + b" "):
        lines.append(line)
    return [*lines, line.split()[1]]


def test_context_search_updates_are_identical_to_dovecots(sign_in: Callable[[], list[imaplib.IMAP4]]) -> None:
    """Live searches (RFC 5267) in one session while another changes flags and expunges.
    Dovecot also sends REMOVEFROM for a message whose flags changed just before it was
    expunged; ours cannot (its row is gone), so no message here is both."""
    watchers, writers = sign_in(), sign_in()
    for watcher, writer in zip(watchers, writers, strict=True):
        writer.create("Live")
        harness.append_all(writer, [harness.Mail(f"threads/{n}", data) for n, data in enumerate(THREADS[:8])], "Live")
        writer.select("Live")
        watcher.select("Live")
    steps = [
        (0, b"SEARCH RETURN (UPDATE ALL) FLAGGED"),
        (0, b"UID SEARCH RETURN (UPDATE COUNT) UNANSWERED"),
        (0, b"SEARCH RETURN (UPDATE MIN PARTIAL 1:2) FLAGGED"),
        (1, b"STORE 2,4,6 +FLAGS (\\Flagged)"),
        (0, b"NOOP"),
        (1, b"STORE 2 -FLAGS (\\Flagged)"),
        (1, b"STORE 1,3 +FLAGS (\\Deleted)"),
        (1, b"STORE 5 +FLAGS (\\Answered)"),
        (1, b"EXPUNGE"),
        (0, b"NOOP"),
        (0, b'CANCELUPDATE "C1"'),
        (1, b"STORE 1 +FLAGS (\\Flagged)"),
        (0, b"NOOP"),
        (0, b'CANCELUPDATE "C1"'),
    ]
    answers = []
    for pair in zip(watchers, writers, strict=True):
        answers.append(
            [
                [line for line in _sent(pair[who], b"C%d" % number, command) if not re.search(rb"FETCH|RECENT", line)]
                for number, (who, command) in enumerate(steps, start=1)
            ]
        )
    assert answers[0] == answers[1]
