"""A few folders and files in the demo organisation's drives, so that ``make run`` opens
on a drive in use: Alice's documents, and the shared space's meeting notes (which its
guest reads too). Nothing happens when Alice's drive already holds something."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from hexagone.core.db import org_session, system_session
from hexagone.drive import service
from hexagone.identity.service import load_principal, members

WELCOME = """Bienvenue dans votre espace de stockage.

Déposez ici vos documents : chaque nouvelle version est conservée, la corbeille garde
ce que vous supprimez pendant 30 jours, et vous pouvez partager un dossier avec vos
collègues ou avec un espace.
"""
MINUTES = """Compte rendu — lancement du projet Alpha

Présents : Alice, Bob, Gaston (invité).
Décisions : lancement jeudi, point hebdomadaire le lundi à 10 h.
"""


async def _text(text: str) -> AsyncIterator[bytes]:
    yield text.encode()


async def seed(org_id: uuid.UUID) -> None:
    async with org_session(org_id) as db:
        alice = next((p for p in await members(db) if p.email.startswith("alice@")), None)
    if alice is None:
        return
    async with system_session() as db:
        who = await load_principal(db, alice.id)
    if who is None:
        return
    async with org_session(org_id, write=True) as db:
        own = await service.drive_of_user(db, who)
        if (await service.list_folder(db, who, own.root_id, limit=1)).entries:
            return
        documents = await service.create_folder(db, who, own.root_id, "Documents")
        space_root = None
        if who.space_ids:
            space_root = (await service.drive_of_space(db, who, sorted(who.space_ids)[0])).root_id
        await db.commit()
    await service.store(who, documents.id, "Bienvenue.txt", _text(WELCOME), content_type="text/plain")
    if space_root is not None:
        await service.store(who, space_root, "Compte rendu de lancement.txt", _text(MINUTES), content_type="text/plain")
