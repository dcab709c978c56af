"""Mail client autoconfiguration: how Thunderbird, Outlook and Apple devices learn the
IMAP and submission servers from an address alone.

- Thunderbird asks ``https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=…``
  (and ``/.well-known/autoconfig/mail/config-v1.1.xml`` on the domain itself) for a
  *clientConfig 1.1* document.
- Outlook POSTs a *POX Autodiscover* request to ``/autodiscover/autodiscover.xml`` (the
  capitalised path too) on ``autodiscover.<domain>`` or the domain, and reads the IMAP
  and SMTP settings of the response.
- Apple devices install a configuration profile (``/mail/apple.mobileconfig``),
  downloaded by the signed-in person: their own account, without any password.

The first two are public (no sign-in: a client asks before it has an account) and
answer only for domains of organisations that subscribe to mail; they say nothing about
whether an address exists. Both servers use STARTTLS on their ports, and the login is
the e-mail address.
"""

from __future__ import annotations

import plistlib
import uuid
from dataclasses import dataclass
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from hexagone.core.config import Settings, get_settings
from hexagone.core.db import system_session
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _
from hexagone.core.web import add_self_authenticated_paths, login_required, principal_of
from hexagone.identity.service import normalise_domain
from hexagone.mail.service.addresses import org_for_domain

THUNDERBIRD_PATHS = ("/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml")
AUTODISCOVER_PATHS = ("/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml")
AUTODISCOVER_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
MAX_REQUEST = 16 * 1024
XML = "application/xml; charset=utf-8"

# Outlook's POST carries no CSRF token and no cookie worth trusting: the answer depends
# on the posted address only and changes nothing.
add_self_authenticated_paths(*AUTODISCOVER_PATHS)


@dataclass(frozen=True)
class MailDomain:
    name: str
    org_name: str


async def mail_domain(domain: str) -> MailDomain | None:
    """The domain, if an organisation that subscribes to mail has it."""
    try:
        domain = normalise_domain(domain)
    except Invalid:  # a malformed name is simply not ours
        return None
    async with system_session() as db:
        org = await org_for_domain(db, domain)
    return MailDomain(domain, org.name) if org is not None else None


def _domain_of(address: str) -> str:
    return address.strip().rpartition("@")[2]


def _element(parent: ElementTree.Element, tag: str, text: object = None, **attributes: str) -> ElementTree.Element:
    child = ElementTree.SubElement(parent, tag, attributes)
    if text is not None:
        child.text = str(text)
    return child


