"""Reading: the folder's conversations, a message's page, its HTML body in a sandboxed
frame, remote images held back until allowed, attachments and inline images."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid

import httpx

from tests.mail.factories import deliver, make_mail_user, make_message
from tests.mail.web.helpers import folder_id, post, reload, signed_in

TRACKER = "https://tracker.example.net/pixel.gif"


def html_message(
    html: str,
    *,
    sender: str = "news@example.net",
    inline: tuple[str, bytes] | None = None,
    attachment: tuple[str, bytes, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "someone@example.org", "HTML"
    msg["Message-ID"] = make_msgid(domain="example.net")
    msg.set_content("the plain version")
    msg.add_alternative(html, subtype="html")
    if inline is not None:
        msg.get_payload()[1].add_related(inline[1], maintype="image", subtype="png", cid=f"<{inline[0]}>")
    if attachment is not None:
        name, data, mimetype = attachment
        msg.add_attachment(data, maintype=mimetype.split("/")[0], subtype=mimetype.split("/")[1], filename=name)
    return msg.as_bytes()


async def test_folder_lists_one_row_per_conversation_newest_first(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    first = make_message(subject="Kick-off", message_id="<kickoff@example.net>")
    await deliver(user, first)
    await deliver(user, subject="Lone message")
    await deliver(user, make_message(subject="Re: Kick-off", in_reply_to="<kickoff@example.net>"))
    await signed_in(client, user)

    page = (await client.get(f"/mail/folders/{await folder_id(user)}")).text

    subjects = re.findall(r'class="mail-row-subject">([^<]*)<', page)
    assert subjects == ["Re: Kick-off", "Lone message"]
    assert re.search(r'class="mail-count">2<', page)


async def test_folder_pages_fifty_conversations_at_a_time(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    for number in range(52):
        await deliver(user, subject=f"Message {number:02d}")
    await signed_in(client, user)
    inbox = await folder_id(user)

    first = (await client.get(f"/mail/folders/{inbox}")).text
    second = (await client.get(f"/mail/folders/{inbox}?page=2")).text

    assert len(re.findall(r'<li class="mail-row', first)) == 50 and "Message 51" in first and 'rel="next"' in first
    assert len(re.findall(r'<li class="mail-row', second)) == 2 and "Message 00" in second and 'rel="prev"' in second


async def test_message_page_marks_it_read_and_escapes_plain_text_with_links(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    message = await deliver(user, body="<b>not bold</b> see https://example.org/doc?a=1&b=2.\n")
    await signed_in(client, user)

    response = await client.get(f"/mail/messages/{message.id}")

    assert response.status_code == 200
    assert "&lt;b&gt;not bold&lt;/b&gt;" in response.text
    assert '<a href="https://example.org/doc?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">' in response.text
    assert (await reload(message)).seen


async def test_html_body_is_shown_in_a_sandboxed_frame_with_its_own_policy(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    message = await deliver(user, html_message("<p style='color: red'>Hello <script>alert(1)</script>world</p>"))
    await signed_in(client, user)

    page = (await client.get(f"/mail/messages/{message.id}")).text
    frame = await client.get(f"/mail/messages/{message.id}/frame")

    assert 'sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"' in page
    assert f'src="/mail/messages/{message.id}/frame"' in page
    assert "the plain version" not in page
    assert '<p style="color:red">Hello world</p>' in frame.text
    policy = frame.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "http:" not in policy
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in policy


async def test_remote_images_are_removed_until_allowed_for_the_message(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    message = await deliver(user, html_message(f'<p>News</p><img src="{TRACKER}" alt="logo">'))
    await signed_in(client, user)

    blocked_page = (await client.get(f"/mail/messages/{message.id}")).text
    blocked = await client.get(f"/mail/messages/{message.id}/frame")
    shown = await client.get(f"/mail/messages/{message.id}/frame?images=1")

    assert "mail-images" in blocked_page and f"/mail/messages/{message.id}?images=1" in blocked_page
    assert TRACKER not in blocked.text and "https:" not in blocked.headers["content-security-policy"]
    assert f'src="{TRACKER}"' in shown.text and "https:" in shown.headers["content-security-policy"]


async def test_remote_images_of_a_sender_always_allowed_show_on_later_messages(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    first = await deliver(user, html_message(f'<img src="{TRACKER}" alt="">', sender="Shop <shop@example.net>"))
    later = await deliver(user, html_message(f'<img src="{TRACKER}?2" alt="">', sender="shop@example.net"))
    other = await deliver(user, html_message(f'<img src="{TRACKER}?3" alt="">', sender="else@example.net"))
    await signed_in(client, user)

    response = await post(client, f"/mail/messages/{first.id}/images")

    assert response.status_code == 303
    assert f'src="{TRACKER}?2"' in (await client.get(f"/mail/messages/{later.id}/frame")).text
    assert TRACKER not in (await client.get(f"/mail/messages/{other.id}/frame")).text


async def test_inline_image_is_served_from_the_message_and_not_listed(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    message = await deliver(
        user, html_message('<img src="cid:logo@example.net" alt="logo">', inline=("logo@example.net", png))
    )
    await signed_in(client, user)

    frame = (await client.get(f"/mail/messages/{message.id}/frame")).text
    image = await client.get(f"/mail/messages/{message.id}/cid/logo@example.net")
    page = (await client.get(f"/mail/messages/{message.id}")).text

    assert f'src="/mail/messages/{message.id}/cid/logo@example.net"' in frame
    assert image.status_code == 200 and image.content == png and image.headers["content-type"] == "image/png"
    assert "mail-attachments" not in page
    assert (await client.get(f"/mail/messages/{message.id}/cid/missing@example.net")).status_code == 404


async def test_attachment_downloads_with_its_type_name_and_nosniff(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    hostile = b"<html><script>alert(document.cookie)</script></html>"
    message = await deliver(
        user, attachments=(("rapport été.html", hostile, "text/html"), ("data.pdf", b"%PDF-1.4", "application/pdf"))
    )
    await signed_in(client, user)

    page = (await client.get(f"/mail/messages/{message.id}")).text
    links = re.findall(rf'href="(/mail/messages/{message.id}/parts/\d+)" download>([^<]+)<', page)
    html_part = await client.get(links[0][0])
    pdf_part = await client.get(links[1][0])

    assert [name for _link, name in links] == ["rapport été.html", "data.pdf"]
    assert html_part.content == hostile and html_part.headers["content-type"].startswith("text/html")
    assert html_part.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''rapport%20%C3%A9t%C3%A9.html" in html_part.headers["content-disposition"]
    assert html_part.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in html_part.headers["content-security-policy"]
    assert pdf_part.headers["content-type"] == "application/pdf" and pdf_part.content == b"%PDF-1.4"
    assert (await client.get(f"/mail/messages/{message.id}/parts/99")).status_code == 404


async def test_source_downloads_the_message_as_stored(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    raw = make_message(subject="Original")
    message = await deliver(user, raw)
    await signed_in(client, user)

    response = await client.get(f"/mail/messages/{message.id}/source")

    assert response.content == raw and response.headers["content-type"] == "message/rfc822"
    assert 'filename="Original.eml"' in response.headers["content-disposition"]


async def test_conversation_lists_the_other_messages_of_the_thread(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    first = await deliver(user, make_message(subject="Budget", message_id="<budget@example.net>"))
    answer = await deliver(
        user, make_message(subject="Re: Budget", in_reply_to="<budget@example.net>"), folder="Archive"
    )
    await signed_in(client, user)

    page = (await client.get(f"/mail/messages/{answer.id}")).text

    assert f'href="/mail/messages/{first.id}"' in page and 'aria-current="true"' in page


async def test_message_page_links_the_newer_and_older_conversations_of_the_folder(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    oldest, middle, newest = [await deliver(user, subject=name) for name in ("Oldest", "Middle", "Newest")]
    await signed_in(client, user)

    page = (await client.get(f"/mail/messages/{middle.id}")).text
    first = (await client.get(f"/mail/messages/{newest.id}")).text

    assert f'href="/mail/messages/{newest.id}" data-key="k"' in page
    assert f'href="/mail/messages/{oldest.id}" data-key="j"' in page
    assert 'data-key="k"' not in first and f'href="/mail/messages/{middle.id}" data-key="j"' in first
