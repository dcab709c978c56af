"""Commands on folders: SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
LIST (with LIST-EXTENDED, SPECIAL-USE and LIST-STATUS), LSUB, STATUS, NAMESPACE
and the QUOTA commands."""

from __future__ import annotations

import logging
from typing import ClassVar

from hexagone.mail.imap import messages, wire
from hexagone.mail.imap.account import SHARED_PREFIX, Status
from hexagone.mail.imap.arguments import Args, decode_mailbox
from hexagone.mail.imap.command_base import AUTH, CommandTable, SessionBase
from hexagone.mail.imap.fetch import FLAG_COLUMNS, flag_list
from hexagone.mail.imap.listing import Line, ListOptions, canonical, pattern
from hexagone.mail.imap.objectid import mailbox_id
from hexagone.mail.imap.parser import Atom, CommandError, Token
from hexagone.mail.imap.qresync import Resync, format_ranges, missing, parse_resync
from hexagone.mail.imap.selected import Selected
from hexagone.mail.models import INBOX

log = logging.getLogger("hexagone.mail.imap")

STATUS_ITEMS = (
    "MESSAGES",
    "RECENT",
    "UIDNEXT",
    "UIDVALIDITY",
    "UNSEEN",
    "HIGHESTMODSEQ",
    "SIZE",
    "DELETED",
    "MAILBOXID",
    "APPENDLIMIT",
)
LIST_SELECTION = ("SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE")
LIST_RETURN = ("SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS")


def _status_items(tokens: list[Token], *, rev2: bool) -> list[str]:
    """The items asked for; RECENT is not one in IMAP4rev2 (RFC 9051 has no \\Recent)."""
    items = []
    for token in tokens:
        if not isinstance(token, Atom) or token.upper() not in STATUS_ITEMS or (rev2 and token.upper() == "RECENT"):
            raise CommandError("Unknown STATUS item")
        items.append(token.upper())
    if not items:
        raise CommandError("Missing STATUS items")
    return items


def _status_values(status: Status, items: list[str], append_limit: int) -> bytes:
    """The values of STATUS items; APPENDLIMIT (RFC 7889 3) is the same for every folder,
    the largest message APPEND takes, as the capability APPENDLIMIT=n says."""
    values = {
        "MESSAGES": status.messages,
        "RECENT": status.recent,
        "UIDNEXT": status.uid_next,
        "UIDVALIDITY": status.uidvalidity,
        "UNSEEN": status.unseen,
        "HIGHESTMODSEQ": status.highest_modseq,
        "SIZE": status.size,
        "DELETED": status.deleted,
        "MAILBOXID": f"({mailbox_id(status.folder_id)})",
        "APPENDLIMIT": append_limit,
    }
    return " ".join(f"{item} {values[item]}" for item in items).encode()


def _decode_pattern(token: Token) -> str:
    if isinstance(token, list):
        raise CommandError("Invalid mailbox pattern")
    return decode_mailbox(token.encode() if isinstance(token, Atom) else bytes(token))


def _line(kind: bytes, line: Line, old_name: str | None = None) -> bytes:
    """A LIST or LSUB response, with its extended data items (RFC 9051 7.3.1): CHILDINFO,
    or OLDNAME when ``old_name`` is the name a RENAME changed."""
    extended = b' (CHILDINFO ("SUBSCRIBED"))' if line.childinfo else b""
    if old_name is not None:
        extended = b' ("OLDNAME" (%b))' % wire.mailbox(old_name)
    attributes = " ".join(line.attributes).encode()
    return b'* %b (%b) "/" %b%b\r\n' % (kind, attributes, wire.mailbox(line.name), extended)


