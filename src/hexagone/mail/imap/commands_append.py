"""APPEND (RFC 3501 6.3.11): messages a client stores into a folder, pipelined APPENDs
stored as one batch; with MULTIAPPEND (RFC 3502) several messages in one command, all
stored or none; CATENATE (RFC 4469) builds a message from literals and IMAP URLs of
messages this user may read; a message may come as a literal8 (BINARY, RFC 3516) or as
``UTF8 (~{n})`` once UTF8=ACCEPT is enabled (RFC 6855 4)."""

from __future__ import annotations

import errno
import logging
import re
from typing import Any, ClassVar
from urllib.parse import unquote

from hexagone.core import blobs
from hexagone.core.exceptions import Invalid
from hexagone.core.failures import log_failure
from hexagone.mail.imap import messages
from hexagone.mail.imap.arguments import Args, format_uid_set, parse_date_time
from hexagone.mail.imap.command_base import AUTH, CommandTable, SessionBase
from hexagone.mail.imap.fetch import decoded
from hexagone.mail.imap.parser import Atom, Command, CommandError, Literal, Literal8, Quoted
from hexagone.mail.imap.structure import Section
from hexagone.mail.service import store

log = logging.getLogger("hexagone.mail.imap")

APPEND_BATCH = 64
APPEND_BATCH_BYTES = 32 * 1024 * 1024
MAX_CATENATE_PARTS = 100
# An IMAP URL (RFC 5092) naming a message or one of its sections: absolute
# ("imap://user@host/INBOX;UIDVALIDITY=7/;UID=3/;SECTION=1") or absolute path ("/INBOX/;UID=3").
_URL_RE = re.compile(
    r"(?:imap://(?:(?P<user>[^@/;]*)(?:;[^@/]*)?@)?[^/]+)?/(?P<mailbox>[^;]+?)(?:;UIDVALIDITY=(?P<uidvalidity>\d{1,10}))?"
    r"/;UID=(?P<uid>\d{1,10})(?:/;SECTION=(?P<section>[^;/]+))?(?:/;PARTIAL=(?P<start>\d{1,10})(?:\.(?P<count>\d{1,10}))?)?",
    re.I,
)

Group = list[messages.AppendRequest] | CommandError  # one command's messages, or why it is refused


