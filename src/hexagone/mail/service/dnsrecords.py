"""The DNS records an organisation publishes for each of its mail domains: where mail
goes (MX), who may send it (SPF), the DKIM key that signs it, what receivers do with
mail that fails both (DMARC), and where mail clients find their settings (autoconfig,
autodiscover, RFC 6186 SRV records).

These are suggestions computed from the settings; the domain's DNS is the admin's to
edit. The DKIM key is generated the first time a domain's records are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.config import Settings
from hexagone.core.i18n import gettext as _
from hexagone.identity.service import org_domains, require_admin
from hexagone.mail.service import dkim


@dataclass(frozen=True)
class Record:
    purpose: str
    name: str
    type: str
    value: str


def web_host(settings: Settings) -> tuple[str, int]:
    """The host name and port people reach the web app at (autoconfig lives there)."""
    parts = urlsplit(settings.resolved_base_url)
    return parts.hostname or settings.resolved_mail_hostname, parts.port or (443 if parts.scheme == "https" else 80)


def records(domain: str, dkim_record: dkim.DnsRecord, settings: Settings) -> list[Record]:
    mail_host = settings.resolved_mail_hostname
    web, web_port = web_host(settings)
    return [
        Record(_("Incoming mail goes to this server"), domain, "MX", f"10 {mail_host}"),
        Record(_("SPF: only the domain's mail servers send its mail"), domain, "TXT", "v=spf1 mx -all"),
        Record(
            _("DKIM: the key that signs the domain's outgoing mail"),
            dkim_record.name,
            dkim_record.type,
            dkim_record.value,
        ),
        Record(
            _("DMARC: receivers quarantine mail that fails SPF and DKIM, and send reports"),
            f"_dmarc.{domain}",
            "TXT",
            f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}",
        ),
        Record(_("Thunderbird finds its settings here"), f"autoconfig.{domain}", "CNAME", web),
        Record(_("Outlook finds its settings here"), f"autodiscover.{domain}", "CNAME", web),
        Record(_("Outlook finds its settings here"), f"_autodiscover._tcp.{domain}", "SRV", f"0 0 {web_port} {web}"),
        Record(
            _("Mail clients find the IMAP server (RFC 6186)"),
            f"_imap._tcp.{domain}",
            "SRV",
            f"0 1 {settings.imap_port} {mail_host}",
        ),
        Record(
            _("Mail clients find the submission server (RFC 6186)"),
            f"_submission._tcp.{domain}",
            "SRV",
            f"0 1 {settings.submission_port} {mail_host}",
        ),
        Record(
            _("Mail rule editors find the ManageSieve server (RFC 5804)"),
            f"_sieve._tcp.{domain}",
            "SRV",
            f"0 1 {settings.managesieve_port} {mail_host}",
        ),
    ]


async def domain_records(db: AsyncSession, actor: Principal, settings: Settings) -> dict[str, list[Record]]:
    """Each of the organisation's domains with its records (DKIM keys made as needed:
    the caller commits)."""
    require_admin(actor)
    found = {}
    for domain in await org_domains(db):
        key = await dkim.signing_key(db, actor.org_id, domain)
        found[domain] = records(domain, dkim.dns_record(key), settings)
    return found
