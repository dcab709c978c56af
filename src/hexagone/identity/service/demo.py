"""The demo organisation a newcomer logs into after ``make run`` (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.security import hash_password
from hexagone.identity.models import Organisation, OrgRole, Space, SpaceMember, SpaceRole, User
from hexagone.identity.service.orgs import create_org, org_by_domain

DEMO_DOMAIN = "demo.hexagone.test"
DEMO_USERS = [
    ("alice@demo.hexagone.test", "Alice Martin", OrgRole.ADMIN),
    ("bob@demo.hexagone.test", "Bob Durand", OrgRole.USER),
    ("carol@demo.hexagone.test", "Carol Petit", OrgRole.USER),
    ("guest@partner.test", "Gaston Invité", OrgRole.GUEST),
]
DEMO_SPACE = "Projet Alpha"
DEMO_SPACE_MEMBERS = {
    "alice@demo.hexagone.test": SpaceRole.OWNER,
    "bob@demo.hexagone.test": SpaceRole.MEMBER,
    "guest@partner.test": SpaceRole.MEMBER,
}


@dataclass
class DemoOrg:
    org: Organisation
    users: dict[str, User]
    created: bool


async def ensure_demo(db: AsyncSession, password: str, modules: list[str]) -> DemoOrg:
    org = await org_by_domain(db, DEMO_DOMAIN)
    created = org is None
    if org is None:
        org = await create_org(db, name="Démo", domain=DEMO_DOMAIN, modules=modules)
    users: dict[str, User] = {}
    for email, name, role in DEMO_USERS:
        user = (await db.execute(select(User).where(User.email == email))).scalar_one_or_none()
        if user is None:
            user = User(org_id=org.id, email=email, display_name=name, role=role, password_hash=hash_password(password))
            db.add(user)
            await db.flush()
        users[email] = user
    space = (
        await db.execute(select(Space).where(Space.org_id == org.id, Space.name == DEMO_SPACE))
    ).scalar_one_or_none()
    if space is None:
        space = Space(org_id=org.id, name=DEMO_SPACE, description="Un espace de démonstration partagé avec un invité.")
        db.add(space)
        await db.flush()
        for email, space_role in DEMO_SPACE_MEMBERS.items():
            db.add(SpaceMember(org_id=org.id, space_id=space.id, user_id=users[email].id, role=space_role))
    await db.commit()
    return DemoOrg(org=org, users=users, created=created)
