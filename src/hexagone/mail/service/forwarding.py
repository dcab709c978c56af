"""Sending on a copy that a mail rule redirected (Sieve ``redirect``, RFC 5228 4.2).

It listens to :data:`hexagone.mail.service.delivery.REDIRECTED` (a durable job per
redirect, committed with the delivery), so a slow or unreachable peer never delays the
``250``. The copy leaves as it arrived, with ``Delivered-To:`` naming the mailbox on top
(how :mod:`.filtering` sees a loop when it comes back) and without its ``Return-Path:``
(the next final delivery writes its own, RFC 5321 4.4). Its envelope sender is the
mailbox's address, so that a failure is reported to the person whose rule sent it on
and SPF passes for our domain; a bounce (null sender) stays one, so that it never loops.
The stored bytes are kept for the job (even when every copy was discarded) and handed
to the blob collector once sent.
"""

from __future__ import annotations

import uuid

from hexagone.core import blobs
from hexagone.core.db import org_session
from hexagone.core.pubsub import events
from hexagone.mail.service import relay, store
from hexagone.mail.transport import headers


async def on_redirected(event: dict[str, object]) -> None:
    address = str(event["address"])
    recipients = event["recipients"]
    assert isinstance(recipients, list)
    raw = await blobs.get_store().read(str(event["blob_key"]))
    copy = headers.prepend(headers.remove(raw, lambda name, _: name == "return-path"), f"Delivered-To: {address}")
    org_id = uuid.UUID(str(event["org_id"]))
    await relay.send_anywhere(
        copy, mail_from=address if event["mail_from"] else "", recipients=[str(r) for r in recipients], org_id=org_id
    )
    async with org_session(org_id) as db:  # collected unless a stored copy still refers to it
        store.forget_blobs(db, org_id, [str(event["blob_key"])])
        await db.commit()


JOB = events.handler_job_kind(on_redirected)
