"""A very large message in the webmail: its page, its frame and a reply to it stay small
(the body is cut, with a notice and links to download the whole text and the whole
message), the downloads give every byte back, and a text body cut in the middle of a
character still reads right."""

from __future__ import annotations

import re
from email.message import EmailMessage

import httpx

from hexagone.mail.web.body import SHOWN_LIMIT
from tests.mail.factories import deliver, make_mail_user
from tests.mail.web.helpers import signed_in

PAGE_BOUND = 1 << 20
LINE = "<p>Ligne {:07d} du rapport annuel : état des chaussées, éclairage public, réseaux.</p>\n"


def huge_html(size: int) -> bytes:
    """An HTML message of about ``size`` bytes (8-bit, as most large newsletters are)."""
    count = size // len(LINE.format(0).encode())
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "archives@example.net", "someone@example.org", "Rapport annuel"
    msg.set_content("".join(LINE.format(n) for n in range(count)), subtype="html", cte="8bit")
    return msg.as_bytes()


async def test_message_of_forty_mebibytes_shows_its_beginning_with_a_notice_and_the_download(
    client: httpx.AsyncClient,
) -> None:
    user = await make_mail_user()
    raw = huge_html(42 << 20)
    message = await deliver(user, raw)
    await signed_in(client, user)

    page = await client.get(f"/mail/messages/{message.id}")
    frame = await client.get(f"/mail/messages/{message.id}/frame")
    download = await client.get(f"/mail/messages/{message.id}/source")
    reply = await client.get(f"/mail/messages/{message.id}/reply")

    assert page.status_code == frame.status_code == download.status_code == reply.status_code == 200
    assert len(page.content) < PAGE_BOUND and len(frame.content) < PAGE_BOUND and len(reply.content) < PAGE_BOUND
    notice = page.text.split('class="alert alert-info mail-clipped"')[1].split("</div>\n</div>")[0]
    assert f'href="/mail/messages/{message.id}/source" download' in notice
    whole_text = re.search(r'href="(/mail/messages/[^"]+/parts/\d+)" download', notice)
    assert whole_text is not None
    assert "Ligne 0000000 du rapport annuel : état des chaussées" in frame.text
    assert "Ligne 0500000" not in frame.text
    assert download.content == raw
    part = await client.get(whole_text.group(1))
    assert part.status_code == 200 and len(part.content) > 40 << 20 and part.content.endswith(b"</p>\n")


async def test_text_cut_inside_a_character_is_shown_without_a_broken_one(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "archives@example.net", "someone@example.org", "Relevé"
    # Base64 lines hold 57 bytes: "é" (2 bytes in UTF-8) falls across line ends, so the
    # cut at a line end splits one of them.
    msg.set_content("é" * (SHOWN_LIMIT * 2), cte="base64")
    message = await deliver(user, msg.as_bytes())
    await signed_in(client, user)

    page = await client.get(f"/mail/messages/{message.id}")

    assert page.status_code == 200 and 'class="alert alert-info mail-clipped"' in page.text
    shown = re.search(r'<div class="mail-text">([^<]*)</div>', page.text)
    assert shown and set(shown.group(1)) == {"é"} and len(shown.group(1)) > SHOWN_LIMIT // 4
