"""NOTIFY (RFC 5465): the client says which events it wants to hear about, in the
selected folder and in others, and hears them as they happen, between commands and in
IDLE, never in the middle of a command.

The session hears every folder change the process hears (:meth:`.notify.Hub.listen`),
keeps the folder ids that changed, and when it may speak asks the store for their names
and counters — only for folders the user may view, so a change in a mailbox without a
grant, or in another organisation, leaves no trace — and sends ``* STATUS`` for those an
event group covers. The selected folder keeps its own machinery
(:meth:`.command_base.SessionBase.report_changes`): with a ``SELECTED`` group its
changes are told at once, with ``SELECTED-DELAYED`` at the next command that may report
expunges (RFC 3501 7.4.1) or in IDLE; without either (or with ``SELECTED NONE``, or after
NOTIFY NONE) not at all, the session keeping a snapshot until it asks again (RFC 5465
3.1 and 5, as Dovecot).

MailboxName and SubscriptionChange (RFC 5465 5.4 and 5.5) are told as ``* LIST``: a
folder created, renamed (with ``("OLDNAME" ("old"))``) or deleted (``\\NonExistent``)
in a mailbox the user may view, wherever the change was made (IMAP, webmail, API), and a
name added to or removed from the user's own subscriptions (with ``\\Subscribed`` or
without). A group covers a rename when it covers the old name or the new one.

Not heard of: AnnotationChange and the METADATA events (no ANNOTATE or METADATA here):
asking for them is ``NO [BADEVENT]``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import ClassVar

from hexagone.mail.imap import wire
from hexagone.mail.imap.account import SHARED_PREFIX, Status
from hexagone.mail.imap.arguments import Args, format_uid_set
from hexagone.mail.imap.command_base import AUTH, CommandTable, SessionBase
from hexagone.mail.imap.fetch import parse_fetch
from hexagone.mail.imap.notify import hub
from hexagone.mail.imap.parser import Atom, CommandError, Token
from hexagone.mail.service.mailboxes import DELIMITER, INBOX

SUPPORTED = ("MessageNew", "MessageExpunge", "FlagChange", "MailboxName", "SubscriptionChange")
UNSUPPORTED = ("AnnotationChange", "MailboxMetadataChange", "ServerMetadataChange")
KNOWN = SUPPORTED + UNSUPPORTED
MESSAGE_EVENTS = frozenset({"MessageNew", "MessageExpunge", "FlagChange", "AnnotationChange"})
SELECTED_FILTERS = ("SELECTED", "SELECTED-DELAYED")
OTHER_FILTERS = ("INBOXES", "PERSONAL", "SUBSCRIBED", "SUBTREE", "MAILBOXES")
KINDS = {"added": "MessageNew", "expunged": "MessageExpunge", "flags": "FlagChange"}
MAX_GROUPS = 50
MAX_NAMES = 1000
MAX_PENDING = 1000  # folders changed and not yet told: past this, NOTIFICATIONOVERFLOW


@dataclass(frozen=True)
class NameChange:
    """A folder created, renamed or deleted, as the store announced it (RFC 5465 5.4)."""

    mailbox_id: str
    name: str
    old: str
    kind: str


@dataclass(frozen=True)
class Group:
    """One event group: which folders (a filter and, for SUBTREE and MAILBOXES, names),
    which events, and for MessageNew in the selected folder the FETCH items to send."""

    filter: str
    names: tuple[str, ...]
    events: frozenset[str]
    fetch: Token | None = None

    def covers(self, name: str, subscribed: set[str]) -> bool:
        """Whether the group covers a folder other than the selected one (RFC 5465 6)."""
        if self.filter == "INBOXES":
            return name == INBOX
        if self.filter == "PERSONAL":
            return not name.startswith(SHARED_PREFIX)
        if self.filter == "SUBSCRIBED":
            return name in subscribed
        if self.filter == "MAILBOXES":
            return name in self.names
        return any(name == root or name.startswith(root + DELIMITER) for root in self.names)


@dataclass
class Notifying:
    """What one session asked to hear (no groups: NOTIFY NONE) and what it has not told yet."""

    groups: tuple[Group, ...]
    mailboxes: set[str]  # the mailboxes the user could view at NOTIFY SET: others are not even looked up
    pending: dict[str, set[str]]
    names: list[NameChange] = field(default_factory=list)
    subscriptions: list[tuple[str, bool]] = field(default_factory=list)

    def asks(self, event: str) -> bool:
        return any(event in group.events for group in self.groups)

    @property
    def selected_group(self) -> Group | None:
        return next((g for g in self.groups if g.filter in SELECTED_FILTERS), None)

    def events_for(self, name: str, subscribed: set[str]) -> frozenset[str]:
        """The events asked for a folder other than the selected one: the first group
        that covers it decides (as in Dovecot), so a narrower group written first wins."""
        for group in self.groups:
            if group.filter not in SELECTED_FILTERS and group.covers(name, subscribed):
                return group.events
        return frozenset()


def _names(token: Token) -> tuple[str, ...]:
    tokens: list[Token] = token if isinstance(token, list) else [token]
    if not tokens or len(tokens) > MAX_NAMES:
        raise CommandError("Expected one or more mailbox names")
    reader, names = Args(tokens), []
    while reader.more():
        name = reader.mailbox()
        names.append(INBOX if name.upper() == INBOX else name)
    return tuple(names)


def _events(token: Token, selected: bool) -> tuple[frozenset[str], Token | None]:
    """An event list (or NONE) and MessageNew's FETCH items, checked as RFC 5465 5 says:
    MessageNew and MessageExpunge together, FlagChange only with both, only message
    events for the selected folder (BAD otherwise), and NO [BADEVENT] for an event we do
    not report."""
    if isinstance(token, Atom) and token.upper() == "NONE":
        return frozenset(), None
    if not isinstance(token, list) or not token:
        raise CommandError("Expected a list of events or NONE")
    known = {name.upper(): name for name in KNOWN}
    events: set[str] = set()
    fetch: Token | None = None
    reader = Args(token)
    while reader.more():
        word = reader.keyword("event")
        event = known.get(word, word)  # an event of a later extension: NO [BADEVENT] below
        if event == "MessageNew" and isinstance(reader.peek(), list):
            fetch = reader.next("fetch items")
            parse_fetch(Args([fetch]), uid=True)  # refused now rather than at the first new message
        events.add(event)
    if ("MessageNew" in events) != ("MessageExpunge" in events):
        raise CommandError("MessageNew and MessageExpunge go together")
    if events & {"FlagChange", "AnnotationChange"} and "MessageNew" not in events:
        raise CommandError("FlagChange needs MessageNew and MessageExpunge")
    if selected and events - MESSAGE_EVENTS:
        raise CommandError("Only message events apply to the selected mailbox")
    if events - set(SUPPORTED):
        raise CommandError("Event not supported", status="NO", code=f"BADEVENT ({' '.join(SUPPORTED)})")
    return frozenset(events), fetch


def parse_groups(args: Args) -> tuple[Group, ...]:
    groups: list[Group] = []
    while args.more():
        reader = Args(args.list("event group"))
        name = reader.atom("mailbox filter").upper()
        if name not in SELECTED_FILTERS + OTHER_FILTERS:
            raise CommandError("Unknown mailbox filter")
        names = _names(reader.next("mailbox names")) if name in ("SUBTREE", "MAILBOXES") else ()
        events, fetch = _events(reader.next("events"), name in SELECTED_FILTERS)
        reader.end()
        groups.append(Group(name, names, events, fetch))
    if not groups:
        raise CommandError("Expected event groups")
    if sum(g.filter in SELECTED_FILTERS for g in groups) > 1:
        raise CommandError("SELECTED and SELECTED-DELAYED exclude each other")
    if len(groups) > MAX_GROUPS:
        raise CommandError("Too many event groups", status="NO", code="NOTIFICATIONOVERFLOW")
    return tuple(groups)


class NotifyCommands(SessionBase):
    COMMANDS: ClassVar[CommandTable] = {"NOTIFY": ("cmd_notify", AUTH)}
    CAPABILITIES: ClassVar[tuple[str, ...]] = ("NOTIFY",)

    notifying: Notifying | None = None

    async def cmd_notify(self, tag: str, args: Args) -> str:
        """NOTIFY NONE, or NOTIFY SET [STATUS] groups: replaces what was asked before.
        A successful SET is also a NOOP for the selected folder (RFC 5465 3.1)."""
        verb = args.keyword("SET or NONE")
        if verb == "NONE":
            args.end()
            self._start((), set())
            return "OK NOTIFY completed"
        if verb != "SET":
            raise CommandError("Expected SET or NONE")
        status = isinstance(args.peek(), Atom)
        if status and args.keyword("STATUS") != "STATUS":
            raise CommandError("Expected STATUS or an event group")
        groups = parse_groups(args)
        assert self.account is not None
        self._start(groups, {str(mailbox) for mailbox in await self.account.mailbox_ids()})
        if status:
            await self._send_current(groups)
        await self.report_changes(force=True)
        return "OK NOTIFY completed"

    @property
    def tells_selected(self) -> bool:
        if self.notifying is None:
            return True
        group = self.notifying.selected_group
        return group is not None and bool(group.events)

    def _start(self, groups: tuple[Group, ...], mailboxes: set[str]) -> None:
        self.notifying = Notifying(groups, mailboxes, {})
        if groups:
            hub.listen(self)
        else:
            hub.unlisten(self)

    def stop_notifying(self) -> None:
        hub.unlisten(self)
        self.notifying = None

    async def _send_current(self, groups: tuple[Group, ...]) -> None:
        """NOTIFY SET STATUS: the counters of every folder a group with message events
        covers, the selected one excepted (RFC 5465 3.1)."""
        assert self.account is not None and self.notifying is not None
        tree, subscribed = await self.account.listing()
        selected = self.selected.folder.id if self.selected is not None else None
        for name, node in tree.nodes.items():
            events = self.notifying.events_for(name, subscribed)
            if node.exists and events & MESSAGE_EVENTS:
                status = await self.account.status(name)
                if status.folder_id != selected:
                    self._status_response(name, status, events)

    def _status_response(self, name: str, status: Status, events: frozenset[str]) -> None:
        """The items Dovecot 2.3 tells; HIGHESTMODSEQ once CONDSTORE is on, or when flag
        changes are asked for (RFC 5465 3.1: the server supports CONDSTORE)."""
        values = b"MESSAGES %d UIDNEXT %d UIDVALIDITY %d UNSEEN %d" % (
            status.messages,
            status.uid_next,
            status.uidvalidity,
            status.unseen,
        )
        if "CONDSTORE" in self.enabled or "FlagChange" in events:
            values += b" HIGHESTMODSEQ %d" % status.highest_modseq
        self.send(b"* STATUS %b (%b)\r\n" % (wire.mailbox(name), values))

    # --- hearing and telling ------------------------------------------------------------

    def mailbox_event(self, mailbox_id: str, folder_id: str, kind: str) -> None:
        """Called by the hub for every folder change in the process: remembered, and the
        session woken if it waits for the client and may speak. A change in a mailbox the
        user could not view at NOTIFY SET is dropped here, without a query (a grant made
        since counts from the next NOTIFY SET); access is checked again when telling."""
        notifying = self.notifying
        if notifying is None or kind not in KINDS or mailbox_id not in notifying.mailboxes:
            return
        selected = self.selected is not None and str(self.selected.folder.id) == folder_id
        if selected:
            group = notifying.selected_group
            if group is not None and KINDS[kind] in group.events:
                self.conn.wake()
            return
        if not any(g.filter not in SELECTED_FILTERS and KINDS[kind] in g.events for g in notifying.groups):
            return
        if folder_id in notifying.pending or len(notifying.pending) <= MAX_PENDING:
            notifying.pending.setdefault(folder_id, set()).add(KINDS[kind])
        self.conn.wake()

    async def unsolicited(self, *, idling: bool) -> None:
        notifying = self.notifying
        if notifying is None:
            await super().unsolicited(idling=idling)
            return
        group = notifying.selected_group
        now = group is not None and group.events and (group.filter == "SELECTED" or idling)
        if now and self.selected is not None and self.selected.dirty:
            await self.report_changes()
        if notifying.pending:
            await self._tell(notifying)
        while (notifying.names or notifying.subscriptions) and self.notifying is notifying:
            await self._tell_names(notifying)  # again if more came while it waited for the database

    async def _tell(self, notifying: Notifying) -> None:
        """``* STATUS`` for the folders that changed, the user may view and a group asks
        about; past :data:`MAX_PENDING` of them, ``NOTIFICATIONOVERFLOW`` and NOTIFY NONE
        (RFC 5465 5.8)."""
        assert self.account is not None
        pending, notifying.pending = notifying.pending, {}
        if len(pending) > MAX_PENDING:
            self.send(b"* OK [NOTIFICATIONOVERFLOW] Too many changes; notifications are off\r\n")
            self._start((), set())
            return
        subscribed = (
            await self.account.subscribed() if any(g.filter == "SUBSCRIBED" for g in notifying.groups) else set()
        )
        for name, status in await self.account.statuses([uuid.UUID(f) for f in pending]):
            events = notifying.events_for(name, subscribed)
            if pending[str(status.folder_id)] & events:
                self._status_response(name, status, events)

    def name_event(self, mailbox_id: str, name: str, old: str, kind: str) -> None:
        """Called by the hub for every folder created, renamed or deleted in the process:
        kept, as :meth:`mailbox_event`, only from mailboxes the user could view."""
        notifying = self.notifying
        if notifying is None or mailbox_id not in notifying.mailboxes or not notifying.asks("MailboxName"):
            return
        if len(notifying.names) <= MAX_PENDING:
            notifying.names.append(NameChange(mailbox_id, name, old, kind))
        self.conn.wake()

    def subscription_event(self, user_id: str, name: str, subscribed: bool) -> None:
        """Called by the hub for every change of anyone's subscriptions: kept if they are
        this user's."""
        notifying = self.notifying
        if notifying is None or self.account is None or user_id != str(self.account.user.id):
            return
        if not notifying.asks("SubscriptionChange"):
            return
        if len(notifying.subscriptions) <= MAX_PENDING:
            notifying.subscriptions.append((name, subscribed))
        self.conn.wake()

    async def _tell_names(self, notifying: Notifying) -> None:
        """``* LIST`` for the folder names and subscriptions that changed, in the order
        they changed, where a group covering the name asks for them (RFC 5465 5.4, 5.5)."""
        assert self.account is not None
        changes, notifying.names = notifying.names, []
        subscriptions, notifying.subscriptions = notifying.subscriptions, []
        if len(changes) > MAX_PENDING or len(subscriptions) > MAX_PENDING:
            self.send(b"* OK [NOTIFICATIONOVERFLOW] Too many changes; notifications are off\r\n")
            self._start((), set())
            return
        subscribed = await self.account.subscribed()
        names = await self.account.known_as([(c.mailbox_id, c.name) for c in changes])
        olds = await self.account.known_as([(c.mailbox_id, c.old) for c in changes])
        for change, name, old in zip(changes, names, olds, strict=True):
            if name is None or old is None:
                continue  # the grant was withdrawn since
            wanted = notifying.events_for(name, subscribed) | (
                notifying.events_for(old, subscribed) if change.old else frozenset()
            )
            if "MailboxName" not in wanted:
                continue
            flags = b"\\NonExistent" if change.kind == "deleted" else b""
            extra = b' ("OLDNAME" (%b))' % wire.mailbox(old) if change.old else b""
            self.send(b'* LIST (%b) "%b" %b%b\r\n' % (flags, DELIMITER.encode(), wire.mailbox(name), extra))
        for name, now in subscriptions:
            if "SubscriptionChange" in notifying.events_for(name, subscribed | {name}):
                flags = b"\\Subscribed" if now else b""
                self.send(b'* LIST (%b) "%b" %b\r\n' % (flags, DELIMITER.encode(), wire.mailbox(name)))

    async def new_messages(self, uids: list[int]) -> None:
        """MessageNew's FETCH items for the messages just announced by EXISTS."""
        group = self.notifying.selected_group if self.notifying is not None else None
        if group is None or group.fetch is None or not uids:
            return
        handler, _ = self.COMMANDS["UID FETCH"]
        await getattr(self, handler)("*", Args([Atom(format_uid_set(uids)), group.fetch]))
