"""The cost of one post in process (no server, no socket), in the seeded channel of
``max(N) + 20`` members and in a channel of one member: what a channel's size adds to
storing a message, and the read of its members alone (``_notify`` reads every member of
the channel on every post, mention or not).

    .venv/bin/python bench/chat/post_cost.py --data /var/tmp/chatbench [--posts 60]

Posts into the data folder's database (``run.py --data``, SQLite); each run adds a
channel of one member and the posts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from pathlib import Path


async def measure(data: Path, posts: int) -> None:
    from sqlalchemy import select

    from hexagone.chat import service
    from hexagone.chat.models import Member
    from hexagone.core.db import dispose_engine, org_session, system_session
    from hexagone.identity.service.principals import load_principal

    seeded = json.loads((data / "seed.json").read_text())
    org, big = uuid.UUID(seeded["org"]), uuid.UUID(seeded["channel"])
    async with system_session() as db:
        who = await load_principal(db, uuid.UUID(seeded["users"][0]))
    assert who is not None
    async with org_session(org, write=True) as db:
        small = await service.create(db, who, f"small-{uuid.uuid4().hex[:6]}")
        await db.commit()
    for name, channel in ((f"{len(seeded['users']) + 1:,} members", big), ("1 member", small)):
        wall, cpu, read = [], [], []
        rows = 0
        for i in range(posts):
            started, cpu_started = time.perf_counter(), time.process_time()
            async with org_session(org, write=True) as db:
                await service.post(db, who, channel, f"cost {i}")
                await db.commit()
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            started = time.perf_counter()
            async with org_session(org) as db:
                stmt = select(Member.user_id, Member.muted).where(Member.channel_id == channel)
                rows = len((await db.execute(stmt)).all())
            read.append((time.perf_counter() - started) * 1000)
        skip = min(10, posts // 5)  # warm-up
        print(
            f"{name}: post p50 {statistics.median(wall[skip:]):.1f} ms (CPU {statistics.median(cpu[skip:]):.1f} ms), "
            f"the members' read alone p50 {statistics.median(read[skip:]):.1f} ms ({rows} rows)"
        )
    await dispose_engine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/var/tmp/chatbench"))
    parser.add_argument("--posts", type=int, default=60)
    args = parser.parse_args()
    os.environ["HEXAGONE_DATA_DIR"] = str(args.data)
    asyncio.run(measure(args.data, args.posts))


if __name__ == "__main__":
    main()