def _document(root: ElementTree.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(
        root, encoding="utf-8", xml_declaration=False
    )


# --- Thunderbird ---------------------------------------------------------------------


def thunderbird_config(domain: MailDomain, settings: Settings) -> bytes:
    """clientConfig 1.1, as Thunderbird's readFromXML expects it."""
    host = settings.resolved_mail_hostname
    root = ElementTree.Element("clientConfig", {"version": "1.1"})
    provider = _element(root, "emailProvider", id=domain.name)
    _element(provider, "domain", domain.name)
    _element(provider, "displayName", domain.org_name)
    _element(provider, "displayShortName", domain.org_name)
    for tag, kind, port in (
        ("incomingServer", "imap", settings.imap_port),
        ("outgoingServer", "smtp", settings.submission_port),
    ):
        server = _element(provider, tag, type=kind)
        _element(server, "hostname", host)
        _element(server, "port", port)
        _element(server, "socketType", "STARTTLS")
        _element(server, "authentication", "password-cleartext")
        _element(server, "username", "%EMAILADDRESS%")
    return _document(root)


async def thunderbird(request: Request) -> Response:
    address = request.query_params.get("emailaddress", "")
    host = request.url.hostname or ""
    domain = await mail_domain(_domain_of(address) if address else host.removeprefix("autoconfig."))
    if domain is None:
        return PlainTextResponse(_("No mail service for this domain."), status_code=404)
    return Response(thunderbird_config(domain, get_settings()), media_type=XML)


# --- Outlook ----------------------------------------------------------------------------


def autodiscover_response(address: str, settings: Settings) -> bytes:
    """A POX Autodiscover response with the IMAP and SMTP settings of ``address``."""
    root = ElementTree.Element("Autodiscover", {"xmlns": AUTODISCOVER_NS})
    response = _element(root, "Response", xmlns=OUTLOOK_NS)
    account = _element(response, "Account")
    _element(account, "AccountType", "email")
    _element(account, "Action", "settings")
    for kind, port in (("IMAP", settings.imap_port), ("SMTP", settings.submission_port)):
        protocol = _element(account, "Protocol")
        _element(protocol, "Type", kind)
        _element(protocol, "Server", settings.resolved_mail_hostname)
        _element(protocol, "Port", port)
        _element(protocol, "DomainRequired", "off")
        _element(protocol, "LoginName", address)
        _element(protocol, "SPA", "off")
        _element(protocol, "SSL", "on")
        _element(protocol, "Encryption", "TLS")  # STARTTLS on the port
        _element(protocol, "AuthRequired", "on")
        if kind == "SMTP":
            _element(protocol, "UsePOPAuth", "on")
    return _document(root)


def autodiscover_error(code: int, message: str) -> bytes:
    root = ElementTree.Element("Autodiscover", {"xmlns": AUTODISCOVER_NS})
    response = _element(root, "Response")
    error = _element(response, "Error")
    _element(error, "ErrorCode", code)
    _element(error, "Message", message)
    return _document(root)


def requested_address(body: bytes) -> str:
    """The ``EMailAddress`` of a POX request, or "" when the body is not one. Documents
    with a DOCTYPE are refused (no entity expansion for anyone)."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        return ""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return ""
    for element in root.iter():
        if element.tag.rpartition("}")[2] == "EMailAddress" and element.text:
            return element.text.strip()[:320]
    return ""


async def autodiscover(request: Request) -> Response:
    if request.method == "POST":
        body = await request.body()
        address = requested_address(body[:MAX_REQUEST]) if len(body) <= MAX_REQUEST else ""
    else:
        address = request.query_params.get("emailaddress") or request.query_params.get("email") or ""
    if "@" not in address:
        return Response(autodiscover_error(600, "Invalid Request"), status_code=400, media_type=XML)
    if await mail_domain(_domain_of(address)) is None:
        return Response(autodiscover_error(600, "Invalid Request"), status_code=404, media_type=XML)
    return Response(autodiscover_response(address, get_settings()), media_type=XML)


# --- Apple ------------------------------------------------------------------------------


def apple_profile(email: str, display_name: str, user_id: uuid.UUID, org_name: str, settings: Settings) -> bytes:
    """An unsigned configuration profile with one IMAP account; the device asks for the
    password when it installs it."""
    domain = _domain_of(email)
    identifier = ".".join(reversed(domain.split("."))) + ".hexagone.mail"
    host = settings.resolved_mail_hostname
    account = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{identifier}.account.{user_id}",
        "PayloadUUID": str(uuid.uuid5(user_id, "mail account")).upper(),
        "PayloadDisplayName": email,
        "EmailAccountDescription": f"{org_name} ({email})",
        "EmailAccountName": display_name,
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAddress": email,
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "IncomingMailServerHostName": host,
        "IncomingMailServerPortNumber": settings.imap_port,
        "IncomingMailServerUseSSL": True,
        "IncomingMailServerUsername": email,
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerHostName": host,
        "OutgoingMailServerPortNumber": settings.submission_port,
        "OutgoingMailServerUseSSL": True,
        "OutgoingMailServerUsername": email,
        "OutgoingPasswordSameAsIncomingPassword": True,
    }
    profile = {
        "PayloadContent": [account],
        "PayloadDisplayName": _("Mail of %(org)s", org=org_name),
        "PayloadDescription": _("Sets up the mail account %(email)s.", email=email),
        "PayloadIdentifier": f"{identifier}.{user_id}",
        "PayloadOrganization": org_name,
        "PayloadRemovalDisallowed": False,
        "PayloadType": "Configuration",
        "PayloadUUID": str(uuid.uuid5(user_id, "mail profile")).upper(),
        "PayloadVersion": 1,
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)


@login_required
async def apple(request: Request) -> Response:
    principal = principal_of(request)
    assert principal is not None
    if principal.is_guest:
        return PlainTextResponse(_("Guests have no mailbox."), status_code=403)
    body = apple_profile(principal.email, principal.display_name, principal.user_id, principal.org_name, get_settings())
    filename = f"{_domain_of(principal.email)}-mail.mobileconfig"
    return Response(
        body,
        media_type="application/x-apple-aspen-config",
        headers={"content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store"},
    )


PUBLIC_ROUTES = [
    *(Route(path, thunderbird) for path in THUNDERBIRD_PATHS),
    *(Route(path, autodiscover, methods=["GET", "POST"]) for path in AUTODISCOVER_PATHS),
]
ROUTES = [Route("/apple.mobileconfig", apple)]
