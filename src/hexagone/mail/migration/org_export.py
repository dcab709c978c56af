"""Mail's part of an organisation's export (``hexagone org export``): every mailbox of the
organisation (people's and shared) as an mbox tree, one file per folder, under
``mail/<address>/``, written by the same writer as ``hexagone mail export``.

One mailbox at a time goes to a staging directory on disk, then into the zip, then away:
the export holds at most one mailbox on disk besides the zip, and none in memory. It
lives beside the mbox writer (migration uses the service, never the reverse).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.export import ExportWriter
from hexagone.mail.migration.export import export_mailbox
from hexagone.mail.models import Mailbox

FORMAT = "mbox"


async def export(db: AsyncSession, org_id: uuid.UUID, writer: ExportWriter) -> None:
    rows = list((await db.execute(select(Mailbox).where(Mailbox.org_id == org_id).order_by(Mailbox.address))).scalars())
    for row in rows:
        with writer.staging_dir() as staging:
            await export_mailbox(row, FORMAT, staging / "mailbox")
            writer.add_tree(staging / "mailbox", row.address)
