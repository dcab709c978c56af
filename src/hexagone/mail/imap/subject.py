"""The base subject of RFC 5256 section 2.1, which SORT SUBJECT orders by and THREAD
groups by, and the ``i;unicode-casemap`` collation (RFC 5051) both compare with.

The subject given is already decoded (RFC 2047 words turned to text, as the message row's
``subject`` column holds it), which is step (1)'s conversion.
"""

from __future__ import annotations

import re
import unicodedata

_WSP = re.compile(r"[ \t\r\n]+")
_TRAILER = re.compile(r"(?:\(fwd\)|[ \t])$", re.I)  # subj-trailer: "(fwd)" / WSP
_BLOB = r"\[[^\[\]]*\][ \t]*"  # subj-blob: "[" *BLOBCHAR "]" *WSP
_REFWD = re.compile(rf"(?:re|fwd?)[ \t]*(?:{_BLOB})?:", re.I)  # subj-refwd
_LEADING_BLOBS = re.compile(rf"(?:{_BLOB})*")
_ONE_BLOB = re.compile(_BLOB)
_FWD_HEADER = re.compile(r"\[fwd:(.*)\]$", re.I | re.S)  # subj-fwd-hdr subject subj-fwd-trl


def base_subject(subject: str) -> tuple[str, bool]:
    """The base subject, and whether the subject was that of a reply or a forward (a
    "Re:"/"Fw:"/"Fwd:" leader, a "(fwd)" trailer or a "[Fwd: ...]" wrapper was removed),
    which THREAD=REFERENCES's subject grouping needs."""
    text = _WSP.sub(" ", subject)  # (1) tabs and continuations become one space
    reply = False
    while True:
        while (trailer := _TRAILER.search(text)) is not None:  # (2)
            reply = reply or trailer.group().lower() == "(fwd)"
            text = text[: trailer.start()]
        while True:  # (5): (3) and (4) until nothing changes
            before = text
            text = text.lstrip(" \t")  # (3) subj-leader: WSP ...
            blobs = _LEADING_BLOBS.match(text)
            refwd = _REFWD.match(text, blobs.end() if blobs else 0)
            if refwd is not None:  # ... or *subj-blob subj-refwd
                text = text[refwd.end() :]
                reply = True
            blob = _ONE_BLOB.match(text)
            if blob is not None and text[blob.end() :]:  # (4) a blob before a non-empty rest
                text = text[blob.end() :]
            if text == before:
                break
        wrapped = _FWD_HEADER.match(text)  # (6)
        if wrapped is None:
            return text, reply
        text, reply = wrapped.group(1), True


def casemap(text: str) -> str:
    """``i;unicode-casemap`` (RFC 5051): each character titlecased, then decomposed
    (NFKD); strings compare by the code points of what this returns."""
    if text.isascii():  # most text: each character's titlecase is its upper case, NFKD changes nothing
        return text.upper()
    return unicodedata.normalize("NFKD", "".join(c.title() for c in text))