class AppendCommands(SessionBase):
    COMMANDS: ClassVar[CommandTable] = {"APPEND": ("cmd_append", AUTH)}
    CAPABILITIES: ClassVar[tuple[str, ...]] = ("MULTIAPPEND", "CATENATE")

    async def cmd_append(self, tag: str, args: Args) -> str | None:
        """APPEND, together with the APPENDs the client pipelined behind it (LITERAL+ lets
        a client send many): stored in the order they came (:meth:`_store_in_order`),
        and answered in that order."""
        assert self.account is not None
        batch: list[tuple[str, Group]] = [(tag, await self._append_group(args))]
        size = _size(batch[0][1])
        while len(batch) < APPEND_BATCH and size < APPEND_BATCH_BYTES:
            event = self.conn.buffered_event()
            if event is None:
                break
            if not isinstance(event, Command) or event.name != "APPEND":
                self.conn.push_back(event)
                break
            batch.append((event.tag, await self._append_group(Args(event.args))))
            size += _size(batch[-1][1])
        stored = await self._store_in_order(tag, [group for _, group in batch])
        answers = []
        for (command_tag, group), results in zip(batch, stored, strict=True):
            if isinstance(group, CommandError):
                answers.append(group.response(command_tag))
                continue
            refusal = next((r for r in results if isinstance(r, CommandError)), None)
            if refusal is not None:
                answers.append(refusal.response(command_tag))
                continue
            refs = [r for r in results if not isinstance(r, CommandError)]
            ref = refs[0][0]
            if self.selected is not None and self.selected.folder.id == ref.id:
                self.selected.dirty = True
            uids = format_uid_set([uid for _, uid in refs]).encode()
            answers.append(
                b"%b OK [APPENDUID %d %b] APPEND completed\r\n" % (command_tag.encode(), ref.uidvalidity, uids)
            )
        await self.report_changes()  # the new EXISTS before the completions
        for answer in answers:
            self.send(answer)
        return None  # answered here: the session adds nothing after

    async def _store_in_order(self, tag: str, groups: list[Group]) -> list[list[Any]]:
        """Each group's results, the messages stored in the order the commands came: the
        single-message APPENDs that follow each other as one batch, a MULTIAPPEND on its
        own and atomically."""
        results: list[list[Any]] = [[] for _ in groups]
        run: list[int] = []  # the single-message groups waiting to be stored together

        async def store_run() -> None:
            requests = [group[0] for i in run if isinstance(group := groups[i], list)]
            for i, result in zip(run, await self._store_messages(tag, requests, atomic=False), strict=True):
                results[i] = [result]
            run.clear()

        for i, group in enumerate(groups):
            if isinstance(group, list) and len(group) == 1:
                run.append(i)
            elif isinstance(group, list):
                await store_run()
                results[i] = await self._store_messages(tag, group, atomic=True)
        await store_run()
        return results

    async def _store_messages(
        self, tag: str, requests: list[messages.AppendRequest], *, atomic: bool
    ) -> list[tuple[messages.FolderRef, int] | CommandError]:
        assert self.account is not None
        if not requests:
            return []
        try:
            return await messages.append_many(self.account, requests, atomic=atomic)
        except Exception as error:  # every command of the batch must be answered
            return [_append_failure(tag, error)] * len(requests)

    async def _append_group(self, args: Args) -> Group:
        """APPEND's arguments: mailbox, then one or more (MULTIAPPEND) messages, each
        [flags] [date-time] and its data."""
        try:
            name = args.mailbox()
            group = []
            while True:
                group.append(await self._append_message(name, args))
                if not args.more():
                    return group
        except CommandError as error:
            return error

    async def _append_message(self, name: str, args: Args) -> messages.AppendRequest:
        flags = args.flags() if isinstance(args.peek(), list) else []
        internal_date = None
        if isinstance(date_time := args.peek(), Quoted):
            args.next("date-time")
            internal_date = parse_date_time(bytes(date_time).decode("ascii", "replace"))
        data = args.next("message literal")
        if isinstance(data, Atom) and data.upper() == "CATENATE":
            raw = await self._catenate(args.list("CATENATE parts"))
        elif isinstance(data, Atom) and data.upper() == "UTF8":
            if "UTF8=ACCEPT" not in self.enabled:
                raise CommandError("UTF8 data needs ENABLE UTF8=ACCEPT")
            content = args.list("UTF8 data")
            if len(content) != 1 or not isinstance(content[0], Literal8):
                raise CommandError("UTF8 data must be one literal8")
            raw = bytes(content[0])
        elif isinstance(data, Literal):
            raw = bytes(data)
        else:
            raise CommandError("The message must be a literal")
        if not raw:
            raise CommandError("Empty message", status="NO")
        if len(raw) > self.settings.mail_max_message_bytes:
            raise CommandError("Message too large", status="NO", code="TOOBIG")
        try:
            flags = store.check_flags(flags)
        except Invalid as error:
            raise CommandError(error.message) from None
        return messages.AppendRequest(name, raw, flags, internal_date)

    async def _catenate(self, parts: list[Any]) -> bytes:
        """The message CATENATE's parts make (RFC 4469 5): TEXT literals as they are, URLs
        replaced by what they name."""
        reader = Args(parts)
        pieces: list[bytes] = []
        if not reader.more():
            raise CommandError("Empty CATENATE")
        while reader.more():
            if len(pieces) >= MAX_CATENATE_PARTS:
                raise CommandError("Too many CATENATE parts")
            kind = reader.keyword("CATENATE part")
            if kind == "TEXT":
                text = reader.next("TEXT literal")
                if not isinstance(text, Literal):
                    raise CommandError("TEXT takes a literal")
                pieces.append(bytes(text))
            elif kind == "URL":
                url = reader.astring("URL").decode("utf-8", "replace")
                pieces.append(await self._url(url))
            else:
                raise CommandError("Unknown CATENATE part")
            if sum(map(len, pieces)) > self.settings.mail_max_message_bytes:
                raise CommandError("Message too large", status="NO", code="TOOBIG")
        return b"".join(pieces)

    async def _url(self, url: str) -> bytes:
        """What an IMAP URL of this user's names; ``NO [BADURL url]`` for any other."""
        assert self.account is not None
        bad = CommandError("Invalid or unknown URL", status="NO", code=f"BADURL {_safe_url(url)}")
        match = _URL_RE.fullmatch(url)
        if match is None:
            raise bad
        user = match.group("user")
        if user is not None and unquote(user).lower() != self.account.user.email.lower():
            raise bad
        uidvalidity = int(match.group("uidvalidity")) if match.group("uidvalidity") else None
        found = await messages.url_part(
            self.account, unquote(match.group("mailbox")), uidvalidity, int(match.group("uid"))
        )
        if found is None:
            raise bad
        raw, structure = found
        if match.group("section"):
            try:
                section = Section.parse(unquote(match.group("section")))
            except CommandError:
                raise bad from None
            if not section.names_a_part_of(structure := decoded(structure)):
                raise bad
            raw = section.extract(structure, raw)
        if match.group("start") is not None:
            start = int(match.group("start"))
            raw = raw[start : start + int(match.group("count"))] if match.group("count") else raw[start:]
        return raw


def _size(group: Group) -> int:
    return sum(len(r.raw) for r in group) if isinstance(group, list) else 0


def _safe_url(url: str) -> str:
    """The URL as a response code may carry it: printable ASCII, no "]"."""
    return "".join(c for c in url if 0x21 <= ord(c) < 0x7F and c != "]")[:200]


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
