"""Writing a message: what the compose form holds (:class:`Draft`), the forms a reply,
a reply to all and a forward start from, and the MIME message built from it with
Python's ``email`` package.

Every saved version of a draft and the message finally sent share one Message-ID; the
copy in Sent is the message the recipients got, plus the Bcc line only its author sees.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Any

import nh3
from email_validator import EmailNotValidError, validate_email

from hexagone.core.exceptions import Invalid
from hexagone.core.formatting import when
from hexagone.core.i18n import gettext as _
from hexagone.mail import mime
from hexagone.mail.models import Message
from hexagone.mail.web.body import DROPPED_WITH_CONTENT, body_leaves, content_type_of, shown_texts

MAX_RECIPIENTS = 100
SIGNATURE_SEPARATOR = "-- "
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|réf?)\s*:", re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"^\s*(fwd?|tr|wg)\s*:", re.IGNORECASE)
# Every character str.splitlines() breaks at (email refuses them all in a header), and tabs.
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x1c-\x1e\x85\u2028\u2029]+")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass
class Draft:
    """The fields of the compose form."""

    sender: str = ""
    to: str = ""
    cc: str = ""
    bcc: str = ""
    subject: str = ""
    body: str = ""
    in_reply_to: str = ""
    references: str = ""
    message_id: str = ""

    def is_empty(self) -> bool:
        return not any((self.to, self.cc, self.bcc, self.subject, self.body.strip()))


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


def one_line(value: str) -> str:
    """A header's text: no line breaks a sender could use to add headers of their own."""
    return _LINE_BREAKS.sub(" ", value).strip()


def parse_addresses(value: str, *, strict: bool = True) -> list[Address]:
    """The addresses of a To/Cc/Bcc field ("Name <a@b>, c@d"; semicolons as Outlook
    users type them), each checked: Invalid names the first one that is not an address,
    or, not ``strict`` (a draft, still being typed), it is left out."""
    found = []
    for name, address in getaddresses([one_line(value).replace(";", ",")]):
        try:
            checked = validate_email(
                address,
                check_deliverability=False,
                globally_deliverable=False,
                test_environment=True,
                allow_smtputf8=True,
            ).normalized
        except EmailNotValidError:
            if not strict:
                continue
            raise Invalid(_("“%(address)s” is not a valid e-mail address.", address=address or value.strip())) from None
        local, _at, domain = checked.rpartition("@")
        found.append(Address(display_name=one_line(name), username=local, domain=domain))
    return found


def recipients(draft: Draft) -> list[str]:
    """Every address the message goes to (To, Cc and Bcc), once each."""
    addresses = [a.addr_spec for value in (draft.to, draft.cc, draft.bcc) for a in parse_addresses(value)]
    unique = list(dict.fromkeys(a.lower() for a in addresses))
    if not unique:
        raise Invalid(_("Add at least one recipient."))
    if len(unique) > MAX_RECIPIENTS:
        raise Invalid(_("A message may have at most %(count)s recipients.", count=MAX_RECIPIENTS))
    return unique


def new_message_id(sender: str) -> str:
    return make_msgid(domain=sender.rpartition("@")[2] or None)


def build(
    draft: Draft, files: list[File], *, display_name: str, date: datetime, bcc: bool, strict: bool = True
) -> bytes:
    """The message as bytes with CRLF line ends. ``bcc`` keeps the Bcc line (the draft and
    the author's copy in Sent), never in what is sent to recipients; not ``strict``, a
    draft keeps the addresses that are valid so far."""
    message = EmailMessage()
    local, _at, domain = draft.sender.rpartition("@")
    message["From"] = Address(display_name=one_line(display_name), username=local, domain=domain)
    for header, value in (("To", draft.to), ("Cc", draft.cc)) + ((("Bcc", draft.bcc),) if bcc else ()):
        addresses = parse_addresses(value, strict=strict)
        if addresses:
            message[header] = addresses
    message["Subject"] = one_line(draft.subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = draft.message_id
    if draft.in_reply_to:
        message["In-Reply-To"] = draft.in_reply_to
    if draft.references:
        message["References"] = draft.references
    message.set_content(draft.body.replace("\r\n", "\n"))
    for file in files:
        maintype, _slash, subtype = file.content_type.partition("/")
        if file.content_type == "message/rfc822":
            attached = email.message_from_bytes(file.data, policy=email.policy.default)
            message.add_attachment(attached, filename=file.filename)
        else:
            message.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.filename)
    return message.as_bytes(policy=email.policy.SMTP)


def with_signature(text: str, signature: str) -> str:
    """``text`` (a quote, or nothing) after room to write and the signature."""
    sign = f"\n\n{SIGNATURE_SEPARATOR}\n{signature.strip()}" if signature.strip() else ""
    return f"\n{sign}\n\n{text}" if text else f"\n{sign}"


