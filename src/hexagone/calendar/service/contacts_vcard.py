"""A contact as fields, and the vCard that carries it: read with ``vobject`` into a frozen
:class:`Contact`, written from :class:`ContactFields` with ``vobject`` too (never by
gluing strings, so that every value is escaped and folded as RFC 6350 says).

Editing keeps what the form does not show: the new card starts from the stored one and
replaces only the properties a contact's fields cover (a phone's photo, birthday or
``X-`` properties survive an edit made on the web).

Contact groups are ``CATEGORIES`` on each member's card (RFC 6350 6.7.1, also in vCard
3.0), not a separate ``KIND:group`` card with ``MEMBER`` properties: the membership
travels with the contact (deleting or moving it leaves no dangling member), two clients
editing two contacts never conflict over one group card, and it is what Nextcloud
Contacts, Evolution, khard, Google and DAVx5 ("groups are per-contact categories")
sync. Group cards that other clients (Apple's) store are kept as they are and listed.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import vobject

from hexagone.calendar import vcard
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import _

# An e-mail address a contact may hold: something, @, a domain with a dot inside, and no
# character Python counts as a space. The characters are literal (not \s, which JSON
# Schema's engine and Python's disagree on), so the API's schema can state the same rule.
_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NAMED_PATTERN = f"[^{_SPACES}]"  # a name: more than spaces
ADDRESS_PATTERN = f"^[^@\x00{_SPACES}]+@[^@\x00{_SPACES}]+\\.[^@\x00{_SPACES}]+$"
MAX_VALUES = 20  # e-mails, phones, addresses or groups on one card
MAX_TEXT = 2000
MAX_NOTES = 20000
# The properties a contact's fields stand for; an edit replaces them and keeps the rest.
MANAGED = ("fn", "n", "email", "tel", "org", "title", "note", "adr", "categories")


@dataclass(frozen=True)
class PostalAddress:
    street: str = ""
    locality: str = ""
    region: str = ""
    code: str = ""
    country: str = ""
    kind: str = ""  # home, work or '' (the vCard's TYPE)

    def lines(self) -> list[str]:
        return [
            x
            for x in (self.street, " ".join(p for p in (self.code, self.locality) if p), self.region, self.country)
            if x
        ]

    @property
    def empty(self) -> bool:
        return not any((self.street, self.locality, self.region, self.code, self.country))


@dataclass(frozen=True)
class ContactFields:
    """What a person types for a contact (the web form, the API)."""

    given: str = ""
    family: str = ""
    formatted: str = ""  # the name as shown; built from the parts when empty
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    organisation: str = ""
    title: str = ""
    notes: str = ""
    addresses: tuple[PostalAddress, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contact(ContactFields):
    """A stored contact as pages, the API and other modules read it."""

    id: uuid.UUID | None = None  # the resource's row (None: generated, the directory's)
    book_id: uuid.UUID | None = None
    name: str = ""  # the resource's URL segment
    uid: str = ""
    etag: str = ""
    kind: str = "individual"  # individual, group, org, location
    members: tuple[str, ...] = field(default=())  # a group card's MEMBER values

    @property
    def display(self) -> str:
        return self.formatted or " ".join(x for x in (self.given, self.family) if x) or (self.emails or ("",))[0]


def _text(value: str, limit: int = MAX_TEXT) -> str:
    return " ".join(str(value).split())[:limit]


def clean(fields: ContactFields) -> ContactFields:
    """The fields trimmed, checked and deduplicated; Invalid when nothing names the contact."""
    emails = tuple(dict.fromkeys(e.strip() for e in fields.emails if e.strip()))
    for address in emails:
        if len(address) > 254 or not re.fullmatch(ADDRESS_PATTERN, address):
            raise Invalid(_("Not an e-mail address: {address}").format(address=address))
    phones = tuple(dict.fromkeys(_text(p, 64) for p in fields.phones if p.strip()))
    groups = tuple(dict.fromkeys(_text(g.replace(",", " "), 100) for g in fields.groups if g.strip()))
    addresses = tuple(
        PostalAddress(
            **{k: _text(getattr(a, k), 500) for k in ("street", "locality", "region", "code", "country")},
            kind=a.kind if a.kind in ("home", "work") else "",
        )
        for a in fields.addresses
        if not a.empty
    )
    if max(len(emails), len(phones), len(groups), len(addresses)) > MAX_VALUES:
        raise Invalid(_("A contact has at most {count} values of each kind.").format(count=MAX_VALUES))
    cleaned = ContactFields(
        given=_text(fields.given, 200),
        family=_text(fields.family, 200),
        formatted=_text(fields.formatted, 500),
        emails=emails,
        phones=phones,
        organisation=_text(fields.organisation, 500),
        title=_text(fields.title, 500),
        notes=fields.notes.strip()[:MAX_NOTES],
        addresses=addresses,
        groups=groups,
    )
    if not (cleaned.formatted or cleaned.given or cleaned.family or cleaned.emails or cleaned.organisation):
        raise Invalid(_("Give the contact a name, an e-mail address or an organisation."))
    return cleaned


def _first(card: Any, name: str) -> Any:
    values = card.contents.get(name) or []
    return values[0] if values else None


def _types(prop: Any) -> list[str]:
    return [str(t).lower() for t in prop.params.get("TYPE", [])]


def _str(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value or "")


def read(card: Any, **where: Any) -> Contact:
    """The contact a parsed vCard holds (``where``: the resource's id, name, etag…)."""
    n = _first(card, "n")
    org = _first(card, "org")
    kind_prop = _first(card, "kind") or _first(card, "x-addressbookserver-kind")
    addresses = []
    for adr in card.contents.get("adr", []):
        value = adr.value
        kind = next((t for t in _types(adr) if t in ("home", "work")), "")
        addresses.append(
            PostalAddress(
                street=_str(getattr(value, "street", "")),
                locality=_str(getattr(value, "city", "")),
                region=_str(getattr(value, "region", "")),
                code=_str(getattr(value, "code", "")),
                country=_str(getattr(value, "country", "")),
                kind=kind,
            )
        )
    categories: list[str] = []
    for prop in card.contents.get("categories", []):
        categories += [str(c).strip() for c in (prop.value if isinstance(prop.value, list) else [prop.value])]
    members = [
        str(p.value) for p in card.contents.get("member", []) + card.contents.get("x-addressbookserver-member", [])
    ]
    return Contact(
        given=_str(getattr(n.value, "given", "")) if n is not None else "",
        family=_str(getattr(n.value, "family", "")) if n is not None else "",
        formatted=_str(_first(card, "fn").value) if _first(card, "fn") is not None else "",
        emails=tuple(str(e.value).strip() for e in card.contents.get("email", []) if e.value),
        phones=tuple(str(t.value).strip() for t in card.contents.get("tel", []) if t.value),
        organisation=";".join(str(x) for x in org.value if x)
        if org is not None and isinstance(org.value, list)
        else "",
        title=_str(_first(card, "title").value) if _first(card, "title") is not None else "",
        notes=_str(_first(card, "note").value) if _first(card, "note") is not None else "",
        addresses=tuple(addresses),
        groups=tuple(c for c in dict.fromkeys(categories) if c),
        uid=_str(_first(card, "uid").value) if _first(card, "uid") is not None else "",
        kind=str(kind_prop.value).lower() if kind_prop is not None else "individual",
        members=tuple(members),
        **where,
    )


def parse_one(text: str) -> Any:
    """One vCard, or Invalid with the reason (the foundation's parser)."""
    try:
        return vcard.parse(text)
    except vcard.InvalidContactData as exc:
        raise Invalid(str(exc)) from exc


def write(fields: ContactFields, *, uid: str, previous: str | None = None) -> str:
    """The vCard text of ``fields`` (already :func:`clean`), over ``previous`` when editing."""
    if previous is not None:
        card = parse_one(previous)
        for name in MANAGED:
            card.contents.pop(name, None)
    else:
        card = vobject.vCard()
        card.add("version").value = "3.0"
        card.add("uid").value = uid
        card.add("prodid").value = "-//Hexagone//Contacts//FR"
    formatted = fields.formatted or " ".join(x for x in (fields.given, fields.family) if x)
    card.add("fn").value = formatted or (fields.emails[0] if fields.emails else fields.organisation)
    card.add("n").value = vobject.vcard.Name(family=fields.family, given=fields.given)
    for address in fields.emails:
        prop = card.add("email")
        prop.value = address
        prop.type_param = "INTERNET"
    for number in fields.phones:
        card.add("tel").value = number
    if fields.organisation:
        card.add("org").value = [fields.organisation]
    if fields.title:
        card.add("title").value = fields.title
    if fields.notes:
        card.add("note").value = fields.notes
    for postal in fields.addresses:
        prop = card.add("adr")
        prop.value = vobject.vcard.Address(
            street=postal.street, city=postal.locality, region=postal.region, code=postal.code, country=postal.country
        )
        if postal.kind in ("home", "work"):
            prop.type_param = postal.kind.upper()
    if fields.groups:
        card.add("categories").value = list(fields.groups)
    return str(card.serialize())


def split(text: str) -> list[str]:
    """Each vCard of a ``.vcf`` file, as its own text (Invalid when the file holds none or
    is not vCard)."""
    try:
        cards = [c for c in vobject.readComponents(text, validate=False) if c.name == "VCARD"]
    except Exception as exc:  # vobject raises its own ParseError and plain ValueErrors alike
        raise Invalid(_("This is not valid vCard data: {reason}").format(reason=exc)) from exc
    if not cards:
        raise Invalid(_("The file holds no contact."))
    for card in cards:
        if not str(getattr(_first(card, "uid"), "value", "") or "").strip():
            card.contents.pop("uid", None)
            card.add("uid").value = str(uuid.uuid4())  # CardDAV stores a card by its UID
    return [str(c.serialize()) for c in cards]
