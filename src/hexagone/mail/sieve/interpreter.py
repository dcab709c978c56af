"""Running a parsed Sieve script over one delivered message (RFC 5228 and the extensions
of :data:`~hexagone.mail.sieve.grammar.EXTENSIONS`): the tests read the message and its
envelope, the actions are collected in a :class:`Verdict` that delivery carries out.

It must never touch storage or the network: what to store where, whom to redirect to and
whether to answer is decided here, done by :mod:`hexagone.mail.service.filtering`.
A script that fails while running raises :class:`SieveRuntimeError`; the caller then
keeps the message in INBOX (RFC 5228 2.10.6), so no mail is lost to a bad rule."""

from __future__ import annotations

import email
import email.errors
import email.header
import email.message
import email.utils
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from hexagone.mail.sieve import match
from hexagone.mail.sieve.grammar import Node, SieveError

INBOX = "INBOX"
MAX_REDIRECTS = 5
SUBADDRESS_SEPARATOR = "+"


class SieveRuntimeError(SieveError):
    """The script failed on this message (the message is kept in INBOX)."""


@dataclass(frozen=True)
class Envelope:
    """The SMTP envelope as delivery saw it: the reverse-path ("" for a bounce) and the
    recipient address that led to this mailbox."""

    mail_from: str
    rcpt_to: str


@dataclass
class Vacation:
    """RFC 5230's arguments, the reply being decided and sent by the vacation service."""

    reason: str
    days: int = 7
    subject: str | None = None
    from_: str | None = None
    addresses: list[str] = field(default_factory=list)
    mime: bool = False
    handle: str | None = None


@dataclass
class Verdict:
    """What a script decided: folders to store into (with their flags, INBOX for keep;
    none at all when the message is discarded), addresses to redirect to, an auto-reply."""

    folders: dict[str, list[str]] = field(default_factory=dict)
    redirects: list[str] = field(default_factory=list)
    vacation: Vacation | None = None

    @classmethod
    def keep(cls, flags: Sequence[str] = ()) -> Verdict:
        return cls(folders={INBOX: list(flags)})


class _Stop(Exception):
    pass


