"""Messages of our own making for the comparison with Dovecot: each one is a corner that a
real sender produces and that a parser gets wrong in a way clients notice (an attachment
that vanishes, a file name in mojibake, a recipient list cut short). Keys name the rule."""

from __future__ import annotations

TOP = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Date: Tue, 04 Mar 2025 10:00:00 +0100\r\n"
    b"Message-ID: <%s@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
)


def _top(name: str, rest: bytes) -> bytes:
    return TOP % name.encode() + rest


MALFORMED: dict[str, bytes] = {
    "folded-quoted-boundary": _top(
        "folded-boundary",
        b"Subject: folded boundary\r\n"
        b'Content-Type: multipart/mixed;\r\n boundary="----=_Part_12_\r\n 345"\r\n\r\n'
        b"preamble\r\n------=_Part_12_ 345\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
        b'------=_Part_12_ 345\r\nContent-Type: application/octet-stream;\r\n name="a.bin"\r\n'
        b'Content-Disposition: attachment;\r\n\tfilename="a very long\r\n file name.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n------=_Part_12_ 345--\r\n",
    ),
    "folded-unquoted-boundary": _top(
        "folded-unquoted",
        b"Subject: folded unquoted boundary\r\n"
        b"Content-Type: multipart/alternative;\r\n\tboundary=abc123\r\n\r\n"
        b"--abc123\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n\r\nplain\r\n"
        b'--abc123\r\nContent-Type: text/html;\r\n  charset="utf-8"\r\n\r\n<p>html</p>\r\n--abc123--\r\n',
    ),
    "rfc2231-utf8": _top(
        "rfc2231-utf8",
        b"Subject: RFC 2231 in UTF-8\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nvoir la pi\xc3\xa8ce jointe\r\n"
        b"--B\r\nContent-Type: application/pdf;\r\n name*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
        b"Content-Disposition: attachment;\r\n filename*0*=utf-8''r%C3%A9sum;\r\n filename*1*=%C3%A9.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--B--\r\n",
    ),
    "rfc2231-latin1": _top(
        "rfc2231-latin1",
        b"Subject: RFC 2231 in Latin-1\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain\r\n\r\nci-joint\r\n"
        b"--B\r\nContent-Type: application/octet-stream; name*=iso-8859-1'fr'ann%E9e.txt\r\n"
        b"Content-Disposition: attachment; filename*0*=iso-8859-1'fr'ann%E9e;\r\n filename*1=\".txt\"\r\n"
        b"\r\ndata\r\n--B--\r\n",
    ),
    "nested-boundaries-sharing-a-prefix": _top(
        "nested-prefix",
        b"Subject: nested boundaries with a common prefix\r\n"
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        b'--outer\r\nContent-Type: multipart/alternative; boundary="outer-inner"\r\n\r\n'
        b"--outer-inner\r\nContent-Type: text/plain\r\n\r\ntext\r\n"
        b"--outer-inner\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n"
        b"--outer-inner--\r\n"
        b"--outer\r\nContent-Type: image/png; name=x.png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n"
        b"--outer--\r\n",
    ),
    "nested-inner-boundary-is-prefix": _top(
        "nested-inner-prefix",
        b"Subject: inner boundary is a prefix of the outer\r\n"
        b'Content-Type: multipart/mixed; boundary="abcdef"\r\n\r\n'
        b'--abcdef\r\nContent-Type: multipart/related; boundary="abc"\r\n\r\n'
        b"--abc\r\nContent-Type: text/html\r\n\r\n<img src=cid:x>\r\n"
        b"--abc\r\nContent-Type: image/gif\r\nContent-ID: <x>\r\n\r\nGIF89a\r\n"
        b"--abcdef\r\nContent-Type: text/plain\r\n\r\nlast part\r\n--abcdef--\r\n",
    ),
    "text-without-charset": _top(
        "no-charset",
        b"Subject: no charset\r\nContent-Type: text/plain\r\n\r\nline one\r\nline two\r\n",
    ),
    "no-content-type": _top("no-content-type", b"Subject: no content type\r\n\r\nJust text, no newline at the end"),
    "message-rfc822-part": _top(
        "rfc822-part",
        b"Subject: forwarded\r\n"
        b"Content-Type: multipart/mixed; boundary=F\r\n\r\n"
        b"--F\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee below.\r\n\r\n"
        b"--F\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"
        b"From: Carol <carol@example.net>\r\nTo: team@example.net\r\nSubject: original\r\n"
        b"Date: Mon, 03 Mar 2025 09:00:00 -0500\r\nMessage-ID: <orig@example.net>\r\n"
        b"Content-Type: multipart/alternative; boundary=G\r\n\r\n"
        b"--G\r\nContent-Type: text/plain\r\n\r\noriginal text\r\n"
        b"--G\r\nContent-Type: text/html\r\n\r\n<p>original</p>\r\n--G--\r\n"
        b"\r\n--F--\r\n",
    ),
    "message-rfc822-single-part": _top(
        "rfc822-single",
        b"Subject: forwarded as the whole body\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: dave@example.net\r\nSubject: inner\r\n\r\ninner body\r\nsecond line\r\n",
    ),
    "several-content-languages": _top(
        "languages",
        b"Subject: languages\r\nContent-Type: multipart/mixed; boundary=L\r\n\r\n"
        b"--L\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Language: fr, en-GB\r\n\r\nbonjour hello\r\n"
        b"--L\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Language: de\r\n"
        b"Content-Location: http://example.org/de.txt\r\n\r\nhallo\r\n--L--\r\n",
    ),
    "address-group-empty": b"From: Alice <alice@example.org>\r\nTo: undisclosed-recipients:;\r\n"
    b"Subject: empty group\r\nDate: Tue, 04 Mar 2025 10:00:00 +0100\r\nMessage-ID: <group-empty@example.org>\r\n"
    b"\r\nbody\r\n",
    "address-group-members": b"From: Alice <alice@example.org>\r\n"
    b"To: Team: a@x.example, Bee <b@y.example>;, carol@example.org\r\n"
    b"Cc: Others: ;\r\nSubject: group with members\r\nDate: Tue, 04 Mar 2025 10:00:00 +0100\r\n"
    b"Message-ID: <group-members@example.org>\r\n\r\nbody\r\n",
    "address-without-domain": b"From: root\r\nTo: Local <postmaster>, bob@example.org\r\n"
    b"Subject: no domain\r\nDate: Tue, 04 Mar 2025 10:00:00 +0100\r\nMessage-ID: <no-domain@example.org>\r\n"
    b"\r\nbody\r\n",
    "raw-8bit-headers": b"From: =?utf-8?q?Ren=C3=A9?= <rene@example.org>\r\n"
    b"To: J\xc3\xa9r\xc3\xb4me <jerome@example.org>\r\nSubject: Caf\xc3\xa9 cr\xc3\xa8me\r\n"
    b"Date: Tue, 04 Mar 2025 10:00:00 +0100\r\nMessage-ID: <raw8bit@example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nd\xc3\xa9j\xc3\xa0 vu\r\n",
    "raw-latin1-headers": b"From: Fran\xe7ois <francois@example.org>\r\nTo: bob@example.org\r\n"
    b"Subject: ann\xe9e\r\nDate: Tue, 04 Mar 2025 10:00:00 +0100\r\nMessage-ID: <latin1@example.org>\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nann\xe9e\r\n",
    "missing-date": b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: no date\r\n"
    b"Message-ID: <no-date@example.org>\r\n\r\nbody\r\n",
    "odd-date": b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: odd date\r\n"
    b"Date: 31 Dec 2023 23:30:00 -0800\r\nMessage-ID: <odd-date@example.org>\r\n\r\nbody\r\n",
    "date-east-of-utc": b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: late in Tokyo\r\n"
    b"Date: Mon, 01 Jan 2024 01:30:00 +0900\r\nMessage-ID: <tokyo@example.org>\r\n\r\nbody\r\n",
    "garbage-date": b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: garbage date\r\n"
    b"Date: the day after tomorrow\r\nMessage-ID: <garbage-date@example.org>\r\n\r\nbody\r\n",
    "quoted-printable-body": _top(
        "qp",
        b"Subject: encoded body\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nPi=E8ce jointe: attachment=\r\n here\r\n",
    ),
    "base64-body": _top(
        "b64",
        b"Subject: base64 body\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nVGhlIHNlY3JldCB3b3JkIGlzIHBpbmVhcHBsZS4K\r\n",
    ),
    "missing-close-boundary": _top(
        "no-close",
        b"Subject: no closing boundary\r\nContent-Type: multipart/mixed; boundary=Z\r\n\r\n"
        b"--Z\r\nContent-Type: text/plain\r\n\r\none\r\n--Z\r\nContent-Type: text/plain\r\n\r\ntwo\r\n",
    ),
    "boundary-not-found": _top(
        "no-boundary",
        b"Subject: boundary never used\r\nContent-Type: multipart/mixed; boundary=NOPE\r\n\r\njust some text\r\n",
    ),
    "params-with-comments-and-case": _top(
        "params-case",
        b'Subject: parameters\r\nContent-Type: Text/PLAIN; CharSet="UTF-8"; Format=flowed (comment)\r\n'
        b"Content-Transfer-Encoding: Quoted-Printable\r\n\r\ncaf=C3=A9\r\n",
    ),
}
