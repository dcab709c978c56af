"""Mixed IMAP work by several clients at once on one folder, and what it must leave behind
(issue 16): no protocol error, each message ``\\Recent`` in one session at most, no flag
and no message lost.

Each client is a thread with its own ``imaplib`` connection to one shared INBOX, and runs
for ``seconds``: it SELECTs (a new session, as far as ``\\Recent`` goes), APPENDs messages
of its own, adds and removes flags on them, marks some ``\\Deleted`` and removes them with
UID EXPUNGE, COPYs one to a folder of its own, and between those FETCHes, SEARCHes and
NOOPs over everybody's messages. A client touches the flags of its own messages only, so
it knows what each must hold at the end; what every session is told about ``\\Recent``
(``UID SEARCH RECENT`` after each SELECT and NOOP) is gathered per session.

The same work runs against Dovecot in the tests: a check that Dovecot fails would be
checking the wrong thing.
"""

from __future__ import annotations

import imaplib
import random
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

FLAGS = ("\\Seen", "\\Flagged", "\\Answered", "$Work")
_APPENDUID = re.compile(rb"APPENDUID \d+ (\d+)")
_UID = re.compile(rb"UID (\d+)")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")


@dataclass
class Outcome:
    """What the clients did and saw."""

    errors: list[str] = field(default_factory=list)
    appended: dict[int, set[str]] = field(default_factory=dict)  # UID -> the flags it must hold
    expunged: set[int] = field(default_factory=set)
    copies: dict[str, int] = field(default_factory=dict)  # folder -> messages copied there
    recent_in: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))  # UID -> sessions
    commands: int = 0

    def shared_recent(self) -> dict[int, set[str]]:
        """Messages more than one session was told were recent."""
        return {uid: sessions for uid, sessions in self.recent_in.items() if len(sessions) > 1}


def message(client: int, number: int) -> bytes:
    return (
        f"From: client{client}@example.net\r\nTo: box@example.org\r\n"
        f"Subject: client {client} message {number}\r\nMessage-ID: <c{client}.{number}@example.net>\r\n"
        f"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nBody of message {number} from client {client}.\r\n"
    ).encode()


class _Client:
    def __init__(self, index: int, connect: Callable[[], imaplib.IMAP4], outcome: Outcome, lock: threading.Lock):
        self.index, self.connect, self.outcome, self.lock = index, connect, outcome, lock
        self.rng = random.Random(index)
        self.flags: dict[int, set[str]] = {}  # this client's messages still there
        self.expunged: set[int] = set()
        self.copied = 0
        self.selects = 0
        self.commands = 0
        self.recent: list[tuple[str, list[int]]] = []

    def ok(self, typ: str, data: list, what: str) -> list:
        self.commands += 1
        if typ != "OK":
            raise imaplib.IMAP4.error(f"{what}: {typ} {data!r}"[:200])
        return data

    def note_recent(self, imap: imaplib.IMAP4, session: str) -> None:
        data = self.ok(*imap.uid("SEARCH", "RECENT"), "UID SEARCH RECENT")
        self.recent.append((session, [int(n) for n in data[0].split()]))

    def run(self, seconds: float) -> None:
        imap = self.connect()
        archive = f"Archive{self.index}"
        deadline = time.monotonic() + seconds
        number = 0
        session = ""
        try:
            while time.monotonic() < deadline:
                step = self.rng.random()
                if not session or step < 0.08:
                    self.selects += 1
                    session = f"{self.index}.{self.selects}"
                    self.ok(*imap.select("INBOX"), "SELECT")
                    self.note_recent(imap, session)
                elif step < 0.35:
                    number += 1
                    typ, data = imap.append("INBOX", "", None, message(self.index, number))
                    self.ok(typ, data, "APPEND")
                    uid = int(_APPENDUID.search(data[0]).group(1))  # type: ignore[union-attr]
                    self.flags[uid] = set()
                elif step < 0.6 and self.flags:
                    self.store(imap)
                elif step < 0.68 and self.flags:
                    self.expunge(imap)
                elif step < 0.72 and self.flags:
                    self.ok(*imap.uid("COPY", str(self.rng.choice(sorted(self.flags))), archive), "COPY")
                    self.copied += 1
                elif step < 0.85:
                    self.ok(*imap.uid("FETCH", "1:*", "(FLAGS)"), "UID FETCH")
                    self.ok(*imap.search(None, "OR", "UNSEEN", "FLAGGED"), "SEARCH")
                else:
                    self.ok(*imap.noop(), "NOOP")
                    self.note_recent(imap, session)
        finally:
            imap.logout()

    def store(self, imap: imaplib.IMAP4) -> None:
        uid = self.rng.choice(sorted(self.flags))
        flag = self.rng.choice(FLAGS)
        adding = flag not in self.flags[uid]
        self.ok(*imap.uid("STORE", str(uid), "+FLAGS.SILENT" if adding else "-FLAGS.SILENT", f"({flag})"), "STORE")
        (self.flags[uid].add if adding else self.flags[uid].discard)(flag)

    def expunge(self, imap: imaplib.IMAP4) -> None:
        """Remove one of its own messages, and only that one (UIDPLUS's UID EXPUNGE)."""
        uid = self.rng.choice(sorted(self.flags))
        self.ok(*imap.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)"), "STORE \\Deleted")
        self.ok(*imap.uid("EXPUNGE", str(uid)), "UID EXPUNGE")
        del self.flags[uid]
        self.expunged.add(uid)

    def report(self) -> None:
        with self.lock:
            self.outcome.appended.update(self.flags)
            self.outcome.expunged |= self.expunged
            self.outcome.copies[f"Archive{self.index}"] = self.copied
            self.outcome.commands += self.commands
            for session, uids in self.recent:
                for uid in uids:
                    self.outcome.recent_in[uid].add(session)


def run(connect: Callable[[], imaplib.IMAP4], *, clients: int = 10, seconds: float = 5) -> Outcome:
    """Run the work; every client's failures end up in :attr:`Outcome.errors`."""
    outcome, lock = Outcome(), threading.Lock()
    setup = connect()  # each client's own folder, made first: the work is on INBOX
    for index in range(clients):
        assert setup.create(f"Archive{index}")[0] == "OK"
    setup.logout()

    def work(index: int) -> None:
        client = _Client(index, connect, outcome, lock)
        try:
            client.run(seconds)
        except (imaplib.IMAP4.error, OSError) as error:
            with lock:
                outcome.errors.append(f"client {index}: {error}"[:300])
        client.report()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def final_flags(imap: imaplib.IMAP4) -> dict[int, set[str]]:
    """UID -> flags (``\\Recent`` aside) of every message in INBOX, read afterwards."""
    typ, data = imap.select("INBOX")
    assert typ == "OK", data
    typ, data = imap.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK", data
    found = {}
    for line in data:
        text = line if isinstance(line, bytes) else line[0]
        if (uid := _UID.search(text)) and (flags := _FLAGS.search(text)):
            found[int(uid.group(1))] = {f for f in flags.group(1).decode().split() if f != "\\Recent"}
    return found
