"""Commands on folders: SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
LIST (with LIST-EXTENDED, SPECIAL-USE and LIST-STATUS), LSUB, STATUS, APPEND, NAMESPACE
and the QUOTA commands."""

from __future__ import annotations

import errno
import logging
import re

from hexagone.core import blobs
from hexagone.core.exceptions import Invalid
from hexagone.core.failures import log_failure
from hexagone.mail.imap import messages, wire
from hexagone.mail.imap.account import SHARED_PREFIX, ListEntry, Status
from hexagone.mail.imap.arguments import Args, decode_mailbox, parse_date_time
from hexagone.mail.imap.command_base import SessionBase
from hexagone.mail.imap.parser import Atom, Command, CommandError, Literal, Quoted, Token
from hexagone.mail.imap.selected import Selected
from hexagone.mail.service import store
from hexagone.mail.service.mailboxes import DELIMITER, INBOX

log = logging.getLogger("hexagone.mail.imap")

APPEND_BATCH = 64
APPEND_BATCH_BYTES = 32 * 1024 * 1024
STATUS_ITEMS = ("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "SIZE", "DELETED")
LIST_SELECTION = ("SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE")
LIST_RETURN = ("SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS")


def _status_items(tokens: list[Token]) -> list[str]:
    items = []
    for token in tokens:
        if not isinstance(token, Atom) or token.upper() not in STATUS_ITEMS:
            raise CommandError("Unknown STATUS item")
        items.append(token.upper())
    if not items:
        raise CommandError("Missing STATUS items")
    return items


def _status_values(status: Status, items: list[str]) -> bytes:
    values = {
        "MESSAGES": status.messages,
        "RECENT": 0,
        "UIDNEXT": status.uid_next,
        "UIDVALIDITY": status.uidvalidity,
        "UNSEEN": status.unseen,
        "HIGHESTMODSEQ": status.highest_modseq,
        "SIZE": status.size,
        "DELETED": status.deleted,
    }
    return " ".join(f"{item} {values[item]}" for item in items).encode()


def _pattern(reference: str, pattern: str) -> re.Pattern[str]:
    """A LIST pattern as a regular expression: ``*`` matches anything, ``%`` anything
    but the hierarchy delimiter; INBOX matches in any case."""
    full = pattern if pattern.startswith(DELIMITER) or not reference else reference + pattern
    if full[:5].upper() == INBOX:
        full = INBOX + full[5:]
    regex = "".join(".*" if c == "*" else f"[^{DELIMITER}]*" if c == "%" else re.escape(c) for c in full)
    return re.compile(regex, re.S)


def _decode_pattern(token: Token) -> str:
    if isinstance(token, list):
        raise CommandError("Invalid mailbox pattern")
    return decode_mailbox(token.encode() if isinstance(token, Atom) else bytes(token))


class FolderCommands(SessionBase):
    # --- SELECT and EXAMINE --------------------------------------------------------------

    async def cmd_select(self, tag: str, args: Args) -> str:
        return await self._select(args, read_only=False)

    async def cmd_examine(self, tag: str, args: Args) -> str:
        return await self._select(args, read_only=True)

    async def _select(self, args: Args, *, read_only: bool) -> str:
        assert self.account is not None
        name = args.mailbox()
        if args.more():
            for param in args.list("select parameters"):
                if not isinstance(param, Atom) or param.upper() != "CONDSTORE":
                    raise CommandError("Unknown SELECT parameter")
                self.enabled.add("CONDSTORE")
        args.end()
        self.deselect()  # a failed SELECT leaves no folder selected (RFC 3501 6.3.1)
        snapshot = await self.account.snapshot(name)
        selected = Selected(snapshot, read_only)
        self.select(selected)
        self.send_flags()
        self.send(b"* %d EXISTS\r\n* 0 RECENT\r\n" % selected.exists)
        if snapshot.first_unseen_uid is not None and (first := selected.seq_of(snapshot.first_unseen_uid)):
            self.send(b"* OK [UNSEEN %d] First unseen\r\n" % first)
        self.send(
            b"* OK [UIDVALIDITY %d] UIDs valid\r\n* OK [UIDNEXT %d] Predicted next UID\r\n"
            b"* OK [HIGHESTMODSEQ %d] Highest\r\n"
            % (snapshot.folder.uidvalidity, snapshot.uid_next, snapshot.highest_modseq)
        )
        if selected.read_only:
            return f"OK [READ-ONLY] {'EXAMINE' if read_only else 'SELECT'} completed"
        return "OK [READ-WRITE] SELECT completed"

    # --- the folder tree -------------------------------------------------------------------

    async def cmd_create(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name = args.mailbox()
        args.end()
        await self.account.create(name)
        return "OK CREATE completed"

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
        selection: set[str] = set()
        if isinstance(args.peek(), list):
            for option in args.list("selection options"):
                if not isinstance(option, Atom) or option.upper() not in LIST_SELECTION:
                    raise CommandError("Unknown LIST selection option")
                selection.add(option.upper())
        reference = _decode_pattern(args.next("reference name"))
        token = args.next("mailbox pattern")
        patterns = [_decode_pattern(t) for t in token] if isinstance(token, list) else [_decode_pattern(token)]
        returns: set[str] = set()
        status_items: list[str] = []
        if args.more():
            if args.keyword("RETURN") != "RETURN":
                raise CommandError("Expected RETURN")
            options = Args(args.list("return options"))
            while options.more():
                returned = options.keyword("return option")
                if returned not in LIST_RETURN:
                    raise CommandError("Unknown LIST return option")
                returns.add(returned)
                if returned == "STATUS":
                    status_items = _status_items(options.list("status items"))
        args.end()
        if "RECURSIVEMATCH" in selection and not selection - {"RECURSIVEMATCH", "REMOTE"}:
            raise CommandError("RECURSIVEMATCH needs another selection option")
        if patterns == [""]:
            self.send(b'* LIST (\\Noselect) "/" ""\r\n')
            return "OK LIST completed"
        show_subscribed = "SUBSCRIBED" in selection or "SUBSCRIBED" in returns
        for entry in await self._matching(reference, patterns):
            if "SUBSCRIBED" in selection and not entry.subscribed:
                continue
            if "SPECIAL-USE" in selection and not entry.special_use:
                continue
            self.send(self._list_line(b"LIST", entry, subscribed=show_subscribed))
            if status_items and entry.exists:
                await self._send_status(entry.name, status_items)
        return "OK LIST completed"

    async def cmd_lsub(self, tag: str, args: Args) -> str:
        reference = _decode_pattern(args.next("reference name"))
        pattern = _decode_pattern(args.next("mailbox pattern"))
        args.end()
        for entry in await self._matching(reference, [pattern]):
            if entry.subscribed:
                self.send(self._list_line(b"LSUB", entry, subscribed=False))
        return "OK LSUB completed"

    async def _matching(self, reference: str, patterns: list[str]) -> list[ListEntry]:
        assert self.account is not None
        regexes = [_pattern(reference, p) for p in patterns]
        return [e for e in await self.account.listing() if any(r.fullmatch(e.name) for r in regexes)]

    def _list_line(self, kind: bytes, entry: ListEntry, *, subscribed: bool) -> bytes:
        attributes = [] if entry.exists else ["\\Noselect"]
        attributes.append("\\HasChildren" if entry.has_children else "\\HasNoChildren")
        if entry.special_use:
            attributes.append(entry.special_use)
        if subscribed and entry.subscribed:
            attributes.append("\\Subscribed")
        return b'* %b (%b) "/" %b\r\n' % (kind, " ".join(attributes).encode(), wire.mailbox(entry.name))

    # --- STATUS, NAMESPACE, QUOTA --------------------------------------------------------

    async def cmd_status(self, tag: str, args: Args) -> str:
        name = args.mailbox()
        items = _status_items(args.list("status items"))
        args.end()
        await self._send_status(name, items)
        return "OK STATUS completed"

    async def _send_status(self, name: str, items: list[str]) -> None:
        assert self.account is not None
        status = await self.account.status(name)
        self.send(b"* STATUS %b (%b)\r\n" % (wire.mailbox(name), _status_values(status, items)))

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

    # --- APPEND --------------------------------------------------------------------------

    async def cmd_append(self, tag: str, args: Args) -> str | None:
        """APPEND, together with the APPENDs the client pipelined behind it (LITERAL+ lets
        a client send many): they are stored as one batch (see messages.append_many) and
        answered in order."""
        assert self.account is not None
        batch: list[tuple[str, messages.AppendRequest | CommandError]] = [(tag, _append_request(args))]
        size = len(batch[0][1].raw)  # type: ignore[union-attr]
        while len(batch) < APPEND_BATCH and size < APPEND_BATCH_BYTES:
            event = self.conn.buffered_event()
            if event is None:
                break
            if not isinstance(event, Command) or event.name != "APPEND":
                self.conn.push_back(event)
                break
            try:
                appended = _append_request(Args(event.args))
                size += len(appended.raw)
                request: messages.AppendRequest | CommandError = appended
            except CommandError as error:
                request = error
            batch.append((event.tag, request))
        requests = [r for _, r in batch if isinstance(r, messages.AppendRequest)]
        try:
            stored = iter(await messages.append_many(self.account, requests) if requests else [])
        except Exception as error:  # every command of the batch must be answered
            stored = iter([_append_failure(tag, error)] * len(requests))
        answers = []
        for command_tag, request in batch:
            result = request if isinstance(request, CommandError) else next(stored)
            if isinstance(result, CommandError):
                answers.append(result.response(command_tag))
                continue
            ref, uid = result
            if self.selected is not None and self.selected.folder.id == ref.id:
                self.selected.dirty = True
            answers.append(
                b"%b OK [APPENDUID %d %d] APPEND completed\r\n" % (command_tag.encode(), ref.uidvalidity, uid)
            )
        await self.report_changes()  # the new EXISTS before the completions
        for answer in answers:
            self.send(answer)
        return None  # answered here: the session adds nothing after


def _append_failure(tag: str, error: Exception) -> CommandError:
    """The answer to APPENDs that could not be stored, logged in one line: a full disk
    (or quota of the server's account) is a temporary condition the client may retry
    (RFC 5530 UNAVAILABLE), anything else a bug."""
    if blobs.is_storage_full(error):
        log.error(
            "IMAP %s APPEND refused: no space left for message data (%s)",
            tag[:40],
            errno.errorcode.get(getattr(error, "errno", 0) or 0, "?"),
        )
        return CommandError("No space left to store the message, try again later", status="NO", code="UNAVAILABLE")
    log_failure(log, f"IMAP {tag[:40]} APPEND", error)
    return CommandError("Internal server error", status="NO", code="SERVERBUG")


def _append_request(args: Args) -> messages.AppendRequest:
    """APPEND's arguments: mailbox [flags] [date-time] literal."""
    name = args.mailbox()
    flags = args.flags() if isinstance(args.peek(), list) else []
    internal_date = None
    if isinstance(date_time := args.peek(), Quoted):
        args.next("date-time")
        internal_date = parse_date_time(bytes(date_time).decode("ascii", "replace"))
    message = args.next("message literal")
    args.end()
    if not isinstance(message, Literal):
        raise CommandError("The message must be a literal")
    if not message:
        raise CommandError("Empty message", status="NO")
    try:
        flags = store.check_flags(flags)
    except Invalid as error:
        raise CommandError(error.message) from None
    return messages.AppendRequest(name, bytes(message), flags, internal_date)
