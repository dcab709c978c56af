"""Messages of our own making for ENVELOPE and SEARCH: address lists as senders really
write them (groups, comments, routes, missing domains, broken brackets), header fields
repeated or folded, raw 8-bit and NUL bytes, and text that SEARCH must find once decoded
(quoted-printable, base64, Latin-1, inside an attachment or a forwarded message).
Keys name the rule; :data:`SEARCHES` are the criteria that look into them."""

from __future__ import annotations

DATE = b"Date: Tue, 04 Mar 2025 10:00:00 +0100\r\n"


def _message(name: str, fields: bytes, body: bytes = b"body\r\n") -> bytes:
    return DATE + b"Message-ID: <" + name.encode() + b"@example.org>\r\n" + fields + b"\r\n" + body


ENVELOPE_CASES: dict[str, bytes] = {
    "address-comment-is-the-name": _message(
        "comment", b"From: dwsauder@example.com (Doug Sauder)\r\nTo: ann@example.org (Ann (the boss))\r\n"
    ),
    "address-quoted-name-with-escapes": _message(
        "quoted", b'From: "Quoted \\"q\\" name" <q@x.example>, =?utf-8?q?Enc?= <e@x.example>\r\n'
    ),
    "address-route-and-broken-brackets": _message(
        "route", b"From: Name <@r1.example,@r2.example:m@d.example>\r\nTo: <>, broken <a@>, @x, ;\r\n"
    ),
    "address-angle-without-domain": _message("angle-local", b'From: Root <root>\r\nTo: <postmaster>, "solo"\r\n'),
    "address-unclosed-comment": _message("unclosed", b"From: a@example.org\r\nTo: b@example.org, (unclosed\r\n"),
    "address-phrase-with-dots": _message(
        "dots", b"From: John Q. Public <jqp@x.example>\r\nTo: Mr . Dot <d@x.example>\r\n"
    ),
    "group-quoted-name-and-trailing-address": _message(
        "group-quoted",
        b'From: a@example.org\r\nTo: undisclosed-recipients:;\r\nCc: "Group A": a@b.example, "Q" <q@r.example> ; , '
        b"z@z.example\r\n",
    ),
    "group-in-from": _message(
        "group-from", b"From: Staff: anna@example.org, ben@example.org;\r\nTo: x@example.org\r\n"
    ),
    "fields-repeated": _message(
        "repeated",
        b"From: a@example.org\r\nSubject: first\r\nSubject: second\r\nTo: x@y.example\r\nTo: w@v.example\r\n",
    ),
    "fields-folded-with-tabs": _message(
        "folded",
        b"From: a@example.org\r\nSubject:   lead  two  spaces \r\n\tand tab\r\nIn-Reply-To: <a@b>\r\n <c@d>\r\n"
        b"To: Folded\r\n  Name <f@example.org>\r\n",
    ),
    "fields-with-tabs-and-trailing-blanks": (
        b"Date: Tue, 04 Mar 2025\r\n\t10:00:00 +0100  \r\nMessage-ID:  <tabs@example.org>\t\r\nFrom: a@example.org\r\n"
        b'To: "  spaced   name " <s@x.example>\r\n\r\nbody\r\n'
    ),
    "fields-empty": _message("empty", b"From: \r\nTo: \r\nSubject:\r\nIn-Reply-To:\r\n"),
    "header-nul-byte": _message("nul", b"From: a@example.org\r\nSubject: nul\x00here\r\n"),
    "header-raw-8bit-mixed": _message(
        "mixed-8bit", b"From: \xe9l\xe8ve <e@x.example>\r\nSubject: caf\xc3\xa9 \xff \xef\x9c\x80\r\n"
    ),
    "sender-and-reply-to-own": _message(
        "own", b"From: a@example.org\r\nSender: s@example.org\r\nReply-To: r@example.org, q@example.org\r\n"
    ),
    "body-latin1-quoted-printable-and-base64-attachment": _message(
        "encoded-parts",
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: encoded parts\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n',
        b"preamble zebra\r\n--B\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nLe caf=E9 est servi, quokka.\r\n"
        b"--B\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: attachment; filename=notes.txt\r\n"
        b"Content-Transfer-Encoding: base64\r\nX-Note: platypus\r\n\r\ndGhlIHdvbWJhdCBub3Rl\r\n"
        b"--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"bmFyd2hhbCBpbiBiaW5hcnk=\r\n--B--\r\nepilogue yak\r\n",
    ),
    "body-forwarded-message": _message(
        "forwarded",
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: forwarded\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="F"\r\n',
        b'--F\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p class="ocelot">see below</p>\r\n'
        b"--F\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@example.net\r\nSubject: inner\r\n"
        b"X-Inner: capybara\r\n\r\nthe inner pangolin text\r\n--F--\r\n",
    ),
}

SEARCHES = (
    'FROM "Doug"',
    'TO "boss"',
    'TO "MISSING_DOMAIN"',
    'FROM "MISSING_MAILBOX"',
    'TO "SYNTAX_ERROR"',
    'CC "Group A"',
    'TO "undisclosed"',
    'FROM "Staff"',
    'FROM "anna"',
    'TO "w@v"',
    'SUBJECT "first"',
    'SUBJECT "two spaces"',
    'BODY "quokka"',
    'BODY "wombat"',
    'BODY "narwhal"',
    'BODY "zebra"',
    'BODY "ocelot"',
    'BODY "pangolin"',
    'BODY "capybara"',
    'TEXT "capybara"',
    'TEXT "platypus"',
    'TEXT "pangolin"',
    'OR HEADER "Subject" "second" HEADER "X-Inner" "capybara"',
    'OR TO "boss" CC "Group A"',
    'NOT TO "example"',
)