def quotable_text(raw: bytes, structure: dict[str, Any], *, whole: bool = False) -> str:
    """The words of a message to quote in a reply: its plain text, or its HTML reduced
    to text when it has no plain version. A reply quotes what the reading view shows (a
    huge message's beginning); a forward, ``whole``, carries all of it."""
    leaves = body_leaves(structure)
    plain = [leaf for leaf in leaves if leaf["subtype"].lower() == "plain"]

    def texts(chosen: list[dict[str, Any]]) -> list[str]:
        return [mime.part_text(raw, leaf) for leaf in chosen] if whole else shown_texts(raw, structure, chosen)[0]

    if plain:
        text = "\n\n".join(texts(plain))
    else:
        stripped = nh3.clean(
            "\n".join(texts(leaves)), tags={"p", "br", "div"}, clean_content_tags=DROPPED_WITH_CONTENT, attributes={}
        )
        text = html.unescape(re.sub(r"<br\s*/?>|</p>|</div>", "\n", stripped).replace("<p>", "").replace("<div>", ""))
    return _BLANK_LINES.sub("\n\n", text.replace("\r\n", "\n")).strip()


def _subject(subject: str, prefix: str, pattern: re.Pattern[str]) -> str:
    return subject if pattern.match(subject) else f"{prefix} {subject}".strip()


def _formatted(people: list[tuple[str, str]]) -> str:
    return ", ".join(str(Address(display_name=name, addr_spec=addr)) if name else addr for name, addr in people)


def _people(values: list[str]) -> list[tuple[str, str]]:
    return [(mime.decode_header_value(name), addr) for name, addr in getaddresses(values) if "@" in addr]


def reply(original: Message, raw: bytes, *, to_all: bool, mine: list[str], signature: str) -> Draft:
    """The form a reply starts from: to the sender (its Reply-To if any), or also to
    everyone else on the message, minus the replying person's own addresses."""
    headers = email.message_from_bytes(original.header, policy=email.policy.compat32)
    mine_lower = {a.lower() for a in mine}
    sender = _people(headers.get_all("reply-to") or headers.get_all("from") or [])
    if sender and all(addr.lower() in mine_lower for _n, addr in sender):  # replying to one's own message
        sender = _people(headers.get_all("to") or [])
    others = _people((headers.get_all("to") or []) + (headers.get_all("cc") or [])) if to_all else []
    taken = {addr.lower() for _n, addr in sender} | mine_lower
    cc = []
    for name, addr in others:
        if addr.lower() not in taken:
            taken.add(addr.lower())
            cc.append((name, addr))
    addressed_to = [addr for _n, addr in _people((headers.get_all("to") or []) + (headers.get_all("cc") or []))]
    moment = original.sent_date or original.internal_date
    attribution = _(
        "On %(date)s, %(sender)s wrote:", date=when(moment, full=True), sender=original.from_addr or _("someone")
    )
    quoted = "\n".join("> " + line if line else ">" for line in quotable_text(raw, original.structure).split("\n"))
    return Draft(
        sender=next((a.lower() for a in addressed_to if a.lower() in mine_lower), ""),
        to=_formatted(sender),
        cc=_formatted(cc),
        subject=_subject(original.subject, "Re:", _REPLY_PREFIX),
        body=with_signature(f"{attribution}\n{quoted}", signature),
        in_reply_to=original.message_id,
        references=" ".join([*mime.message_ids(headers.get("references")), original.message_id]).strip(),
    )


def forward(original: Message, raw: bytes, *, signature: str) -> Draft:
    moment = original.sent_date or original.internal_date
    header = "\n".join(
        [
            _("---------- Forwarded message ----------"),
            _("From: %(value)s", value=original.from_addr),
            _("Date: %(value)s", value=when(moment, full=True)),
            _("Subject: %(value)s", value=original.subject),
            _("To: %(value)s", value=original.to_addrs),
        ]
    )
    return Draft(
        subject=_subject(original.subject, "Fwd:", _FORWARD_PREFIX),
        body=with_signature(f"{header}\n\n{quotable_text(raw, original.structure, whole=True)}", signature),
    )


def reopen(message: Message, raw: bytes) -> Draft:
    """A saved draft back in the form."""
    headers = email.message_from_bytes(message.header, policy=email.policy.compat32)

    def field_of(name: str) -> str:
        return _formatted(_people(headers.get_all(name) or []))

    senders = _people(headers.get_all("from") or [])
    leaves = [leaf for leaf in body_leaves(message.structure) if leaf["subtype"].lower() == "plain"]
    return Draft(
        sender=senders[0][1].lower() if senders else "",
        to=field_of("to"),
        cc=field_of("cc"),
        bcc=field_of("bcc"),
        subject=message.subject,
        body="\n\n".join(mime.part_text(raw, leaf) for leaf in leaves),
        in_reply_to=(mime.message_ids(headers.get("in-reply-to")) or [""])[0],
        references=" ".join(mime.message_ids(headers.get("references"))),
        message_id=message.message_id,
    )


def from_form(values: dict[str, str]) -> Draft:
    """A draft from the posted fields; the threading headers are kept only when they are
    message ids, so that a forged form cannot add header text."""
    draft = Draft(**{name: values.get(name, "") for name in ("sender", "to", "cc", "bcc", "subject", "body")})
    ids = mime.message_ids(values.get("message_id"))
    return replace(
        draft,
        sender=draft.sender.strip().lower(),
        in_reply_to=(mime.message_ids(values.get("in_reply_to")) or [""])[0],
        references=" ".join(mime.message_ids(values.get("references"))[-50:]),
        message_id=ids[0] if ids else "",
    )


def file_of(raw: bytes, leaf: dict[str, Any], filename: str) -> File:
    return File(filename, content_type_of(leaf), mime.decode_part(raw, leaf))
