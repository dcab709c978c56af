"""DKIM signing keys per domain, and signing (RFC 6376, with dkimpy).

Each domain of an organisation gets an RSA-2048 key the first time it is needed (a
message sent, the admin console's DNS page): the admin publishes the TXT record shown
there, and every message submitted from that domain is signed with it.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.db import org_session, utcnow
from hexagone.mail.models import DkimKey

KEY_BITS = 2048
# Signed headers: those a forger would change; From is required by RFC 6376.
SIGNED_HEADERS = [
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"in-reply-to",
    b"references",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
]


@dataclass(frozen=True)
class DnsRecord:
    name: str
    type: str
    value: str


def _new_key() -> dict[str, str]:
    """A fresh key pair (tens of milliseconds of CPU: run in a thread)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"private_key_pem": private_pem, "public_key_b64": base64.b64encode(public_der).decode()}


def _query(org_id: uuid.UUID, domain: str) -> Select[DkimKey]:
    return select(DkimKey).where(DkimKey.org_id == org_id, DkimKey.domain == domain)


async def signing_key(db: AsyncSession, org_id: uuid.UUID, domain: str) -> DkimKey:
    """The domain's key, generated (and written in the caller's transaction) on first use.

    The first messages of a new organisation are often sent several at once: each may
    find no key, so the insert yields to whichever committed first (``ON CONFLICT DO
    NOTHING``: on PostgreSQL it waits for that transaction, then skips) and everyone
    reads back the one key that was kept."""
    domain = domain.lower().rstrip(".")
    key = (await db.execute(_query(org_id, domain))).scalar_one_or_none()
    if key is not None:
        return key
    pair = await asyncio.to_thread(_new_key)
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    await db.execute(
        insert(DkimKey)
        .values(org_id=org_id, domain=domain, selector=f"hx{utcnow():%Y%m}", **pair)
        .on_conflict_do_nothing(index_elements=[DkimKey.domain])
    )
    return (await db.execute(_query(org_id, domain))).scalar_one()


async def key_for(org_id: uuid.UUID, domain: str) -> DkimKey:
    """:func:`signing_key` in sessions of its own, for sending: read in a read session,
    made in a write one only the first time (on SQLite, every message sent would
    otherwise take a turn of the write lock to read a key)."""
    async with org_session(org_id) as db:
        key = (await db.execute(_query(org_id, domain.lower().rstrip(".")))).scalar_one_or_none()
    if key is None:
        async with org_session(org_id, write=True) as db:
            key = await signing_key(db, org_id, domain)
            await db.commit()
    return key


def dns_record(key: DkimKey) -> DnsRecord:
    """The TXT record that publishes the key."""
    return DnsRecord(f"{key.selector}._domainkey.{key.domain}", "TXT", f"v=DKIM1; k=rsa; p={key.public_key_b64}")


def sign(raw: bytes, key: DkimKey) -> bytes:
    """The ``DKIM-Signature:`` header (CRLF-terminated) to put in front of ``raw``."""
    present = {
        line.split(b":", 1)[0].strip().lower() for line in raw.split(b"\r\n\r\n", 1)[0].splitlines() if b":" in line
    }
    headers = [h for h in SIGNED_HEADERS if h in present] or [b"from"]
    return dkim.sign(
        raw,
        key.selector.encode(),
        key.domain.encode(),
        key.private_key_pem.encode(),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=headers,
    )
