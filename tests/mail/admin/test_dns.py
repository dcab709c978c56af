"""The DNS page: for each domain of the organisation, the MX, SPF, DKIM, DMARC and client
discovery records, with the domain's own DKIM key (made once, then kept)."""

from __future__ import annotations

import html

import httpx
from sqlalchemy import select

from hexagone.core.db import org_session, system_session
from hexagone.identity.service import orgs
from hexagone.mail.models import DkimKey
from tests.conftest import Server
from tests.factories import principal, unique
from tests.mail.admin.factories_mailadmin import mail_admin


async def dkim_keys(domain: str) -> list[DkimKey]:
    async with system_session() as db:
        return list((await db.execute(select(DkimKey).where(DkimKey.domain == domain))).scalars())


async def test_dns_page_shows_every_record_of_every_domain(client: httpx.AsyncClient, server: Server) -> None:
    org, admin = await mail_admin(client)
    second = f"{unique('second')}.test"
    async with org_session(org.id) as db:
        await orgs.add_domain(db, await principal(admin), second)
        await db.commit()
    page = html.unescape((await client.get("/mail/admin")).text)
    for domain in (org.domain, second):
        [key] = await dkim_keys(domain)
        assert '<h2 id="domain-' in page and f">{domain}</h2>" in page
        expected = [
            (domain, "MX", "10 localhost"),
            (domain, "TXT", "v=spf1 mx -all"),
            (f"{key.selector}._domainkey.{domain}", "TXT", f"v=DKIM1; k=rsa; p={key.public_key_b64}"),
            (f"_dmarc.{domain}", "TXT", f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}"),
            (f"autoconfig.{domain}", "CNAME", "127.0.0.1"),
            (f"autodiscover.{domain}", "CNAME", "127.0.0.1"),
            (f"_autodiscover._tcp.{domain}", "SRV", f"0 0 {server.port} 127.0.0.1"),
            (f"_imap._tcp.{domain}", "SRV", f"0 1 {server.imap_port} localhost"),
            (f"_submission._tcp.{domain}", "SRV", f"0 1 {server.submission_port} localhost"),
            (f"_sieve._tcp.{domain}", "SRV", f"0 1 {server.managesieve_port} localhost"),
        ]
        for name, kind, value in expected:
            assert f"<code>{name}</code>" in page, name
            assert f"<td>{kind}</td>" in page
            assert value in page, value


async def test_dns_page_keeps_the_dkim_key_it_made_first(client: httpx.AsyncClient) -> None:
    org, _admin = await mail_admin(client)
    await client.get("/mail/admin")
    [first] = await dkim_keys(org.domain)
    await client.get("/mail/admin")
    [again] = await dkim_keys(org.domain)
    assert again.id == first.id and first.org_id == org.id
    assert len(first.public_key_b64) > 300  # RSA 2048, DER in base64
