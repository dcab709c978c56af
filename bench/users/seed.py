"""The people of the users-per-box benchmark: an organisation ``bench.hexagone.test`` with
N members ``agent0001@…`` to ``agentNNNN@…`` (all with the same password), each with a
mailbox whose INBOX holds the same M messages, loaded by the bulk importer.

    HEXAGONE_DATA_DIR=… [HEXAGONE_DATABASE_URL=…] .venv/bin/python bench/users/seed.py \\
        --users 2000 --messages 30 --password …

It runs in one process and calls the services the ``hexagone`` commands call (``user
create`` is ``identity.service.users.create_user``, ``mail import --from mbox:`` is
``mail.migration.engine.run_import``): starting the command 4,000 times would take longer
than the benchmark. Each password is hashed with the configured argon2id cost, as
``hexagone user create`` does, so that the sign-ins measured later verify real hashes.
Running it again with more users adds the missing ones and fills their INBOX (``run.py``
grows the population this way before each step). It prints one JSON object.

The messages are those of the mail benchmark (``bench/mail/messages.py``): office mail of
every shape, one in 25 a real message from ``../shared/corpus/mail``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import mailbox
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from hexagone.app import load_registry
from hexagone.core.cli import run
from hexagone.core.db import org_session, system_session
from hexagone.identity.models import User
from hexagone.identity.service import person_by_email
from hexagone.identity.service.orgs import create_org, org_by_domain
from hexagone.identity.service.users import create_user
from hexagone.mail.migration import open_source
from hexagone.mail.migration.engine import run_import
from hexagone.mail.service import mailboxes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mail"))
import messages as corpus

DOMAIN = "bench.hexagone.test"
ORG_NAME = "Banc d'essai"


def address(index: int) -> str:
    """The benchmark's user number ``index`` (0-based)."""
    return f"agent{index + 1:04d}@{DOMAIN}"


def write_mbox(path: Path, count: int) -> None:
    """``count`` messages of the mail benchmark as one mbox file, their flags in Status:."""
    box = mailbox.mbox(path, create=True)
    try:
        for message in corpus.mailbox(count):
            entry = mailbox.mboxMessage(message.data.replace(b"\r\n", b"\n"))
            entry.set_flags(("R" if "\\Seen" in message.flags else "") + "O")
            if "\\Flagged" in message.flags:
                entry.add_flag("F")
            box.add(entry)
        box.flush()
    finally:
        box.close()


async def ensure_users(count: int, password: str) -> tuple[list[int], float]:
    """The organisation and its ``count`` members; returns the numbers of those created
    now and the seconds it took."""
    started = time.monotonic()
    modules = [m.name for m in load_registry().subscribable]
    async with system_session() as db:
        org = await org_by_domain(db, DOMAIN)
        if org is None:
            org = await create_org(db, name=ORG_NAME, domain=DOMAIN, modules=modules)
            await db.commit()
        existing = set((await db.execute(select(User.email).where(User.org_id == org.id))).scalars())
    created: list[int] = []
    async with system_session() as db:
        for index in range(count):
            email = address(index)
            if email in existing:
                continue
            await create_user(db, org_id=org.id, email=email, display_name=f"Agent {index + 1:04d}", password=password)
            created.append(index)
            if len(created) % 100 == 0:
                await db.commit()
        await db.commit()
    return created, time.monotonic() - started


async def fill_inboxes(numbers: list[int], mbox: Path, jobs: int) -> tuple[int, float]:
    """Import ``mbox`` into the INBOX of these users, ``jobs`` mailboxes at a time (a
    mailbox already filled copies nothing); returns the messages copied and the seconds."""
    started = time.monotonic()
    gate = asyncio.Semaphore(jobs)

    async def fill(index: int) -> int:
        async with gate:
            async with system_session() as db:
                person = await person_by_email(db, address(index))
            assert person is not None, f"{address(index)} was created first"
            async with org_session(person.org_id, write=True) as db:
                box = await mailboxes.user_mailbox(db, person)
                await db.commit()
            source = await asyncio.to_thread(open_source, f"mbox:{mbox}")
            try:
                return (await run_import(box, source)).copied
            finally:
                await asyncio.to_thread(source.close)

    copied = sum(await asyncio.gather(*(fill(index) for index in numbers)))
    return copied, time.monotonic() - started


async def seed(users: int, messages: int, password: str, jobs: int) -> dict[str, object]:
    created, users_s = await ensure_users(users, password)
    with tempfile.TemporaryDirectory(prefix="hexagone-users-") as tmp:
        mbox = Path(tmp) / "inbox.mbox"
        write_mbox(mbox, messages)
        copied, mail_s = await fill_inboxes(created, mbox, jobs) if messages else (0, 0.0)
    return {
        "domain": DOMAIN,
        "users": users,
        "users_created": len(created),
        "users_seconds": round(users_s, 1),
        "messages_per_user": messages,
        "messages_copied": copied,
        "messages_seconds": round(mail_s, 1),
        "messages_per_second": round(copied / mail_s, 1) if mail_s else None,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--messages", type=int, default=30, help="messages in each INBOX")
    p.add_argument("--password", required=True)
    p.add_argument("--jobs", type=int, default=4, help="mailboxes filled at the same time")
    args = p.parse_args(argv)
    print(json.dumps(run(lambda: seed(args.users, args.messages, args.password, args.jobs))), flush=True)


if __name__ == "__main__":
    main()
