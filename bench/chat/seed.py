"""The chat benchmark's data, made through the service layer in the server's database.

Run by ``run.py`` with the server's environment (``HEXAGONE_DATA_DIR``, and
``HEXAGONE_DATABASE_URL`` for PostgreSQL), after ``hexagone migrate``:

    python bench/chat/seed.py --users 5020 --messages 10000 --out seed.json

One organisation with the chat, an administrator who makes one public channel and posts
``--messages`` messages in it (the history the pages read; posted before the members
are added, so that each post does not read thousands of members), then ``--users``
ordinary users added to that channel (``add_members``, in batches), each with a login
session opened as the login form opens one (``core.auth.open_session``): the cookies go
to ``--out`` with the channel's id. Sign-in through the form is measured elsewhere
(``bench/login_bench.py``); here it would only cost an argon2 hash per user.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

# Cheap argon2 for the users made here (their passwords are never used), as the tests do.
os.environ.setdefault("HEXAGONE_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("HEXAGONE_PASSWORD_HASH_MEMORY_KIB", "8")
os.environ.setdefault("HEXAGONE_PASSWORD_HASH_PARALLELISM", "1")

DOMAIN = "chatbench.hexagone.test"
BATCH = 500


async def seed(users: int, messages: int, out: Path) -> None:
    from hexagone.chat import service
    from hexagone.core import auth
    from hexagone.core.db import dispose_engine, org_session, system_session
    from hexagone.identity.models import OrgRole
    from hexagone.identity.service import orgs
    from hexagone.identity.service import users as users_service
    from hexagone.identity.service.principals import load_principal

    started = time.monotonic()
    async with system_session() as db:
        org = await orgs.create_org(db, name="Chat bench", domain=DOMAIN, modules=["chat"])
        admin, _ = await users_service.create_user(
            db, org_id=org.id, email=f"admin@{DOMAIN}", display_name="Admin", password=None, role=OrgRole.ADMIN
        )
        await db.commit()
        org_id, admin_id = org.id, admin.id
    async with system_session() as db:
        actor = await load_principal(db, admin_id)
    assert actor is not None
    async with org_session(org_id, write=True) as db:
        channel_id = await service.create(db, actor, "bench")
        await db.commit()
    for first in range(0, messages, BATCH):
        async with org_session(org_id, write=True) as db:
            for i in range(first, min(first + BATCH, messages)):
                await service.post(
                    db,
                    actor,
                    channel_id,
                    f"Message d'historique n° {i} : *bonjour* à tous, voir https://example.org/{i}",
                )
            await db.commit()
    print(f"seed: {messages} messages in {time.monotonic() - started:.0f} s", file=sys.stderr)
    people: list[tuple[uuid.UUID, str]] = []
    for first in range(0, users, BATCH):
        made = []
        async with system_session() as db:
            for i in range(first, min(first + BATCH, users)):
                user, _ = await users_service.create_user(
                    db, org_id=org_id, email=f"u{i:05d}@{DOMAIN}", display_name=f"Membre {i}", password=None
                )
                made.append(user.id)
            await db.commit()
        async with org_session(org_id, write=True) as db:
            await service.add_members(db, actor, channel_id, made)
            await db.commit()
        async with system_session() as db:
            for user_id in made:
                token, _row = await auth.open_session(
                    db, user_id=user_id, org_id=org_id, max_age=7 * 86400, mfa_verified=True,
                    ip="127.0.0.1", user_agent="bench/chat",
                )  # fmt: skip
                people.append((user_id, token))
            await db.commit()
    async with system_session() as db:
        admin_token, _row = await auth.open_session(
            db,
            user_id=admin_id,
            org_id=org_id,
            max_age=7 * 86400,
            mfa_verified=True,
            ip="127.0.0.1",
            user_agent="bench/chat",
        )
        await db.commit()
    await dispose_engine()
    out.write_text(
        json.dumps(
            {
                "org": str(org_id),
                "channel": str(channel_id),
                "admin_cookie": admin_token,
                "cookies": [token for _u, token in people],
                "users": [str(u) for u, _t in people],
                "messages": messages,
            }
        )
    )
    print(f"seed: {users} users in the channel, {time.monotonic() - started:.0f} s in all", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=5020)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(seed(args.users, args.messages, args.out))


if __name__ == "__main__":
    main()
