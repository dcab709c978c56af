"""What every IMAP command works on: one base class holding a session's connection,
state, signed-in account and selected folder, and the helpers that write untagged
replies and report other sessions' changes.

The command groups (:mod:`.commands_auth`, :mod:`.commands_folders`,
:mod:`.commands_messages`) extend :class:`SessionBase`, and
:class:`~hexagone.mail.imap.session.Session` composes them with the command loop: the
commands know this class only, never the session, so no import goes both ways.
"""

from __future__ import annotations

from collections.abc import Iterable

from hexagone.core.config import Settings
from hexagone.mail.imap import messages
from hexagone.mail.imap.account import Account
from hexagone.mail.imap.connection import Connection
from hexagone.mail.imap.fetch import flags
from hexagone.mail.imap.literals import LiteralPermit
from hexagone.mail.imap.notify import hub
from hexagone.mail.imap.selected import Selected
from hexagone.mail.imap.state import State


class SessionBase:
    """The state of one client, from greeting to BYE, and the replies every command writes."""

    def __init__(self, conn: Connection, settings: Settings):
        self.conn = conn
        self.settings = settings
        self.state = State.NOT_AUTHENTICATED
        self.account: Account | None = None
        self.selected: Selected | None = None
        self.enabled: set[str] = set()
        self.idling = False
        self.bad_commands = 0  # consecutive BAD answers
        self.literal_permit = LiteralPermit()

    def send(self, data: bytes) -> None:
        self.conn.write(data)

    # --- the selected folder and other sessions' changes ------------------------------

    def select(self, selected: Selected) -> None:
        self.deselect()
        self.selected = selected
        self.state = State.SELECTED
        hub.watch(selected.folder.id, self)

    def deselect(self) -> None:
        if self.selected is not None:
            hub.unwatch(self.selected.folder.id, self)
            self.selected = None
        if self.state == State.SELECTED:
            self.state = State.AUTHENTICATED

    def folder_changed(self) -> None:
        """Called by the notification hub: the selected folder changed somewhere."""
        if self.selected is not None:
            self.selected.dirty = True
            if self.idling:
                self.conn.wake()

    async def report_changes(self, *, expunge: bool = True, force: bool = False) -> None:
        """Catch up with the folder and announce what changed, as untagged responses."""
        selected = self.selected
        if selected is None or not (selected.dirty or force) or not expunge:
            return
        assert self.account is not None
        selected.dirty = False
        changes = await messages.changes(
            self.account, selected.folder.id, selected.modseq, selected.max_uid, selected.exists
        )
        if changes is None:
            return
        updates = selected.apply(changes)
        for number in updates.expunged:
            self.send(b"* %d EXPUNGE\r\n" % number)
        if updates.exists is not None:
            self.send(b"* %d EXISTS\r\n* %d RECENT\r\n" % (updates.exists, len(selected.recent)))
        self.announce_keywords(kw for _, row in updates.flags for kw in row.keywords or ())
        condstore = "CONDSTORE" in self.enabled
        for number, row in updates.flags:
            modseq = b" MODSEQ (%d)" % row.modseq if condstore else b""
            self.send(
                b"* %d FETCH (UID %d FLAGS %b%b)\r\n"
                % (number, row.uid, flags(row, row.uid in selected.recent), modseq)
            )

    def announce_keywords(self, keywords: Iterable[str]) -> None:
        """Send FLAGS again when a keyword new to the folder appears."""
        selected = self.selected
        if selected is None:
            return
        new = [k for k in dict.fromkeys(keywords) if k not in selected.keywords]
        if new:
            selected.keywords += new
            self.send_flags()

    def send_flags(self) -> None:
        assert self.selected is not None
        names = " ".join(["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", *self.selected.keywords])
        self.send(b"* FLAGS (%b)\r\n" % names.encode())
        if self.selected.read_only:
            self.send(b"* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n")
        else:
            self.send(b"* OK [PERMANENTFLAGS (%b \\*)] Flags permitted\r\n" % names.encode())
