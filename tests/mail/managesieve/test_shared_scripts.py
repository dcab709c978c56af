"""One set of scripts for every way in: what a ManageSieve client (PyPI ``managesieve``)
puts and activates is what delivery over SMTP runs and what the rules page shows, and
what the rules page and the vacation settings write is what the client reads back."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server
from tests.mail.factories import make_message, messages_in
from tests.mail.smtp.helpers import inbound, mail_user, wait_for_port
from tests.mail.web.helpers import post, signed_in

pytestmark = pytest.mark.usefixtures("migrated")

FILE_INVOICES = """require ["fileinto", "imap4flags"];
if header :contains "subject" "facture" { fileinto :flags "$Invoice" "Archive"; }
"""


async def test_script_put_and_activated_over_managesieve_files_mail_delivered_over_smtp(
    connect, sieve_server: Server
) -> None:
    user = await mail_user()
    client = connect(user)
    assert client.putscript("factures", FILE_INVOICES) == "OK"
    assert client.setactive("factures") == "OK"

    wait_for_port(sieve_server.smtp_port)
    with inbound(sieve_server) as smtp:
        for subject in ("Votre facture de mars", "Déjeuner ?"):
            message = make_message(sender="shop@example.net", to=user.email, subject=subject)
            smtp.sendmail("shop@example.net", [user.email], message)

    [filed] = await messages_in(user, "Archive")
    assert "facture" in filed.subject and "$Invoice" in filed.keywords
    assert [m.subject for m in await messages_in(user)] == ["Déjeuner ?"]


async def test_script_active_over_managesieve_is_named_on_the_rules_page(connect, client: httpx.AsyncClient) -> None:
    user = await mail_user()
    sieve_client = connect(user)
    assert sieve_client.putscript("à la main", FILE_INVOICES) == "OK"
    assert sieve_client.setactive("à la main") == "OK"
    await signed_in(client, user)

    page = await client.get("/mail/rules")

    assert page.status_code == 200 and "à la main" in page.text


async def test_rule_saved_on_the_rules_page_is_the_active_script_over_managesieve(
    connect, client: httpx.AsyncClient
) -> None:
    user = await mail_user()
    await signed_in(client, user)
    rule = {"name": "Factures", "match": "all", "field_1": "subject", "operator_1": "contains"}
    response = await post(
        client, "/mail/rules", {**rule, "value_1": "facture", "action": "fileinto", "folder": "Archive"}
    )
    assert response.status_code == 303

    sieve_client = connect(user)
    assert sieve_client.listscripts() == ("OK", [("webmail", True)])
    outcome, script = sieve_client.getscript("webmail")
    assert outcome == "OK" and 'if header :contains "subject" "facture" {' in script and 'fileinto "Archive";' in script


async def test_vacation_settings_page_writes_the_active_script_seen_over_managesieve(
    connect, client: httpx.AsyncClient
) -> None:
    user = await mail_user()
    await signed_in(client, user)
    fields = {"vacation_enabled": "1", "vacation_subject": "Absent", "vacation_body": "De retour lundi."}
    assert (await post(client, "/mail/settings/vacation", fields)).status_code == 303

    sieve_client = connect(user)
    assert sieve_client.listscripts() == ("OK", [("webmail", True)])
    outcome, script = sieve_client.getscript("webmail")
    assert outcome == "OK" and "vacation :days 7" in script
    assert "De retour lundi." in script and '"Absent"' in script

    assert (await post(client, "/mail/settings/vacation", {"vacation_body": "De retour lundi."})).status_code == 303
    assert "vacation" not in sieve_client.getscript("webmail")[1]
