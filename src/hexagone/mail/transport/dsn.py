"""Delivery status notifications (bounces): RFC 3464 ``multipart/report`` messages that
tell a sender which recipients did not get their message, and why.

The human part is written in French and in English (a bounce often reaches someone
outside the organisation, whose language we do not know); the machine part
(``message/delivery-status``) lets the sender's mail client show the same facts in its
own words; the third part returns the original header (RFC 6522 ``text/rfc822-headers``),
never the body, so a bounce is small and leaks no content to a forged sender.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, make_msgid

from hexagone.core import i18n
from hexagone.core.db import utcnow
from hexagone.core.i18n import N_
from hexagone.mail.transport import headers

LANGUAGES = ("fr", "en")
SUBJECT = N_("Undelivered mail returned to sender")
INTRODUCTION = N_(
    "This is the mail system at %(host)s. Your message could not be delivered to the following recipients:"
)
EXPIRED = N_("The message could not be delivered in time and was given up.")


@dataclass(frozen=True)
class Failure:
    """One recipient given up on: its RFC 3463 status (``5.1.1``) and the reply that
    said so (``smtp; 550 5.1.1 No such user``) or our own diagnosis."""

    address: str
    status: str
    diagnostic: str


def translated(language: str, message: str, **variables: object) -> str:
    """``message`` in ``language``, whatever the language of the task at hand."""
    previous = i18n.get_language()
    i18n.set_language(language)
    try:
        return i18n.gettext(message, **variables)
    finally:
        i18n.set_language(previous)


def _one_line(text: str) -> str:
    return " ".join(text.split()).encode("ascii", "replace").decode("ascii")[:900]


def build(
    *, reporting_host: str, original: bytes, failures: list[Failure], recipient: str, arrival: datetime | None = None
) -> bytes:
    """The bounce for ``original`` to send to ``recipient`` (the original MAIL FROM),
    with a null envelope sender so that it never bounces back."""
    boundary = f"=_hexagone_dsn_{uuid.uuid4().hex}"
    now = utcnow()
    human = []
    for language in LANGUAGES:
        human.append(translated(language, INTRODUCTION, host=reporting_host))
        human.extend(f"  <{f.address}>: {f.diagnostic}" for f in failures)
        if any(f.status == "4.4.7" for f in failures):
            human.append(translated(language, EXPIRED))
        human.append("")
    subject = " / ".join(translated(language, SUBJECT) for language in LANGUAGES)
    status = [f"Reporting-MTA: dns; {reporting_host}", f"Arrival-Date: {format_datetime(arrival or now)}", ""]
    for failure in failures:
        status += [
            f"Final-Recipient: rfc822; {failure.address}",
            "Action: failed",
            f"Status: {failure.status}",
            f"Diagnostic-Code: smtp; {_one_line(failure.diagnostic)}",
            f"Last-Attempt-Date: {format_datetime(now)}",
            "",
        ]
    original_header = headers.header_of(original)
    head = [
        f"From: Mail Delivery System <MAILER-DAEMON@{reporting_host}>",
        f"To: <{recipient}>",
        f"Subject: {_encoded(subject)}",
        f"Date: {format_datetime(now)}",
        f"Message-ID: {make_msgid(domain=reporting_host)}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
    ]
    parts = [
        "\r\n".join(head) + "\r\n\r\nThis is a MIME-encapsulated message.\r\n",
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "\r\n".join(human)
        + "\r\n",
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n" + "\r\n".join(status),
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n",
    ]
    body = "".join(part if part.endswith("\r\n") else part + "\r\n" for part in parts).encode("utf-8")
    return body + original_header.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + f"\r\n--{boundary}--\r\n".encode()


def _encoded(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()
