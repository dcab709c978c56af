"""Messages of our own making for the MIME tree and BODYSTRUCTURE: each one is a corner of
RFC 2045, 2046 or 2231 where servers answer differently, and clients notice (a part that
vanishes, a file name in mojibake, a size that does not match the bytes fetched). Keys
name the rule; Dovecot's answer for each is the reference. :func:`generated` adds messages
put together at random from the same kind of pieces."""

from __future__ import annotations

import random

TOP = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Date: Tue, 04 Mar 2025 10:00:00 +0100\r\n"
    b"Subject: MIME corner\r\n"
)
MIME = TOP + b"MIME-Version: 1.0\r\n"


def _single(content_type: bytes, extra: bytes = b"", body: bytes = b"hello\r\nworld\r\n") -> bytes:
    return MIME + b"Content-Type: " + content_type + b"\r\n" + extra + b"\r\n" + body


def _mixed(*parts: bytes, boundary: bytes = b"B", epilogue: bytes = b"") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return (
        MIME
        + b'Content-Type: multipart/mixed; boundary="'
        + boundary
        + b'"\r\n\r\n'
        + body
        + b"--"
        + boundary
        + b"--\r\n"
        + epilogue
    )


MIME_CASES: dict[str, bytes] = {
    "type-and-params-as-written": _single(
        b'TEXT/Plain; CharSet="UTF-8"; Format=Flowed', b"Content-Transfer-Encoding: 8Bit\r\n"
    ),
    "text-without-params-gets-us-ascii": _single(b"text/html"),
    "text-without-charset-gets-us-ascii-last": _single(b"text/plain; format=flowed"),
    "no-content-type-is-text-plain": TOP + b"MIME-Version: 1.0\r\n\r\nhello\r\n",
    "content-fields-outside-mime-ignored": TOP
    + b"Content-Transfer-Encoding: base64\r\nContent-Language: fr\r\n\r\naGVsbG8=\r\n",
    "type-without-subtype-kept": _single(b"text"),
    "type-with-junk-after-subtype-empty": _single(b"text/html junk; charset=utf-8"),
    "type-without-slash-and-params-empty": _single(b"image; name=a.png"),
    "folded-quoted-param-keeps-the-space": _single(b'text/plain;\r\n\tname="a long\r\n name.txt"'),
    "broken-params-skipped": _single(b'text/plain; a="x"y; b=2;;c=3; d; =e; f=; g==?utf-8?q?x?='),
    "unterminated-quote-dropped": _single(b'text/plain; charset=utf-8; name="open'),
    "comments-in-content-type": _single(b"text/plain (plain text) ; (the charset) charset=us-ascii"),
    "rfc2231-joined-undecoded": _single(
        b"application/octet-stream; name*0*=utf-8''r%C3%A9; name*1=\"s u\"; name*2*=%C3%A9.txt",
        b"Content-Disposition: attachment; filename*=iso-8859-1'fr'ann%E9e.txt\r\n",
    ),
    "rfc2231-missing-piece-given-as-is": _single(b"application/octet-stream; name*0=a; name*2=c; x*1=y; z*=w"),
    "rfc2231-pieces-out-of-order-and-case": _single(b'application/octet-stream; NAME*1="b"; name*0="a"'),
    "raw-8bit-param-passed-through": _single(
        b'application/octet-stream; name="caf\xc3\xa9.txt"',
        b'Content-Disposition: attachment; filename="r\xe9sum\xe9.txt"\r\n',
    ),
    "raw-8bit-description-passed-through": _single(
        b"text/plain", b"Content-Description: caf\xc3\xa9 cr\xe8me =?utf-8?q?x?=\r\n"
    ),
    "nul-in-values": _single(
        b'text/plain; name="a\x00b"; charset=utf-8; x=y\x00z', b"Content-ID: <a\x00b>\r\nContent-Language: f\x00r\r\n"
    ),
    "nstrings-unfolded-and-trimmed-at-start": _single(
        b"text/plain",
        b"Content-ID:   <id@x>  \r\nContent-Description: one\r\n  two \t three\r\nContent-MD5: Q2hl\r\n"
        b"Content-Location: http://example.org/\r\n a\r\n",
    ),
    "first-field-wins": _single(
        b"text/plain",
        b"Content-Type: text/html\r\nContent-ID: <a>\r\nContent-ID: <b>\r\nContent-Transfer-Encoding: 8bit\r\n"
        b"Content-Transfer-Encoding: base64\r\n",
    ),
    "broken-encoding-is-7bit": _single(b"text/plain", b"Content-Transfer-Encoding: quoted-printable junk\r\n"),
    "disposition-without-params-replaced": _single(
        b"text/plain", b"Content-Disposition: inline\r\nContent-Disposition: attachment; filename=a.txt\r\n"
    ),
    "disposition-as-written": _single(b"text/plain", b'Content-Disposition: ATTACHMENT ; FileName="a b.txt"\r\n'),
    "disposition-empty": _single(b"text/plain", b"Content-Disposition: ; filename=a.txt\r\n"),
    "language-one-is-a-list": _single(b"text/plain", b"Content-Language: fr\r\n"),
    "language-several-with-comments": _single(b"text/plain", b"Content-Language: fr, en-US (US) ,de\r\n"),
    "language-broken": _single(b"text/plain", b'Content-Language: "fr", en\r\n'),
    "line-count-excludes-the-crlf-before-the-boundary": _mixed(
        b"Content-Type: text/plain\r\n\r\none\r\ntwo", b"Content-Type: text/plain\r\n\r\nthree\r\n\r\n"
    ),
    "boundary-never-found-gives-an-empty-part": MIME
    + b"Content-Type: multipart/mixed; boundary=never\r\n\r\nthe text\r\n--other\r\n",
    "multipart-without-boundary-param": MIME + b"Content-Type: multipart/alternative\r\n\r\n--x\r\nhello\r\n",
    "close-delimiter-first": MIME + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B--\r\n--B\r\n\r\nlate\r\n",
    "boundary-with-trailing-text-still-splits": MIME
    + b"Content-Type: multipart/mixed; boundary=B\r\n\r\npreamble\r\n--B trailing\r\n\r\none\r\n"
    b"--Bmore\r\n\r\ntwo\r\n--B--x\r\nepilogue\r\n",
    "no-close-delimiter": MIME
    + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\none\r\n--B\r\n\r\ntwo\r\n",
    "nested-prefix-longest-wins": MIME + b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n'
    b'--x\r\nContent-Type: multipart/alternative; boundary="xy"\r\n\r\n'
    b"--xy\r\n\r\na\r\n--x\r\n\r\nb\r\n--xy\r\n\r\nc\r\n--xy--\r\n--x--\r\n",
    "nested-same-boundary": MIME
    + b'Content-Type: multipart/mixed; boundary="s"\r\n\r\n--s\r\nContent-Type: multipart/mixed; boundary="s"\r\n\r\n'
    b"--s\r\n\r\ninner\r\n--s--\r\n--s\r\n\r\nouter\r\n--s--\r\n",
    "outer-boundary-in-part-header": _mixed(b"Content-Type: text/plain\r\n--B\r\n\r\nafter"),
    "outer-boundary-right-after-blank-line": _mixed(b"Content-Type: text/plain\r\n", b"\r\nx"),
    "long-boundary-cut-at-80": _mixed(b"\r\none", b"\r\ntwo", boundary=b"b" * 90),
    "empty-parts": _mixed(b"", b"\r\n", b""),
    "message-rfc822-size-and-lines": _mixed(
        b"Content-Type: text/plain\r\n\r\nsee the message",
        b"Content-Type: message/rfc822\r\nContent-Description: forwarded\r\n\r\n"
        b"Subject: inner\r\nFrom: carol@example.org\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/alternative; boundary=I\r\n\r\n--I\r\n\r\nplain\r\n"
        b"--I\r\nContent-Type: text/html\r\n\r\n"
        b"<p>html</p>\r\n--I--\r\n",
    ),
    "message-rfc822-cut-by-boundary": _mixed(b"Content-Type: message/rfc822\r\n\r\nSubject: in\r\n--B\r\n\r\nx"),
    "message-rfc822-as-top": MIME + b"Content-Type: Message/RFC822\r\n\r\nSubject: inner\r\n\r\nbody\r\n",
    "message-rfc822-empty": _mixed(b"Content-Type: message/rfc822\r\n"),
    "digest-parts-default-to-message": MIME
    + b"Content-Type: multipart/digest; boundary=D\r\n\r\n--D\r\n\r\nSubject: one\r\n\r\nfirst\r\n"
    b"--D\r\nContent-Type: text/plain\r\n\r\nnot a message\r\n"
    b"--D\r\nContent-Type: bogus\r\n\r\nSubject: x\r\n\r\ny\r\n--D--\r\n",
    "header-only-message": MIME + b"Content-Type: multipart/mixed; boundary=B",
    "header-without-colon-line": MIME + b"Content-Type: text/plain\r\nnot a header line\r\n\r\nbody\r\n",
    "boundary-as-rfc2231-pieces": MIME
    + b"Content-Type: multipart/mixed; boundary*0=ab; boundary*1=cd\r\n\r\n--abcd\r\n\r\none\r\n--abcd--\r\n",
}


