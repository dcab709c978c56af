"""Acting for someone else (delegation): a colleague given the ``delegate`` access to a
calendar (*act for me*) writes events and answers invitations there in its owner's
name. The calendar user a write speaks for is then the owner, and the delegate is
named beside them (RFC 5545 3.2.18 ``SENT-BY``), in the event, in the copies and
messages attendees get, and in the e-mail (sent by the delegate, on the owner's behalf).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar.models import Purpose
from hexagone.calendar.policy import Reach
from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.identity.service import Person, person


@dataclass(frozen=True)
class Actor:
    """Whose calendar user address a write speaks with (``person``), and the delegate
    who wrote it for them (``sent_by``, "" when they wrote it themselves)."""

    person: Person
    sent_by: str = ""
    delegate_name: str = ""

    @property
    def address(self) -> str:
        return self.person.email.lower()

    @property
    def name(self) -> str:
        return self.person.display_name


def self_actor(principal: Principal) -> Actor:
    return Actor(Person.signed_in(principal))


async def acting_for(db: AsyncSession, principal: Principal, reach: Reach) -> Actor:
    """Who a write of ``principal`` in ``reach`` speaks for: the calendar's owner when the
    principal may act for them there (the policy's ``delegate`` ability on someone
    else's personal calendar), the principal otherwise. One query, for delegates only."""
    collection = reach.collection
    owner_id = collection.owner_id
    if (
        collection.purpose != Purpose.PERSONAL
        or owner_id is None
        or owner_id == principal.user_id
        or not policy.abilities(principal, reach).get("delegate")
    ):
        return self_actor(principal)
    owner = await person(db, owner_id)
    if owner is None or not owner.is_active or owner.org_id != principal.org_id:
        return self_actor(principal)
    return Actor(owner, sent_by=principal.email.lower(), delegate_name=principal.display_name)
