"""Handing queued mail to other servers: where a domain's mail goes, and one SMTP
transaction per domain (aiosmtplib), with a verdict per recipient.

Where mail for a domain goes, first match wins: ``HEXAGONE_MAIL_MX_OVERRIDE``
(``domain=host:port``), ``HEXAGONE_MAIL_SMARTHOST``, then the domain's MX records
(dnspython, through :mod:`.dns`), best preference first, the domain itself when it has
none (RFC 5321 5.1), nothing at all for a null MX (RFC 7505). TLS is opportunistic, as
between MTAs: STARTTLS when offered, without checking the certificate (nobody can on
port 25 without DANE or MTA-STS), and plain text if the handshake fails.

This module never decides what a failure means for the queue: it reports, the queue
(:mod:`hexagone.mail.service.outbound`) retries or bounces.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import ssl
from dataclasses import dataclass

import aiosmtplib
import dns.exception
import dns.resolver

from hexagone.core.config import Settings, get_settings
from hexagone.mail.transport import dns as mail_dns

log = logging.getLogger("hexagone.mail.outbound")

TIMEOUT = 120.0  # per command; RFC 5321 4.5.3.2 asks for minutes, a stuck peer must not hold a worker long
_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")


@dataclass(frozen=True)
class Reply:
    """What became of one recipient: the server's reply, or our own diagnosis (code
    ``451``/``550`` with the reason) when no server answered for it."""

    code: int
    text: str

    @property
    def delivered(self) -> bool:
        return 200 <= self.code < 300

    @property
    def permanent(self) -> bool:
        return self.code >= 500

    @property
    def status(self) -> str:
        """The RFC 3463 status: the one the server gave, else one from the reply code."""
        found = _ENHANCED.match(self.text)
        return found[1] if found else f"{self.code // 100}.0.0"

    @property
    def diagnostic(self) -> str:
        return f"{self.code} {self.text}"


class Undeliverable(Exception):
    """No server to try for a domain, with the reply that stands for all its recipients."""

    def __init__(self, reply: Reply):
        super().__init__(reply.diagnostic)
        self.reply = reply


def _host_port(value: str, default_port: int = 25) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` → (host, port)."""
    value = value.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.lstrip(":")
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    else:
        host, port = value, ""
    return host, int(port) if port else default_port


def overrides(settings: Settings) -> dict[str, tuple[str, int]]:
    result = {}
    for item in settings.mail_mx_override.split(","):
        domain, _, target = item.partition("=")
        if domain.strip() and target.strip():
            result[domain.strip().lower()] = _host_port(target)
    return result


async def routes(domain: str, settings: Settings | None = None) -> list[tuple[str, int]]:
    """The servers to try for ``domain``, in order; Undeliverable when there are none."""
    settings = settings or get_settings()
    override = overrides(settings).get(domain.lower())
    if override:
        return [override]
    if settings.mail_smarthost:
        return [_host_port(settings.mail_smarthost)]
    try:
        answer = await mail_dns.async_resolver().resolve(domain, "MX", search=False)
    except dns.resolver.NXDOMAIN:
        raise Undeliverable(Reply(550, f"5.1.2 Domain {domain} does not exist")) from None
    except dns.resolver.NoAnswer:
        return [(domain, 25)]  # implicit MX
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise Undeliverable(Reply(451, f"4.4.3 No answer from DNS for {domain}: {exc}")) from None
    records = [(r.preference, random.random(), r.exchange.to_text(omit_final_dot=True)) for r in answer]
    if len(records) == 1 and records[0][2] in ("", "."):
        raise Undeliverable(Reply(556, f"5.1.10 Domain {domain} accepts no mail (null MX)"))
    return [(host, 25) for _, _, host in sorted(records) if host not in ("", ".")]


def _needs_smtputf8(mail_from: str, recipients: list[str]) -> bool:
    return not all(a.isascii() for a in [mail_from, *recipients])


async def _transaction(
    host: str, port: int, mail_from: str, recipients: list[str], raw: bytes, *, tls: bool, settings: Settings
) -> dict[str, Reply]:
    client = aiosmtplib.SMTP(
        hostname=host,
        port=port,
        local_hostname=settings.resolved_mail_hostname,
        timeout=TIMEOUT,
        start_tls=None if tls else False,
        validate_certs=False,
    )
    await client.connect()
    results: dict[str, Reply] = {}
    try:
        utf8 = _needs_smtputf8(mail_from, recipients)
        if utf8 and not client.supports_extension("smtputf8"):
            return {
                r: Reply(553, "5.6.7 The receiving server does not accept internationalised addresses")
                for r in recipients
            }
        encoding = "utf-8" if utf8 else "ascii"
        options = [f"SIZE={len(raw)}"] if client.supports_extension("size") else []
        if not raw.isascii() and client.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        if utf8:
            options.append("SMTPUTF8")
        try:
            await client.mail(mail_from, options=options, encoding=encoding)
        except aiosmtplib.SMTPResponseException as exc:
            return {r: Reply(exc.code, exc.message) for r in recipients}
        accepted = []
        for recipient in recipients:
            try:
                await client.rcpt(recipient, encoding=encoding)
                accepted.append(recipient)
            except aiosmtplib.SMTPResponseException as exc:
                results[recipient] = Reply(exc.code, exc.message)
        if accepted:
            try:
                response = await client.data(raw if raw.endswith(b"\r\n") else raw + b"\r\n")
                reply = Reply(response.code, response.message)
            except aiosmtplib.SMTPResponseException as exc:
                reply = Reply(exc.code, exc.message)
            results.update(dict.fromkeys(accepted, reply))
        with contextlib.suppress(aiosmtplib.SMTPException):  # the verdicts are in; an early hang-up changes nothing
            await client.quit()
        return results
    finally:
        client.close()


async def deliver(
    domain: str, mail_from: str, recipients: list[str], raw: bytes, settings: Settings | None = None
) -> dict[str, Reply]:
    """Hand ``raw`` to ``domain``'s servers for ``recipients``: a reply per recipient."""
    settings = settings or get_settings()
    try:
        servers = await routes(domain, settings)
    except Undeliverable as exc:
        return dict.fromkeys(recipients, exc.reply)
    last_error = "no server"
    for host, port in servers:
        for tls in (True, False):
            try:
                return await _transaction(host, port, mail_from, recipients, raw, tls=tls, settings=settings)
            except (ssl.SSLError, aiosmtplib.SMTPNotSupported) as exc:
                last_error = f"TLS with {host}:{port} failed: {exc}"
                log.info("%s; trying again without TLS", last_error)
                continue
            except (OSError, aiosmtplib.SMTPException, TimeoutError) as exc:
                last_error = f"{host}:{port}: {exc}"
                log.info("delivery to %s failed: %s", domain, last_error)
                break  # next server
    return {r: Reply(451, f"4.4.1 Could not reach a mail server for {domain} ({last_error})") for r in recipients}