def _decoded(value: str) -> str:
    """A header field's value unfolded and RFC 2047-decoded (RFC 5228 2.7.2)."""
    unfolded = value.replace("\r\n", "").replace("\n", "").strip()
    try:
        return str(email.header.make_header(email.header.decode_header(unfolded)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return unfolded


def _flag_words(values: Sequence[str]) -> list[str]:
    """RFC 5232 3: each string may hold several flags separated by spaces."""
    out: list[str] = []
    for value in values:
        for word in value.split():
            if word.lower() not in (f.lower() for f in out):
                out.append(word)
    return out


def _strings(value: object) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class _Run:
    def __init__(self, raw: bytes, envelope: Envelope, now: datetime) -> None:
        self.raw = raw
        end = raw.find(b"\r\n\r\n")
        # the header fields alone for most tests: the body is parsed only if a test reads it
        self.header = email.message_from_bytes(raw[: end + 2] if end >= 0 else raw)
        self.envelope = envelope
        self.now = now
        self.flags: list[str] = []
        self.verdict = Verdict()
        self.implicit_keep = True

    @functools.cached_property
    def message(self) -> email.message.Message:
        """The whole message parsed, for the body tests only."""
        return email.message_from_bytes(self.raw)

    # --- control -------------------------------------------------------------------

    def block(self, nodes: Sequence[Node]) -> None:
        taken = False  # whether the current if/elsif/else chain already ran a branch
        for node in nodes:
            if node.name == "if":
                taken = self.test(node.tests[0])
                if taken:
                    self.block(node.block)
            elif node.name == "elsif":
                if not taken and self.test(node.tests[0]):
                    taken = True
                    self.block(node.block)
            elif node.name == "else":
                if not taken:
                    self.block(node.block)
                taken = True
            else:
                self.action(node)

    # --- tests ---------------------------------------------------------------------

    def test(self, node: Node) -> bool:
        name = node.name
        if name == "true":
            return True
        if name == "false":
            return False
        if name == "not":
            return not self.test(node.tests[0])
        if name == "allof":
            return all(self.test(t) for t in node.tests)
        if name == "anyof":
            return any(self.test(t) for t in node.tests)
        if name == "exists":
            return all(self.header.get_all(h) is not None for h in _strings(node.args[0]))
        if name == "size":
            limit = int(node.args[0])  # type: ignore[call-overload]
            return len(self.raw) > limit if ":over" in node.tags else len(self.raw) < limit
        if name == "header":
            values = [_decoded(str(v)) for h in _strings(node.args[0]) for v in self.header.get_all(h) or []]
            return match.test(node.tags, values, _strings(node.args[1]))
        if name == "address":
            parts = [self._part(node.tags, a) for h in _strings(node.args[0]) for a in self._addresses(h)]
            return match.test(node.tags, [v for v in parts if v is not None], _strings(node.args[1]))
        if name == "envelope":
            parts = [self._part(node.tags, a) for part in _strings(node.args[0]) for a in self._envelope(part)]
            return match.test(node.tags, [v for v in parts if v is not None], _strings(node.args[1]))
        if name == "body":
            return match.test(node.tags, list(self._bodies(node.tags)), _strings(node.args[0]))
        if name == "hasflag":
            return match.test(node.tags, self.flags, _flag_words(_strings(node.args[-1])))
        if name == "currentdate":
            return match.test(node.tags, [self._date_part(node.tags, str(node.args[0]))], _strings(node.args[1]))
        raise SieveRuntimeError(f'unsupported test "{name}"')

    def _addresses(self, header: str) -> list[str]:
        """The addresses of every ``header`` field, read before any RFC 2047 decoding: a
        display name decoded to "Martin, Alice" must not split the list."""
        values = [str(v).replace("\r\n", "").replace("\n", "") for v in self.header.get_all(header) or []]
        return [address for _name, address in email.utils.getaddresses(values) if address]

    def _envelope(self, part: str) -> list[str]:
        part = part.lower()
        if part == "from":
            return [self.envelope.mail_from]
        if part == "to":
            return [self.envelope.rcpt_to]
        return []

    @staticmethod
    def _part(tags: dict[str, object], address: str) -> str | None:
        """The address part a test compares (RFC 5228 2.7.4, RFC 5233); None when the
        address has no such part (``:detail`` of an address without one)."""
        local, at, domain = address.rpartition("@")
        if not at:
            local, domain = address, ""
        if ":localpart" in tags:
            return local
        if ":domain" in tags:
            return domain
        if ":user" in tags:
            return local.split(SUBADDRESS_SEPARATOR, 1)[0]
        if ":detail" in tags:
            _user, sep, detail = local.partition(SUBADDRESS_SEPARATOR)
            return detail if sep else None
        return address

    def _bodies(self, tags: dict[str, object]) -> Iterator[str]:
        """RFC 5173: ``:raw`` the undecoded body; ``:content`` the decoded parts of the given
        types; ``:text`` (the default) the decoded text parts."""
        if ":raw" in tags:
            header_end = self.raw.find(b"\r\n\r\n")
            start = header_end + 4 if header_end >= 0 else len(self.raw)
            yield self.raw[start:].decode("utf-8", "replace")
            return
        types = [t.lower() for t in _strings(tags[":content"])] if ":content" in tags else ["text"]
        for part in self.message.walk():
            if part.is_multipart():
                continue
            main, full = part.get_content_maintype(), part.get_content_type()
            if any(t in ("", main, full) for t in types):
                yield _payload_text(part)

    def _date_part(self, tags: dict[str, object], name: str) -> str:
        """RFC 5260 5: a part of the current date in ``:zone`` (UTC by default)."""
        now = self.now
        if ":zone" in tags:
            zone = str(tags[":zone"])
            try:
                sign = -1 if zone[0] == "-" else 1
                offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
            except (ValueError, IndexError):
                raise SieveRuntimeError(f'bad zone "{zone}"') from None
            now = now.astimezone(timezone(offset))
        parts = {
            "year": f"{now.year:04d}",
            "month": f"{now.month:02d}",
            "day": f"{now.day:02d}",
            "date": now.strftime("%Y-%m-%d"),
            "julian": str((now.date() - datetime(1858, 11, 17).date()).days),
            "hour": f"{now.hour:02d}",
            "minute": f"{now.minute:02d}",
            "second": f"{now.second:02d}",
            "time": now.strftime("%H:%M:%S"),
            "iso8601": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "std11": email.utils.format_datetime(now),
            "zone": now.strftime("%z"),
            "weekday": str(now.isoweekday() % 7),
        }
        if name.lower() not in parts:
            raise SieveRuntimeError(f'unknown date part "{name}"')
        return parts[name.lower()]

    # --- actions -------------------------------------------------------------------

    def action(self, node: Node) -> None:
        name = node.name
        if name == "require":
            return
        if name == "stop":
            raise _Stop
        if name == "keep":
            self._store(INBOX, node)
            self.implicit_keep = False  # RFC 5228 2.10.2: an explicit keep replaces it
        elif name == "fileinto":
            self._store(str(node.args[0]), node)
            if ":copy" not in node.tags:
                self.implicit_keep = False
        elif name == "discard":
            self.implicit_keep = False
        elif name == "redirect":
            self._redirect(node)
        elif name in ("setflag", "addflag", "removeflag"):
            words = _flag_words(_strings(node.args[-1]))
            if name == "setflag":
                self.flags = words
            elif name == "addflag":
                self.flags = _flag_words([*self.flags, *words])
            else:
                self.flags = [f for f in self.flags if f.lower() not in {w.lower() for w in words}]
        elif name == "vacation":
            self._vacation(node)
        else:
            raise SieveRuntimeError(f'unsupported action "{name}"')

    def _store(self, folder: str, node: Node) -> None:
        flags = _flag_words(_strings(node.tags[":flags"])) if ":flags" in node.tags else list(self.flags)
        key = INBOX if folder.upper() == INBOX else folder
        self.verdict.folders[key] = _flag_words([*self.verdict.folders.get(key, []), *flags])

    def _redirect(self, node: Node) -> None:
        address = str(node.args[0]).strip().strip("<>")
        if "@" not in address or any(c.isspace() for c in address):
            raise SieveRuntimeError(f'redirect to a bad address "{address}"')
        if address.lower() not in (a.lower() for a in self.verdict.redirects):
            if len(self.verdict.redirects) >= MAX_REDIRECTS:
                raise SieveRuntimeError(f"more than {MAX_REDIRECTS} redirects")
            self.verdict.redirects.append(address)
        if ":copy" not in node.tags:
            self.implicit_keep = False

    def _vacation(self, node: Node) -> None:
        if self.verdict.vacation is not None:
            raise SieveRuntimeError("more than one vacation action")
        days = node.tags.get(":days")
        self.verdict.vacation = Vacation(
            reason=str(node.args[0]),
            days=max(1, min(int(days), 90)) if isinstance(days, int) else 7,  # RFC 5230 4.1: bounded by the site
            subject=str(node.tags[":subject"]) if ":subject" in node.tags else None,
            from_=str(node.tags[":from"]) if ":from" in node.tags else None,
            addresses=_strings(node.tags.get(":addresses")),
            mime=":mime" in node.tags,
            handle=str(node.tags[":handle"]) if ":handle" in node.tags else None,
        )


def _payload_text(part: email.message.Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "us-ascii"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def run(script: Sequence[Node], raw: bytes, envelope: Envelope, *, now: datetime | None = None) -> Verdict:
    """What ``script`` decides for the message ``raw`` (as stored) delivered through
    ``envelope``. Raises :class:`SieveRuntimeError` on a failure at run time."""
    state = _Run(raw, envelope, now or datetime.now(UTC))
    try:
        state.block(script)
    except _Stop:
        pass
    except SieveError as error:
        raise SieveRuntimeError(str(error)) from None
    except (ValueError, TypeError, IndexError, KeyError, LookupError, RecursionError) as error:
        raise SieveRuntimeError(f"script failed: {error}") from None
    if state.implicit_keep:
        state._store(INBOX, Node("keep"))
    return state.verdict
