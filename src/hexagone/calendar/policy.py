"""Who may do what with a calendar or an address book, decided here and nowhere else
(pages, CalDAV, the API and jobs all call :func:`hexagone.core.policy.require`).

The rule reads a :class:`Reach`: the collection and what the shares give the principal
on it, loaded by the service with the collection, so that the rule needs no query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hexagone.calendar.models import Access, Collection, Purpose
from hexagone.core import policy
from hexagone.core.auth import Principal

_RANK: dict[str | None, int] = {None: 0, Access.FREEBUSY: 1, Access.READ: 2, Access.WRITE: 3, Access.DELEGATE: 4}
_WRITERS = ("owner", "manager", "member")  # space roles that write in the space's calendar


@dataclass(frozen=True)
class Reach:
    """A collection as a principal reaches it: ``shared`` is the highest access a share
    gives them (directly or through a group), None without a share."""

    collection: Collection
    shared: str | None = None

    @property
    def org_id(self) -> uuid.UUID:  # core.policy compares organisations
        return self.collection.org_id


def granted(principal: Principal, reach: Reach) -> int:
    """The principal's access on the collection, as a rank of :data:`_RANK`."""
    collection = reach.collection
    own = 0
    if collection.purpose == Purpose.PERSONAL and collection.owner_id == principal.user_id:
        own = _RANK[Access.DELEGATE]
    elif collection.purpose == Purpose.SPACE and collection.space_id in principal.space_roles:
        own = _RANK[Access.WRITE] if principal.space_roles[collection.space_id] in _WRITERS else _RANK[Access.READ]
    elif collection.purpose in (Purpose.RESOURCE, Purpose.DIRECTORY) and not principal.is_guest:
        own = (
            _RANK[Access.WRITE] if principal.is_admin and collection.purpose == Purpose.RESOURCE else _RANK[Access.READ]
        )
    return max(own, _RANK.get(reach.shared, 0))


@policy.rule(Reach)
def collection_abilities(principal: Principal, reach: Reach) -> dict[str, bool]:
    rank = granted(principal, reach)
    collection = reach.collection
    mine = collection.purpose == Purpose.PERSONAL and collection.owner_id == principal.user_id
    writable = collection.purpose != Purpose.DIRECTORY and not collection.subscription_url
    return {
        "freebusy": rank >= _RANK[Access.FREEBUSY],
        "view": rank >= _RANK[Access.READ],
        "write": writable and rank >= _RANK[Access.WRITE],
        "delegate": rank >= _RANK[Access.DELEGATE],
        "manage": mine or (principal.is_admin and collection.purpose == Purpose.RESOURCE),
        "share": mine,
    }


def access_name(rank: int) -> str:
    """The name of a rank, for the face (``"read"``, ``"write"``…; ``"owner"`` for one's own)."""
    return {0: "", 1: Access.FREEBUSY, 2: Access.READ, 3: Access.WRITE, 4: Access.DELEGATE}[rank]


INBOX, OUTBOX = "inbox", "outbox"


@dataclass(frozen=True)
class Mailbox:
    """A user's scheduling inbox or outbox (RFC 6638 2.1, 2.2) as a principal asks for
    it: only its owner reaches it (a delegate answers in the owner's calendar instead)."""

    org_id: uuid.UUID
    owner_id: uuid.UUID
    kind: str  # INBOX or OUTBOX


@policy.rule(Mailbox)
def mailbox_abilities(principal: Principal, box: Mailbox) -> dict[str, bool]:
    """``view`` lists and reads it, ``unbind`` deletes a message of the inbox,
    ``schedule-send`` asks free/busy through the outbox (RFC 6638 6.1)."""
    mine = box.owner_id == principal.user_id and not principal.is_guest
    return {
        "view": mine,
        "unbind": mine and box.kind == INBOX,
        "schedule-send": mine and box.kind == OUTBOX,
    }