class FolderCommands(SessionBase):
    COMMANDS: ClassVar[CommandTable] = {
        "SELECT": ("cmd_select", AUTH),
        "EXAMINE": ("cmd_examine", AUTH),
        "CREATE": ("cmd_create", AUTH),
        "DELETE": ("cmd_delete", AUTH),
        "RENAME": ("cmd_rename", AUTH),
        "SUBSCRIBE": ("cmd_subscribe", AUTH),
        "UNSUBSCRIBE": ("cmd_unsubscribe", AUTH),
        "LIST": ("cmd_list", AUTH),
        "LSUB": ("cmd_lsub", AUTH),
        "STATUS": ("cmd_status", AUTH),
        "NAMESPACE": ("cmd_namespace", AUTH),
        "GETQUOTAROOT": ("cmd_getquotaroot", AUTH),
        "GETQUOTA": ("cmd_getquota", AUTH),
        "SETQUOTA": ("cmd_setquota", AUTH),
    }
    CAPABILITIES: ClassVar[tuple[str, ...]] = (
        "NAMESPACE",
        "CHILDREN",
        "LIST-EXTENDED",
        "LIST-STATUS",
        "SPECIAL-USE",
        "QUOTA",
        "QUOTA=RES-STORAGE",
        "STATUS=SIZE",
    )

    # --- SELECT and EXAMINE --------------------------------------------------------------

    async def cmd_select(self, tag: str, args: Args) -> str:
        return await self._select(args, read_only=False)

    async def cmd_examine(self, tag: str, args: Args) -> str:
        return await self._select(args, read_only=True)

    async def _select(self, args: Args, *, read_only: bool) -> str:
        assert self.account is not None
        name = args.mailbox()
        resync = self._select_parameters(args)
        if self.selected is not None:  # RFC 7162 3.2.11: what follows is the new folder's
            self.send(b"* OK [CLOSED] Previous mailbox closed\r\n")
        self.deselect()  # a failed SELECT leaves no folder selected (RFC 3501 6.3.1)
        snapshot = await self.account.snapshot(name)
        selected = Selected(snapshot, read_only)
        if snapshot.first_recent_uid < snapshot.uid_next:
            selected.claim(await self.account.claim_recent(snapshot.folder.id, claim=not selected.read_only))
        self.select(selected)
        self.send_flags()
        self.send_exists()
        first_unseen = None if self.rev2 else snapshot.first_unseen_uid  # RFC 9051 dropped [UNSEEN]
        if first_unseen is not None and (first := selected.seq_of(first_unseen)):
            self.send(b"* OK [UNSEEN %d] First unseen\r\n" % first)
        self.send(
            b"* OK [UIDVALIDITY %d] UIDs valid\r\n* OK [UIDNEXT %d] Predicted next UID\r\n"
            b"* OK [HIGHESTMODSEQ %d] Highest\r\n"
            % (snapshot.folder.uidvalidity, snapshot.uid_next, snapshot.highest_modseq)
        )
        self.send(b"* OK [MAILBOXID (%b)] Ok\r\n" % mailbox_id(snapshot.folder.id).encode())
        if self.rev2:  # RFC 9051 6.3.2: the folder's LIST response is required
            tree, _ = await self.account.listing()
            self.send(_line(b"LIST", tree.entry(name)))
        if resync is not None and resync.uidvalidity == snapshot.folder.uidvalidity:
            await self._resynchronise(resync, resync.ranges(snapshot.uid_next))
        if selected.read_only:
            return f"OK [READ-ONLY] {'EXAMINE' if read_only else 'SELECT'} completed"
        return "OK [READ-WRITE] SELECT completed"

    def _select_parameters(self, args: Args) -> Resync | None:
        """``(CONDSTORE)`` and ``(QRESYNC (...))`` (RFC 7162 3.1.8, 3.2.5), read before
        anything changes: a BAD leaves the selected folder as it was."""
        resync = None
        if args.more():
            params = Args(args.list("select parameters"))
            while params.more():
                param = params.keyword("select parameter")
                if param == "CONDSTORE":
                    self.enabled.add("CONDSTORE")
                elif param == "QRESYNC" and resync is None:
                    if "QRESYNC" not in self.enabled:
                        raise CommandError("QRESYNC is not enabled")
                    resync = parse_resync(params.list("QRESYNC parameters"))
                else:
                    raise CommandError("Unknown SELECT parameter")
        args.end()
        return resync

    async def _resynchronise(self, resync: Resync, ranges: list[tuple[int, int]]) -> None:
        """What changed since the client's modseq among the UIDs it knows (RFC 7162
        3.2.5.2): ``VANISHED (EARLIER)`` for those gone, then a FETCH of UID, FLAGS and
        MODSEQ for each one changed."""
        selected = self.selected
        assert selected is not None and self.account is not None
        if resync.modseq >= selected.modseq or not ranges:
            return
        if gone := missing(selected.uids, ranges):
            self.send(b"* VANISHED (EARLIER) %b\r\n" % format_ranges(gone).encode())
        for row in await messages.rows(
            self.account, selected.folder.id, ranges, ("modseq", *FLAG_COLUMNS), changed_since=resync.modseq
        ):
            number = selected.seq_of(row.uid)
            if number is not None:
                recent = self.shows_recent and row.uid in selected.recent
                self.send(
                    b"* %d FETCH (UID %d FLAGS %b MODSEQ (%d))\r\n"
                    % (number, row.uid, flag_list(row.flag_bits, row.keywords, recent), row.modseq)
                )

    # --- the folder tree -------------------------------------------------------------------

    async def cmd_create(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name = args.mailbox()
        args.end()
        created = await self.account.create(name)
        return f"OK [MAILBOXID ({mailbox_id(created)})] CREATE completed"

    async def cmd_delete(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name = args.mailbox()
        args.end()
        ref = await self.account.open(name)
        await self.account.delete(name)
        if self.selected is not None and self.selected.folder.id == ref.id:
            self.deselect()
        return "OK DELETE completed"

    async def cmd_rename(self, tag: str, args: Args) -> str:
        assert self.account is not None
        old, new = args.mailbox(), args.mailbox()
        args.end()
        await self.account.rename(old, new)
        if self.rev2:  # RFC 9051 7.3.1: the new name's LIST, with the old one as OLDNAME
            tree, _ = await self.account.listing()  # (but INBOX stays: its messages moved)
            old = canonical(old)
            self.send(_line(b"LIST", tree.entry(new), old_name=None if old == INBOX else old))
        return "OK RENAME completed"

    async def cmd_subscribe(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name = args.mailbox()
        args.end()
        await self.account.subscribe(name, True)
        return "OK SUBSCRIBE completed"

    async def cmd_unsubscribe(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name = args.mailbox()
        args.end()
        await self.account.subscribe(name, False)
        return "OK UNSUBSCRIBE completed"

    # --- LIST and LSUB -----------------------------------------------------------------

    async def cmd_list(self, tag: str, args: Args) -> str:
        """LIST, in RFC 3501's form or RFC 5258's (selection options, several patterns,
        return options, LIST-STATUS)."""
        assert self.account is not None
        selection: set[str] = set()
        extended = isinstance(args.peek(), list)
        if extended:
            for option in args.list("selection options"):
                if not isinstance(option, Atom) or option.upper() not in LIST_SELECTION:
                    raise CommandError("Unknown LIST selection option")
                selection.add(option.upper())
        reference = _decode_pattern(args.next("reference name"))
        token = args.next("mailbox pattern")
        extended |= isinstance(token, list)
        patterns = [_decode_pattern(t) for t in token] if isinstance(token, list) else [_decode_pattern(token)]
        returns: set[str] = set()
        status_items: list[str] = []
        if args.more():
            if args.keyword("RETURN") != "RETURN":
                raise CommandError("Expected RETURN")
            extended = True
            options = Args(args.list("return options"))
            while options.more():
                returned = options.keyword("return option")
                if returned not in LIST_RETURN:
                    raise CommandError("Unknown LIST return option")
                returns.add(returned)
                if returned == "STATUS":
                    status_items = _status_items(options.list("status items"), rev2=self.rev2)
        args.end()
        if "RECURSIVEMATCH" in selection and not selection - {"RECURSIVEMATCH", "REMOTE"}:
            raise CommandError("RECURSIVEMATCH must not be the only selection option")
        if patterns == [""] and not extended:  # the delimiter; in the extended syntax, nothing (as Dovecot)
            self.send(b'* LIST (\\Noselect) "/" ""\r\n')
            return "OK LIST completed"
        tree, subscribed = await self.account.listing()
        chosen = ListOptions(frozenset(selection), frozenset(returns), extended)
        for line in tree.listed([pattern(reference, p) for p in patterns], subscribed, chosen):
            self.send(_line(b"LIST", line))
            if status_items and line.selectable:
                await self._send_status(line.name, status_items)
        return "OK LIST completed"

    async def cmd_lsub(self, tag: str, args: Args) -> str:
        assert self.account is not None
        reference = _decode_pattern(args.next("reference name"))
        text = _decode_pattern(args.next("mailbox pattern"))
        args.end()
        tree, subscribed = await self.account.listing()
        for line in tree.lsub([pattern(reference, text)], subscribed):
            self.send(_line(b"LSUB", line))
        return "OK LSUB completed"

    # --- STATUS, NAMESPACE, QUOTA --------------------------------------------------------

    async def cmd_status(self, tag: str, args: Args) -> str:
        name = args.mailbox()
        items = _status_items(args.list("status items"), rev2=self.rev2)
        args.end()
        await self._send_status(name, items)
        return "OK STATUS completed"

    async def _send_status(self, name: str, items: list[str]) -> None:
        assert self.account is not None
        status = await self.account.status(name)
        self.send(
            b"* STATUS %b (%b)\r\n"
            % (wire.mailbox(name), _status_values(status, items, self.settings.mail_max_message_bytes))
        )

    async def cmd_namespace(self, tag: str, args: Args) -> str:
        args.end()
        self.send(b'* NAMESPACE (("" "/")) NIL (("%b" "/"))\r\n' % SHARED_PREFIX.encode())
        return "OK NAMESPACE completed"

    async def cmd_getquotaroot(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name = args.mailbox()
        args.end()
        quotas = await self.account.quota_roots(name)
        roots = b" ".join(wire.mailbox(q.root) for q in quotas)
        self.send(b"* QUOTAROOT %b %b\r\n" % (wire.mailbox(name), roots))
        for quota in quotas:
            self.send(
                b"* QUOTA %b (STORAGE %d %d)\r\n"
                % (wire.mailbox(quota.root), quota.used_bytes // 1024, quota.quota_bytes // 1024)
            )
        return "OK GETQUOTAROOT completed"

    async def cmd_getquota(self, tag: str, args: Args) -> str:
        assert self.account is not None
        root = args.mailbox()
        args.end()
        quota = await self.account.quota(root)
        self.send(
            b"* QUOTA %b (STORAGE %d %d)\r\n"
            % (wire.mailbox(quota.root), quota.used_bytes // 1024, quota.quota_bytes // 1024)
        )
        return "OK GETQUOTA completed"

    async def cmd_setquota(self, tag: str, args: Args) -> str:
        raise CommandError("Quotas are set by the administrators", status="NO", code="NOPERM")
