"""Parsing stored messages again once the parser has changed (``hexagone mail reparse``).

A message is parsed once, at delivery (:func:`hexagone.mail.mime.parse`), and what the
parse makes is stored with it: the MIME tree (IMAP's BODYSTRUCTURE and sections, the
webmail's attachments), the envelope, the address and date columns, the search texts.
When the parser learns to read messages differently, :data:`mimetree.VERSION` goes up,
and every message stored with a tree of an older version gets all of those columns again
from its bytes (:func:`hexagone.mail.service.store.parsed_columns`, as delivery writes
them). Flags, folders, UIDs and mod-sequences are not touched.

The work goes by batches of messages in id order, each batch its own transaction, and
only takes messages whose tree is of an older version: stopped, it resumes where it
stopped when run again; run twice, the second run has nothing to do. Running IMAP
servers need not be told: their render cache never keeps what it drew from a tree of an
older version (:mod:`hexagone.mail.imap.rendered`). A client that had cached a message's
BODYSTRUCTURE keeps its copy (the message has not changed); new clients see the new one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import ColumnElement, func, or_, select, update

from hexagone.core import blobs
from hexagone.core.db import system_session
from hexagone.mail import mime, mimetree
from hexagone.mail.models import Message
from hexagone.mail.service.store import parsed_columns

BATCH = 100


@dataclass
class Report:
    reparsed: int = 0
    unreadable: int = 0  # messages whose bytes are missing from the blob store (left as they were)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _stale() -> ColumnElement[bool]:
    version = Message.structure["v"].as_integer()
    return or_(version.is_(None), version < mimetree.VERSION)


async def _read(key: str) -> bytes | None:
    try:
        return await blobs.get_store().read(key)
    except blobs.BlobNotFound:
        return None


async def reparse(batch: int = BATCH, on_progress: Callable[[int, int], None] = lambda done, total: None) -> Report:
    """Replace every stored MIME tree of an older version; ``on_progress(done, total)``
    after each batch."""
    report = Report()
    async with system_session() as db:
        total = (await db.execute(select(func.count()).select_from(Message).where(_stale()))).scalar_one()
    after: uuid.UUID | None = None
    while True:
        async with system_session(write=True) as db:
            query = select(Message.id, Message.blob_key).where(_stale()).order_by(Message.id).limit(batch)
            rows = (await db.execute(query if after is None else query.where(Message.id > after))).all()
            if not rows:
                return report
            after = rows[-1].id
            keys = sorted({row.blob_key for row in rows})  # copies of a message share their bytes
            raws = dict(zip(keys, await asyncio.gather(*(_read(key) for key in keys)), strict=True))
            parsed = {key: await asyncio.to_thread(mime.parse, raw) for key, raw in raws.items() if raw is not None}
            for row in rows:
                if row.blob_key not in parsed:
                    report.unreadable += 1
                    continue
                await db.execute(
                    update(Message)
                    .where(Message.id == row.id)
                    .values(**parsed_columns(parsed[row.blob_key]))
                    .execution_options(synchronize_session=False)
                )
                report.reparsed += 1
            await db.commit()
        on_progress(report.reparsed + report.unreadable, total)