# --- generated messages -------------------------------------------------------------------

_BOUNDARIES = (b"a", b"ab", b"abc", b"a-b", b"=_x", b"ab cd")
_TYPES = (
    b"text/plain",
    b"text/html; charset=utf-8",
    b"multipart/mixed; boundary=%s",
    b'multipart/alternative; boundary="%s"',
    b"message/rfc822",
    b"multipart/digest; boundary=%s",
    b'application/pdf; name="x\r\n y.pdf"',
    b"text",
    b"image/png junk",
    b"multipart/mixed",
    b"text/plain; name*0*=utf-8''a%20b; name*1=c",
    b"multipart/related; boundary=%s; type=text/html",
)
_MULTIPART = tuple(content_type for content_type in _TYPES if b"%s" in content_type)
_FIELDS = (
    b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: 8Bit",
    b"Content-Disposition: attachment; filename=a.txt",
    b"Content-Disposition: attachment;\r\n filename*=utf-8''%C3%A9",
    b"MIME-Version: 1.0",
    b"Content-ID: <ab>",
    b"Content-Language: fr, en",
    b"X-Other: --ab",
)
_LINES = (b"hello", b"line one", b"--", b"- - -", b"caf\xe9")


def _header(rng: random.Random, opened: list[bytes]) -> bytes:
    """Some header fields; a multipart type's boundary goes on ``opened``."""
    fields = []
    for _ in range(rng.randint(0, 4)):
        if rng.random() < 0.5:
            content_type = rng.choice(_TYPES if rng.random() < 0.5 else _MULTIPART)
            if b"%s" in content_type:
                opened.append(rng.choice(_BOUNDARIES))
                content_type %= opened[-1]
            fields.append(b"Content-Type: " + content_type)
        else:
            fields.append(rng.choice(_FIELDS))
    return b"".join(field + b"\r\n" for field in fields)


