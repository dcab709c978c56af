"""The round trip: alice sends through submission, bob, waiting in IMAP IDLE, hears of
it at once and reads it over IMAP, with imapclient and with the standard library."""

from __future__ import annotations

import imaplib
import time

import pytest
from imapclient import IMAPClient

from tests.conftest import Server
from tests.mail.factories import make_mail_org, make_message
from tests.mail.smtp.helpers import inbox_bytes, mail_user, submission, wait_for_port

pytestmark = pytest.mark.usefixtures("migrated")


async def test_roundtrip_submission_to_imap_idle_and_fetch(mail_server: Server) -> None:
    wait_for_port(mail_server.imap_port)
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    with IMAPClient("127.0.0.1", port=mail_server.imap_port, ssl=False, timeout=30) as imap:
        imap.login(bob.email, bob.password)
        imap.select_folder("INBOX")
        imap.idle()
        with submission(mail_server, alice) as client:
            client.sendmail(
                alice.email, [bob.email], make_message(sender=alice.email, to=bob.email, subject="Aller-retour")
            )
        acknowledged = time.monotonic()
        events = imap.idle_check(timeout=10)
        heard = time.monotonic() - acknowledged
        imap.idle_done()
        assert (1, b"EXISTS") in events, events
        assert heard < 2.0, f"IDLE heard of the message {heard:.2f} s after the 250"
        [(_, data)] = imap.fetch(imap.search("ALL"), ["ENVELOPE", "RFC822"]).items()
    assert data[b"ENVELOPE"].subject == b"Aller-retour"
    assert data[b"RFC822"] == (await inbox_bytes(bob))[0]


async def test_roundtrip_standard_library_imaplib_reads_what_smtp_delivered(mail_server: Server) -> None:
    wait_for_port(mail_server.imap_port)
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    with submission(mail_server, alice) as client:
        client.sendmail(alice.email, [bob.email], make_message(sender=alice.email, to=bob.email, subject="Par imaplib"))
    imap = imaplib.IMAP4("127.0.0.1", mail_server.imap_port, timeout=30)
    try:
        imap.login(bob.email, bob.password)
        assert imap.select("INBOX") == ("OK", [b"1"])
        status, found = imap.search(None, "SUBJECT", '"Par imaplib"')
        assert (status, found) == ("OK", [b"1"])
        status, fetched = imap.fetch(b"1", "(RFC822)")
        assert status == "OK" and fetched[0][1] == (await inbox_bytes(bob))[0]  # type: ignore[index]
    finally:
        imap.logout()
