"""Reading a vCard resource (RFC 6350, and 3.0 as most phones still write it) as CardDAV
stores it (RFC 6352 5.1): one vCard per resource, with a UID. Parsing is ``vobject``'s;
this module says what a resource must be and extracts what the tables index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import vobject

from hexagone.core.i18n import _


class InvalidContactData(ValueError):
    """The resource is not a vCard CardDAV can store; the message is for the client."""


@dataclass(frozen=True)
class ContactInfo:
    uid: str
    name: str  # FN, or the e-mail when a card has no name
    emails: tuple[str, ...]
    kind: str  # individual, group, org, location (RFC 6350 6.1.4)


def parse(text: str) -> Any:
    """The one vCard in ``text``, or InvalidContactData saying why not."""
    try:
        cards = list(vobject.readComponents(text, validate=False))
    except Exception as exc:  # vobject raises its own ParseError and plain ValueErrors alike
        raise InvalidContactData(_("This is not valid vCard data: {reason}").format(reason=exc)) from exc
    if len(cards) != 1 or cards[0].name != "VCARD":
        raise InvalidContactData(_("A contact resource holds exactly one vCard."))
    return cards[0]


def inspect(text: str) -> ContactInfo:
    card = parse(text)
    uid = str((getattr(card, "uid", None) and card.uid.value) or "").strip()
    if not uid:
        raise InvalidContactData(_("The vCard has no UID."))
    emails = tuple(dict.fromkeys(str(e.value).strip().lower() for e in card.contents.get("email", []) if e.value))
    name = str(card.fn.value).strip() if "fn" in card.contents else ""
    kind = str(card.contents["kind"][0].value).lower() if "kind" in card.contents else "individual"
    return ContactInfo(uid=uid[:255], name=(name or (emails[0] if emails else uid))[:500], emails=emails, kind=kind)
