"""A few conversations in the demo organisation, so that ``make run`` opens on a chat in
use: the shared space's ``#général`` (its guest takes part), a public channel and a
direct conversation between Alice and Bob. Nothing happens once Alice has any."""

from __future__ import annotations

import uuid

from hexagone.chat import service
from hexagone.core.auth import Principal
from hexagone.core.db import org_session, system_session
from hexagone.identity.service import load_principal, members


async def _people(org_id: uuid.UUID) -> dict[str, Principal]:
    async with org_session(org_id) as db:
        found = {p.email.split("@")[0]: p.id for p in await members(db, include_guests=True)}
    people = {}
    async with system_session() as db:
        for name, user_id in found.items():
            principal = await load_principal(db, user_id)
            if principal is not None:
                people[name] = principal
    return people


async def _say(who: Principal, channel_id: uuid.UUID, text: str, thread: uuid.UUID | None = None) -> uuid.UUID:
    async with org_session(who.org_id, write=True) as db:
        posted = await service.post(db, who, channel_id, text, thread_id=thread)
        await db.commit()
    return posted.id


async def seed(org_id: uuid.UUID) -> None:
    people = await _people(org_id)
    alice, bob, guest = people.get("alice"), people.get("bob"), people.get("guest")
    if alice is None or bob is None:
        return
    async with org_session(org_id, write=True) as db:
        await service.ensure_space_channels(db, alice)
        await db.commit()
        mine = await service.listing(db, alice)
        if any(c.last_seq for c in mine):
            return
        news = await service.create(db, alice, "annonces", topic="Les nouvelles de l’organisation")
        talk = await service.open_direct(db, alice, [bob.user_id])
        await db.commit()
    spaces = [c.id for c in mine if c.kind == "space"]
    await _say(alice, news, "Bienvenue sur la messagerie instantanée d’Hexagone ! Utilisez `@bob` pour mentionner.")
    if spaces:
        first = await _say(alice, spaces[0], "Point d’étape du projet Alpha jeudi à 10 h : qui est disponible ?")
        await _say(bob, spaces[0], "Moi, c’est noté.", thread=first)
        if guest is not None:
            await _say(guest, spaces[0], "Je serai là aussi, merci @alice !", thread=first)
    await _say(bob, talk, "Salut Alice, tu as vu le compte rendu de lancement ?")
