"""Mail client autoconfiguration: the Thunderbird document has every element Thunderbird's
reader requires with the values it accepts; the Outlook POX response has the account's
IMAP and SMTP settings; the Apple profile holds the signed-in person's account and no
password. Only domains of organisations that subscribe to mail are answered."""

from __future__ import annotations

import plistlib
import re
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.conftest import Server
from tests.factories import login, make_org, make_user
from tests.mail.factories import make_mail_org

HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$", re.IGNORECASE
)
# What Thunderbird's readFromXML translates (anything else makes it drop the server).
SOCKET_TYPES = {"plain", "SSL", "STARTTLS"}
AUTHENTICATIONS = {"password-cleartext", "plain", "password-encrypted", "secure", "GSSAPI", "NTLM"}
AUTODISCOVER = "{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}"
OUTLOOK = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"
OUTLOOK_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>{address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"""


def check_thunderbird_server(server: ET.Element, kind: str, port: int) -> None:
    assert server.get("type") == kind
    assert HOSTNAME.match(server.findtext("hostname", ""))
    assert server.findtext("hostname") == "localhost"
    assert 1 <= int(server.findtext("port", "0")) <= 65535 and int(server.findtext("port", "0")) == port
    assert server.findtext("socketType") in SOCKET_TYPES and server.findtext("socketType") == "STARTTLS"
    assert server.findtext("authentication") in AUTHENTICATIONS
    assert server.findtext("authentication") == "password-cleartext"
    assert server.findtext("username") == "%EMAILADDRESS%"


@pytest.mark.parametrize("path", ["/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"])
async def test_thunderbird_document_has_what_thunderbird_requires(
    client: httpx.AsyncClient, server: Server, path: str
) -> None:
    org = await make_mail_org()
    response = await client.get(path, params={"emailaddress": f"jeanne.martin@{org.domain}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    [provider] = root.findall("emailProvider")
    assert provider.get("id") == org.domain and HOSTNAME.match(provider.get("id", ""))
    assert [d.text for d in provider.findall("domain")] == [org.domain]
    assert provider.findtext("displayName") == org.name and provider.findtext("displayShortName") == org.name
    [incoming] = provider.findall("incomingServer")
    [outgoing] = provider.findall("outgoingServer")
    check_thunderbird_server(incoming, "imap", server.imap_port)
    check_thunderbird_server(outgoing, "smtp", server.submission_port)


async def test_thunderbird_document_from_the_autoconfig_host_alone(client: httpx.AsyncClient) -> None:
    org = await make_mail_org()
    response = await client.get("/mail/config-v1.1.xml", headers={"host": f"autoconfig.{org.domain}"})
    assert response.status_code == 200
    assert ET.fromstring(response.content).find("emailProvider").get("id") == org.domain  # type: ignore[union-attr]


async def test_autoconfiguration_answers_only_for_domains_with_mail(client: httpx.AsyncClient) -> None:
    without_mail = await make_org()
    for address in (f"a@{without_mail.domain}", "a@unknown.test", "not-an-address", "a@exa mple.test"):
        response = await client.get("/mail/config-v1.1.xml", params={"emailaddress": address})
        assert response.status_code == 404, address
        response = await client.post("/autodiscover/autodiscover.xml", content=OUTLOOK_REQUEST.format(address=address))
        assert response.status_code in (400, 404), address
    # The public paths do not open the rest of the module to anonymous visitors.
    assert (await client.get("/mail/admin")).status_code == 404


@pytest.mark.parametrize("path", ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"])
async def test_outlook_autodiscover_answers_the_imap_and_smtp_settings(
    client: httpx.AsyncClient, server: Server, path: str
) -> None:
    org = await make_mail_org()
    address = f"jeanne.martin@{org.domain}"
    response = await client.post(
        path, content=OUTLOOK_REQUEST.format(address=address), headers={"content-type": "text/xml"}
    )  # no cookie, no CSRF token: as Outlook
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    assert root.tag == f"{AUTODISCOVER}Autodiscover"
    account = root.find(f"{OUTLOOK}Response/{OUTLOOK}Account")
    assert account is not None
    assert account.findtext(f"{OUTLOOK}AccountType") == "email" and account.findtext(f"{OUTLOOK}Action") == "settings"
    protocols = {p.findtext(f"{OUTLOOK}Type"): p for p in account.findall(f"{OUTLOOK}Protocol")}
    assert set(protocols) == {"IMAP", "SMTP"}
    for kind, port in (("IMAP", server.imap_port), ("SMTP", server.submission_port)):
        protocol = protocols[kind]
        assert protocol.findtext(f"{OUTLOOK}Server") == "localhost"
        assert protocol.findtext(f"{OUTLOOK}Port") == str(port)
        assert protocol.findtext(f"{OUTLOOK}LoginName") == address
        assert protocol.findtext(f"{OUTLOOK}SSL") == "on" and protocol.findtext(f"{OUTLOOK}Encryption") == "TLS"
        assert protocol.findtext(f"{OUTLOOK}AuthRequired") == "on" and protocol.findtext(f"{OUTLOOK}SPA") == "off"
    again = await client.get(path, params={"emailaddress": address})
    assert again.status_code == 200 and again.content == response.content


@pytest.mark.parametrize(
    "body",
    [
        "not xml at all",
        "<Autodiscover><Request></Request></Autodiscover>",
        '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        "<Autodiscover><Request><EMailAddress>&lol2;@x.test</EMailAddress></Request></Autodiscover>",
        "<a>" * 5000,
    ],
)
async def test_outlook_autodiscover_bad_requests_get_a_pox_error(client: httpx.AsyncClient, body: str) -> None:
    response = await client.post("/autodiscover/autodiscover.xml", content=body)
    assert response.status_code == 400
    error = ET.fromstring(response.content).find(f"{AUTODISCOVER}Response/{AUTODISCOVER}Error")
    assert error is not None and error.findtext(f"{AUTODISCOVER}ErrorCode") == "600"


async def test_apple_profile_holds_the_persons_account_and_no_password(
    client: httpx.AsyncClient, server: Server
) -> None:
    org = await make_mail_org()
    person = await make_user(org)
    await login(client, person)
    response = await client.get("/mail/apple.mobileconfig")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-apple-aspen-config"
    assert response.headers["content-disposition"] == f'attachment; filename="{org.domain}-mail.mobileconfig"'
    assert person.password.encode() not in response.content
    profile = plistlib.loads(response.content)
    assert profile["PayloadType"] == "Configuration" and profile["PayloadVersion"] == 1
    assert profile["PayloadOrganization"] == org.name
    [account] = profile["PayloadContent"]
    assert account["PayloadType"] == "com.apple.mail.managed" and account["EmailAccountType"] == "EmailTypeIMAP"
    assert account["EmailAddress"] == person.email
    assert (account["IncomingMailServerHostName"], account["IncomingMailServerPortNumber"]) == (
        "localhost",
        server.imap_port,
    )
    assert (account["OutgoingMailServerHostName"], account["OutgoingMailServerPortNumber"]) == (
        "localhost",
        server.submission_port,
    )
    assert account["IncomingMailServerUsername"] == account["OutgoingMailServerUsername"] == person.email
    assert account["IncomingMailServerUseSSL"] is True and account["OutgoingPasswordSameAsIncomingPassword"] is True
    assert not {"IncomingPassword", "OutgoingPassword"} & set(account)
    again = plistlib.loads((await client.get("/mail/apple.mobileconfig")).content)
    assert again["PayloadUUID"] == profile["PayloadUUID"]  # installing it again replaces it


async def test_apple_profile_is_refused_to_guests(client: httpx.AsyncClient) -> None:
    guest = await make_user(await make_mail_org(), role="guest")
    await login(client, guest)
    assert (await client.get("/mail/apple.mobileconfig")).status_code == 403
