"""The extensions answered as Dovecot 2.3 answers them: the same dialogue sent to a
throw-away Dovecot and to ours, the answers compared as IMAP values once what is each
server's own (UIDVALIDITY, mod-sequences, a literal8's ``~``) is set aside. Where the two
differ on purpose, docs/mail-imap.md says so and these tests do not compare."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import TestUser
from tests.mail.factories import make_mail_user, make_message
from tests.mail.imap.conftest import Raw
from tests.mail.imap.differential.harness import parse_values
from tests.mail.migration.dovecot import Dovecot

pytestmark = pytest.mark.usefixtures("migrated")

PASSWORD = "dovecot-password"
ATTACHED = make_message(
    subject="binary", body="Bonjour é\n", attachments=(("x.bin", b"\x00\x01binary\xff", "application/octet-stream"),)
)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    root = Path(tempfile.mkdtemp(prefix="hx-dovecot-ext-"))
    server = Dovecot(root, {f"user{n}": PASSWORD for n in range(8)}).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


class Both:
    """The same commands to Dovecot (as ``login``) and to ours (as ``user``)."""

    def __init__(self, raw, dovecot: Dovecot, login: str, user: TestUser):
        self.raw, self.dovecot, self.login, self.user = raw, dovecot, login, user

    def sessions(self) -> tuple[Raw, Raw]:
        theirs = Raw(self.dovecot.imap_port)
        assert theirs.command(b"l", b"LOGIN %b %b" % (self.login.encode(), PASSWORD.encode()))[-1].startswith(b"l OK")
        return self.raw(self.user), theirs

    def run(self, sessions: tuple[Raw, Raw], command: bytes) -> tuple[list[bytes], list[bytes]]:
        ours, theirs = sessions
        return ours.command(b"t", command), theirs.command(b"t", command)


_OWN = [
    (re.compile(rb"MODSEQ \(\d+\)"), b"MODSEQ (m)"),
    (re.compile(rb"\[(HIGHESTMODSEQ|UIDVALIDITY) \d+\]"), rb"[\1 n]"),
    (re.compile(rb"\[APPENDUID \d+ "), b"[APPENDUID v "),
    (re.compile(rb"~\{"), b"{"),  # literal or literal8: the server's choice (RFC 3516 4.2)
]


def _own_set_aside(line: bytes) -> bytes:
    for pattern, replacement in _OWN:
        line = pattern.sub(replacement, line)
    return line


def _values(lines: list[bytes], wanted: bytes) -> list[object]:
    """The untagged responses that start with ``wanted`` as IMAP values, without what is
    each server's own. ``lines`` are :meth:`Raw.until`'s: a literal is an item of its own,
    and the rest of its response line the item after it."""
    responses: list[bytes] = []
    state = "line"
    for item in lines:
        if state == "literal":
            responses[-1] += b"\r\n" + item
            state = "rest"
            continue
        if state == "rest":
            responses[-1] += item
        else:
            responses.append(item)
        state = "literal" if re.search(rb"\{\d+\}$", responses[-1]) else "line"
    return [parse_values(_own_set_aside(r)) for r in responses if r.startswith(wanted)]


def _tagged(lines: list[bytes]) -> bytes:
    """The tagged answer's status and response code, without its text."""
    match = re.match(rb"(\S+ (?:OK|NO|BAD))( \[[^\]]*\])?", _own_set_aside(lines[-1]))
    assert match is not None, lines
    return match.group(1) + (match.group(2) or b"")


def _append(sessions: tuple[Raw, Raw], message: bytes) -> None:
    for session in sessions:
        session.send(b"a APPEND INBOX {%d+}\r\n%b\r\n" % (len(message), message))
        assert session.until(b"a")[-1].startswith(b"a OK")


async def _five(raw, dovecot: Dovecot, login: str) -> tuple[Both, tuple[Raw, Raw]]:
    """Five messages APPENDed to both servers; a session on each."""
    both = Both(raw, dovecot, login, await make_mail_user())
    sessions = both.sessions()
    for n in range(5):
        _append(sessions, make_message(subject=f"message {n + 1}", message_id=f"<m{n}@example.net>"))
    return both, sessions


