"""SPF, DKIM and DMARC verdicts on inbound mail, written in Authentication-Results.

The sending domains are made up; their SPF, DKIM and DMARC records are served by the
test DNS server (``conftest.ZONE``) that every test server asks."""

from __future__ import annotations

import base64
import email
import uuid
from dataclasses import dataclass

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hexagone.mail.service.authcheck import _split_for_dkim
from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import make_message
from tests.mail.smtp.dns_server import Zone
from tests.mail.smtp.helpers import inbound, inbox_bytes, mail_user

pytestmark = pytest.mark.usefixtures("migrated")

SELECTOR = "s2026"


@dataclass
class SendingDomain:
    name: str
    private_pem: bytes

    def sign(self, raw: bytes) -> bytes:
        return (
            dkim.sign(
                raw,
                SELECTOR.encode(),
                self.name.encode(),
                self.private_pem,
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
            )
            + raw
        )


def sending_domain(
    zone: Zone,
    *,
    spf: str = "v=spf1 ip4:127.0.0.1 -all",
    dmarc: str | None = "v=DMARC1; p=reject",
    parent: str | None = None,
) -> SendingDomain:
    """A domain that publishes a DKIM key and the given SPF and DMARC records."""
    name = f"{parent + '.' if parent else ''}sender{uuid.uuid4().hex[:8]}.example"
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    zone.add(f"{SELECTOR}._domainkey.{name}", "TXT", f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}")
    zone.add(name, "TXT", spf)
    if dmarc:
        zone.add(f"_dmarc.{name}", "TXT", dmarc)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return SendingDomain(name, pem)


async def results(server: Server, recipient: TestUser, mail_from: str, raw: bytes) -> list[str]:
    """The methods' results in the Authentication-Results field the message got."""
    with inbound(server) as client:
        client.sendmail(mail_from, [recipient.email], raw)
    stored = (await inbox_bytes(recipient))[-1]
    values = email.message_from_bytes(stored).get_all("Authentication-Results")
    assert len(values) == 1, values
    authserv_id, *methods = [part.strip() for part in " ".join(values[0].split()).split(";")]
    assert authserv_id == "localhost"
    return methods


async def test_authresults_signed_message_from_an_authorised_server_passes_all(mail_server: Server, zone: Zone) -> None:
    user, domain = await mail_user(), sending_domain(zone)
    raw = domain.sign(make_message(sender=f"news@{domain.name}", to=user.email))
    spf, dkim_result, dmarc = await results(mail_server, user, f"bounces@{domain.name}", raw)
    assert spf == f"spf=pass smtp.mailfrom=bounces@{domain.name}"
    assert dkim_result.startswith(f"dkim=pass header.d={domain.name} header.s={SELECTOR} header.b=")
    assert dmarc == f"dmarc=pass policy.dmarc=reject header.from={domain.name}"


async def test_authresults_body_changed_after_signing_fails_dkim_but_spf_aligns(
    mail_server: Server, zone: Zone
) -> None:
    user, domain = await mail_user(), sending_domain(zone)
    raw = domain.sign(make_message(sender=f"news@{domain.name}", to=user.email)).replace(b"test", b"TEST")
    spf, dkim_result, dmarc = await results(mail_server, user, f"news@{domain.name}", raw)
    assert spf.startswith("spf=pass") and dkim_result.startswith("dkim=fail") and dmarc.startswith("dmarc=pass")


async def test_authresults_forged_sender_fails_spf_and_dmarc(mail_server: Server, zone: Zone) -> None:
    user = await mail_user()
    victim = sending_domain(zone, spf="v=spf1 ip4:192.0.2.99 -all")
    raw = make_message(sender=f"president@{victim.name}", to=user.email)
    spf, dkim_result, dmarc = await results(mail_server, user, f"president@{victim.name}", raw)
    assert (spf.split()[0], dkim_result, dmarc) == (
        "spf=fail",
        "dkim=none",
        f"dmarc=fail policy.dmarc=reject header.from={victim.name}",
    )


async def test_authresults_subdomain_gets_the_parents_subdomain_policy(mail_server: Server, zone: Zone) -> None:
    user = await mail_user()
    parent = sending_domain(zone, dmarc=None)
    zone.add(f"_dmarc.{parent.name}", "TXT", "v=DMARC1; p=reject; sp=quarantine")
    child = f"mail.{parent.name}"
    raw = parent.sign(make_message(sender=f"info@{child}", to=user.email))  # d= the parent: relaxed alignment
    spf, dkim_result, dmarc = await results(mail_server, user, f"info@{child}", raw)
    assert spf.startswith("spf=none") and dkim_result.startswith("dkim=pass")
    assert dmarc == f"dmarc=pass policy.dmarc=quarantine header.from={child}"


async def test_authresults_unknown_domain_gets_none_everywhere(mail_server: Server) -> None:
    user = await mail_user()
    raw = make_message(sender="someone@unpublished.example", to=user.email)
    assert await results(mail_server, user, "someone@unpublished.example", raw) == [
        "spf=none smtp.mailfrom=someone@unpublished.example",
        "dkim=none",
        "dmarc=none header.from=unpublished.example",
    ]


async def test_authresults_forged_results_in_our_name_are_removed(mail_server: Server, zone: Zone) -> None:
    user = await mail_user()
    forged = (
        b"Authentication-Results: localhost; spf=pass; dkim=pass; dmarc=pass\r\n"
        b"Authentication-Results: mx.elsewhere.example; spf=fail\r\n"
    )
    raw = forged + make_message(sender="someone@unpublished.example", to=user.email)
    with inbound(mail_server) as client:
        client.sendmail("someone@unpublished.example", [user.email], raw)
    stored = (await inbox_bytes(user))[-1]
    fields = email.message_from_bytes(stored).get_all("Authentication-Results")
    assert len(fields) == 2 and "mx.elsewhere.example" in fields[1] and "spf=none" in fields[0]


async def test_authresults_signature_unreadable_before_its_selector_is_delivered_with_a_failure(
    mail_server: Server, zone: Zone
) -> None:
    user, domain = await mail_user(), sending_domain(zone)
    raw = b"DKIM-Signature: v=1; a=rsa-sha256; bh=x\r\n" + make_message(sender=f"news@{domain.name}", to=user.email)
    spf, dkim_result, dmarc = await results(mail_server, user, f"news@{domain.name}", raw)
    assert spf.startswith("spf=pass") and dmarc.startswith("dmarc=pass")
    assert dkim_result.split()[0] in ("dkim=fail", "dkim=permerror", "dkim=neutral"), dkim_result


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@example.org\r\nSubject: x\r\n\r\nline one \r\n\r\nline two\r\n",
        b"From: a@example.org\nSubject: x\n\nbare\nline feeds\n",
        b"From: a@example.org\r\nSubject: x\r\n\r\nmixed\nendings\r\nhere\n",
        b"From: a@example.org\r\nSubject: folded\r\n\tvalue\r\n\r\n",
        b"From: a@example.org\r\nSubject: no body at all\r\n",
    ],
)
def test_dkim_split_gives_the_header_and_body_dkimpy_would_make(raw: bytes) -> None:
    head, body = _split_for_dkim(raw)
    assert dkim.rfc822_parse(head)[0] == dkim.rfc822_parse(raw)[0]
    assert body == dkim.rfc822_parse(raw)[1]
