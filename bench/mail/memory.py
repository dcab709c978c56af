"""What a large message costs in memory on its way in: the peak that ``tracemalloc`` sees
above the raw bytes already held, for :func:`hexagone.mail.mime.parse` alone, for the
blob store's ``put`` alone (the local backend, fsync included), and for
:func:`hexagone.mail.service.store.append` (put, parse and the database rows) into a
demo inbox on a temporary data directory (SQLite: the database adds rows, not copies).

    .venv/bin/python bench/mail/memory.py [--size-mib 45] [--shapes base64,text-qp,...]
                                          [--paths parse,put,append]

Each row prints the peak in MiB and as a multiple of the message size (issue 13 wants it
under 2x, whatever the path). The shapes are those an attacker or an ordinary sender
produces: one base64 attachment, one huge text part (quoted-printable, 8bit, HTML),
thousands of small parts, NUL bytes, a multipart whose boundary never appears, and a
header block with no blank line (the whole message is header).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import os
import quopri
import secrets
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIB = 1 << 20
HEAD = (
    b"From: Zoe <zoe@example.net>\r\nTo: bob@demo.hexagone.test\r\nSubject: gros message\r\n"
    b"Date: Sat, 05 Dec 2026 12:00:00 +0000\r\nMessage-ID: <big@example.net>\r\nMIME-Version: 1.0\r\n"
)
PROSE = "Le comité s'est réuni à l'hôtel de ville ; l'ordre du jour était chargé. ".encode()


def _fill(unit: bytes, size: int) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


def _lines(data: bytes, width: int = 76) -> bytes:
    return b"\r\n".join(data[i : i + width] for i in range(0, len(data), width)) + b"\r\n"


def base64_attachment(size: int) -> bytes:
    payload = _lines(base64.b64encode(os.urandom(size * 3 // 4)))
    return (
        HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nVoici le fichier.\r\n--b1\r\n"
        b'Content-Type: application/pdf; name="gros.pdf"\r\nContent-Disposition: attachment; filename="gros.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + payload + b"--b1--\r\n"
    )


def text_qp(size: int) -> bytes:
    body = quopri.encodestring(_fill(PROSE + b"\n", size * 2 // 3)).replace(b"\n", b"\r\n")
    return (
        HEAD + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + body
    )


def text_8bit(size: int) -> bytes:
    return (
        HEAD
        + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + _fill(PROSE + b"\r\n", size)
    )


def html(size: int) -> bytes:
    return (
        HEAD
        + b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + _fill(b'<div class="p"><b>' + PROSE + b"</b><style>p{}</style></div>\r\n", size)
    )


def many_parts(size: int, parts: int = 10_000) -> bytes:
    each = size // parts
    part = b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + _fill(PROSE + b"\r\n", each) + b"\r\n"
    return HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n' + part * parts + b"--b1--\r\n"


def nul_bytes(size: int) -> bytes:
    return HEAD + b"Content-Type: text/plain\r\n\r\n" + _fill(b"\x00" * 40 + PROSE + b"\r\n", size)


def no_boundary(size: int) -> bytes:
    return HEAD + b'Content-Type: multipart/mixed; boundary="jamais"\r\n\r\n' + _fill(PROSE + b"\r\n", size)


def all_header(size: int) -> bytes:
    return HEAD + _fill(b"X-Filler: " + PROSE.replace(b"\xc3", b"c") + b"\r\n", size)


SHAPES: dict[str, Callable[[int], bytes]] = {
    "base64": base64_attachment,
    "text-qp": text_qp,
    "text-8bit": text_8bit,
    "html": html,
    "many-parts": many_parts,
    "nul": nul_bytes,
    "no-boundary": no_boundary,
    "all-header": all_header,
}


async def peak(op: Callable[[], Awaitable[object]]) -> tuple[int, float]:
    """Bytes allocated at the peak of ``op`` beyond what was held before it, and seconds."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    await op()
    elapsed = time.perf_counter() - start
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top - base, elapsed


async def measure(shapes: list[str], paths: list[str], size: int) -> None:
    from sqlalchemy import select

    from hexagone.core import blobs
    from hexagone.core.db import dispose_engine, org_session
    from hexagone.identity.models import User
    from hexagone.mail import mime
    from hexagone.mail.service import mailboxes, store

    async def parse(raw: bytes) -> object:
        return mime.parse(raw)

    async def put(raw: bytes) -> object:
        return await blobs.get_store().put(raw, key=f"bench/{time.monotonic_ns()}")

    async def append(raw: bytes) -> object:
        async with org_session(org_id, write=True) as db:
            await store.append(db, await mailboxes.folder_by_name(db, mailbox_id, mailboxes.INBOX), raw)
            await db.rollback()  # keep the inbox (and its quota) as it was
        return None

    if "append" in paths:
        from hexagone.core.db import system_session

        async with system_session() as db:
            bob = (await db.execute(select(User).where(User.email == "bob@demo.hexagone.test"))).scalar_one()
            org_id = bob.org_id
        async with org_session(org_id, write=True) as db:
            mailbox_id = (await mailboxes.user_mailbox(db, await db.get(User, bob.id))).id
            await db.commit()
        await append(HEAD + b"\r\nwarm-up\r\n")  # first use: compiled SQL, pools, imports
    operations = {"parse": parse, "put": put, "append": append}
    print(f"{'shape':12} {'path':7} {'size MiB':>8} {'peak MiB':>9} {'x size':>7} {'seconds':>8}", flush=True)
    for shape in shapes:
        raw = SHAPES[shape](size)
        for path in paths:
            extra, seconds = await peak(partial(operations[path], raw))
            print(
                f"{shape:12} {path:7} {len(raw) / MIB:8.1f} {extra / MIB:9.1f} {extra / len(raw):7.2f} {seconds:8.2f}",
                flush=True,
            )
        del raw
    await dispose_engine()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size-mib", type=float, default=45)
    p.add_argument("--shapes", default=",".join(SHAPES))
    p.add_argument("--paths", default="parse,put,append")
    args = p.parse_args()
    paths = args.paths.split(",")
    with tempfile.TemporaryDirectory(prefix="hexagone-memory-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEXAGONE_")} | {
            "HEXAGONE_DATA_DIR": f"{tmp}/data",
            "HEXAGONE_LOG_LEVEL": "warning",
            "HEXAGONE_DEMO_PASSWORD": secrets.token_urlsafe(12),
            "HEXAGONE_SECRET_KEY": secrets.token_urlsafe(48),
        }
        if "append" in paths:
            for command in ("migrate", "demo"):
                subprocess.run(
                    [str(Path(sys.executable).parent / "hexagone"), command],
                    env=env,
                    cwd=ROOT,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
        os.environ.update(env)
        print(f"tracemalloc peak above the raw message, SQLite, blobs in {tmp}/data/blobs:")
        asyncio.run(measure(args.shapes.split(","), paths, int(args.size_mib * MIB)))


if __name__ == "__main__":
    sys.exit(main())
