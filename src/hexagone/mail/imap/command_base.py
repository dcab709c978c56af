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
from typing import ClassVar

from hexagone.core.config import Settings
from hexagone.mail.imap import messages
from hexagone.mail.imap.account import Account
from hexagone.mail.imap.arguments import format_uid_set
from hexagone.mail.imap.connection import Connection
from hexagone.mail.imap.fetch import flags
from hexagone.mail.imap.literals import LiteralPermit
from hexagone.mail.imap.notify import hub
from hexagone.mail.imap.selected import Selected
from hexagone.mail.imap.state import State

ANY = frozenset({State.NOT_AUTHENTICATED, State.AUTHENTICATED, State.SELECTED})
NOT_AUTH = frozenset({State.NOT_AUTHENTICATED})
AUTH = frozenset({State.AUTHENTICATED, State.SELECTED})
SELECTED = frozenset({State.SELECTED})

CommandTable = dict[str, tuple[str, frozenset[State]]]
# RFC 9051 appendix E: gone from IMAP4rev2 (LIST (SUBSCRIBED) and NOOP replace them), so
# refused once a session enabled it; IMAP4rev1 sessions keep them.
REV1_ONLY = frozenset({"LSUB", "CHECK"})


class SessionBase:
    """The state of one client, from greeting to BYE, and the replies every command writes.

    Each command group (a subclass) declares the commands it answers (:attr:`COMMANDS`:
    name → handler method, states where it is valid) and the capabilities it adds once the
    client has signed in (:attr:`CAPABILITIES`); the session gathers them, so a group is
    added in one place."""

    COMMANDS: ClassVar[CommandTable] = {}
    CAPABILITIES: ClassVar[tuple[str, ...]] = ()

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

    @property
    def rev2(self) -> bool:
        """``ENABLE IMAP4rev2`` was sent: the session speaks RFC 9051, not RFC 3501 (no
        \\Recent, SEARCH answered with ESEARCH, a LIST in SELECT, no LSUB nor CHECK)."""
        return "IMAP4rev2" in self.enabled

    @property
    def shows_recent(self) -> bool:
        """False once IMAP4rev2 is enabled: RFC 9051 has no \\Recent flag."""
        return not self.rev2

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
        if selected is None or not (selected.dirty or force) or not expunge or not self.tells_selected:
            return
        assert self.account is not None
        selected.dirty = False
        changes = await messages.changes(
            self.account, selected.folder.id, selected.modseq, selected.max_uid, selected.exists
        )
        if changes is None:
            return
        if changes.present is not None:
            self.expunging_from_contexts(set(selected.uids).difference(changes.present))
        updates = selected.apply(changes)
        self.send_expunged(updates.expunged, updates.expunged_uids)
        if updates.added and not selected.is_claimed(updates.added[-1]):
            selected.claim(await self.account.claim_recent(selected.folder.id, claim=not selected.read_only))
        if updates.exists is not None:
            self.send_exists()
            await self.new_messages(updates.added)
        self.announce_keywords(kw for _, row in updates.flags for kw in row.keywords or ())
        condstore = "CONDSTORE" in self.enabled
        for number, row in updates.flags:
            modseq = b" MODSEQ (%d)" % row.modseq if condstore else b""
            self.send(
                b"* %d FETCH (UID %d FLAGS %b%b)\r\n"
                % (number, row.uid, flags(row, self.shows_recent and row.uid in selected.recent), modseq)
            )
        if selected.contexts:
            await self.refresh_contexts()

    @property
    def tells_selected(self) -> bool:
        """Whether other sessions' changes to the selected folder are told at all: not
        once NOTIFY left the selected folder out (RFC 5465 3.1, a snapshot, as Dovecot)."""
        return True

    async def unsolicited(self, *, idling: bool) -> None:
        """What the session tells without being asked, when it may (in IDLE, or between
        commands with nothing of the next one received): by default the selected
        folder's changes, in IDLE only; NOTIFY (:mod:`.commands_notify`) tells more."""
        if idling and self.selected is not None and self.selected.dirty:
            await self.report_changes()

    async def new_messages(self, uids: list[int]) -> None:
        """After EXISTS: the FETCH items NOTIFY's MessageNew asked for (RFC 5465 5.2)."""

    def stop_notifying(self) -> None:
        """At the end of the session: stop hearing of other folders (NOTIFY)."""

    def expunging_from_contexts(self, gone: set[int]) -> None:
        """Before EXPUNGE responses: REMOVEFROM for the live searches that held those UIDs."""
        assert self.selected is not None
        for context in self.selected.contexts.values():
            data = context.expunging(gone, self.selected.seq_of)
            if data is not None:
                self.send(
                    b'* ESEARCH (TAG "%b")%b %b\r\n' % (context.tag.encode(), b" UID" if context.uid else b"", data)
                )

    async def refresh_contexts(self) -> None:
        """Tell the client how the results of its live searches changed (RFC 5267): the
        search group (:mod:`.commands_search`) knows how."""

    def send_exists(self) -> None:
        """``* n EXISTS``, and ``* n RECENT`` unless IMAP4rev2 is on (RFC 9051 has none)."""
        assert self.selected is not None
        self.send(b"* %d EXISTS\r\n" % self.selected.exists)
        if self.shows_recent:
            self.send(b"* %d RECENT\r\n" % len(self.selected.recent))

    def send_expunged(self, numbers: list[int], uids: list[int]) -> None:
        """Say that messages left the folder: ``* n EXPUNGE`` for each sequence number
        (highest first), or once QRESYNC is on one ``* VANISHED`` with their UIDs (RFC
        7162 3.2.10: the server then never sends EXPUNGE)."""
        if "QRESYNC" not in self.enabled:
            for number in numbers:
                self.send(b"* %d EXPUNGE\r\n" % number)
        elif uids:
            self.send(b"* VANISHED %b\r\n" % format_uid_set(sorted(uids)).encode())

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