async def test_dovecot_same_qresync_select_answer(raw, dovecot: Dovecot) -> None:
    both, first = await _five(raw, dovecot, "user0")
    cached = []
    for session in first:
        lines = session.command(b"s", b"SELECT INBOX (CONDSTORE)")  # Dovecot tells HIGHESTMODSEQ then
        cached.append(
            [
                int(re.findall(rb"\[%b (\d+)\]" % key, b"\n".join(lines))[0])
                for key in (b"UIDVALIDITY", b"HIGHESTMODSEQ")
            ]
        )
        session.command(b"f", b"UID STORE 2 +FLAGS.SILENT (\\Seen)")
        session.command(b"d", b"UID STORE 4:5 +FLAGS.SILENT (\\Deleted)")
        session.command(b"x", b"EXPUNGE")
    for known in (b"", b" 1:3", b" 1:9 (1:3 1:3)"):
        answers = []
        for session, (uidvalidity, modseq) in zip(both.sessions(), cached, strict=True):
            session.command(b"e", b"ENABLE QRESYNC")
            lines = session.command(b"s", b"SELECT INBOX (QRESYNC (%d %d%b))" % (uidvalidity, modseq, known))
            answers.append((_values(lines, b"* VANISHED"), _values(lines, b"* 2 FETCH"), _tagged(lines)))
        assert answers[0] == answers[1], known
        assert answers[0][1], known  # UID 2 changed: both report it


async def test_dovecot_same_qresync_errors(raw, dovecot: Dovecot) -> None:
    both, sessions = await _five(raw, dovecot, "user1")
    ours, theirs = both.run(sessions, b"SELECT INBOX (QRESYNC (1 1))")  # before ENABLE QRESYNC
    assert _tagged(ours) == _tagged(theirs) == b"t BAD"
    for session in sessions:
        session.command(b"e", b"ENABLE QRESYNC")
    for command in (
        b"SELECT INBOX (QRESYNC (1))",
        b"SELECT INBOX (QRESYNC (1 1 1:*))",
        b"SELECT INBOX (QRESYNC (1 1 1:3 (1:3 1,3)))",
    ):
        ours, theirs = both.run(sessions, command)
        assert _tagged(ours) == _tagged(theirs) == b"t BAD", command


async def test_dovecot_same_binary_answers(raw, dovecot: Dovecot) -> None:
    both = Both(raw, dovecot, "user2", await make_mail_user())
    sessions = both.sessions()
    _append(sessions, ATTACHED)
    for session in sessions:
        session.command(b"s", b"SELECT INBOX")
    for items in (b"BINARY.PEEK[2]", b"BINARY.SIZE[1] BINARY.SIZE[2]", b"BINARY.PEEK[2]<2.3>", b"BINARY.PEEK[1]<0.4>"):
        ours, theirs = both.run(sessions, b"FETCH 1 (%b)" % items)
        assert _values(ours, b"* 1 FETCH") == _values(theirs, b"* 1 FETCH") != [], items


async def test_dovecot_same_multiappend_and_catenate(raw, dovecot: Dovecot) -> None:
    both, sessions = await _five(raw, dovecot, "user3")
    one, two = b"Subject: one\r\n\r\nbody one\r\n", b"Subject: two\r\n\r\nbody two\r\n"
    for command in (
        b"APPEND INBOX {%d+}\r\n%b (\\Flagged) {%d+}\r\n%b" % (len(one), one, len(two), two),
        b"APPEND INBOX {%d+}\r\n%b foo" % (len(one), one),
        b"APPEND Nowhere {%d+}\r\n%b {%d+}\r\n%b" % (len(one), one, len(two), two),
        b'APPEND INBOX CATENATE (TEXT {%d+}\r\n%b URL "/INBOX/;UID=1/;SECTION=TEXT")' % (len(one), one),
        b'APPEND INBOX CATENATE (URL "/INBOX/;UID=99")',
        b"APPEND INBOX CATENATE ()",
    ):
        ours, theirs = both.run(sessions, command)
        assert _tagged(ours) == _tagged(theirs), command
    answers = []
    for session in sessions:
        session.command(b"s", b"SELECT INBOX")
        answers.append(_values(session.command(b"f", b"FETCH 6:* (FLAGS BODY.PEEK[])"), b"* "))
    assert answers[0] == answers[1] and len(answers[0]) == 3  # the MULTIAPPEND's two, CATENATE's one