def _body(rng: random.Random, opened: list[bytes]) -> bytes:
    """Lines, blank lines, and delimiters (mostly of a boundary some header opened, each
    followed by a part's header)."""
    out = b""
    for _ in range(rng.randint(0, 12)):
        draw = rng.random()
        if draw < 0.4:
            boundary = rng.choice(opened) if opened and rng.random() < 0.8 else rng.choice(_BOUNDARIES)
            out += b"--" + boundary + rng.choice((b"", b"", b"--", b" x", b"--x")) + b"\r\n"
            if rng.random() < 0.8 and len(opened) < 6:
                out += _header(rng, opened) + rng.choice((b"\r\n", b"\r\n", b""))
        elif draw < 0.55:
            out += b"\r\n"
        else:
            out += rng.choice(_LINES) + rng.choice((b"\r\n", b"\r\n", b""))
    return out


def generated(count: int = 150, seed: int = 16) -> dict[str, bytes]:
    """Messages put together at random (always the same ones) from the pieces that make
    parsers disagree: boundaries that are prefixes of each other, delimiters with text
    after them, in headers or right after a blank line, broken Content-Types, nested
    messages and digests."""
    rng = random.Random(seed)
    found = {}
    for number in range(count):
        opened: list[bytes] = []
        header = _header(rng, opened) + rng.choice((b"\r\n", b"\r\n", b""))
        found[f"{number:03d}"] = b"From: a@example.org\r\n" + header + _body(rng, opened)
    return found
