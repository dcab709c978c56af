"""What a file or folder may be called, and when two names are the same.

A name is stored as typed (in NFC) and compared by its key, NFC then case-folded, so that
a folder never holds two entries that a Windows or macOS client would see as one. Names
that climb out of a folder (``..``), that a file system cannot hold (``/``, NUL, control
characters, more than 255 bytes) or that Windows refuses (``CON``, ``NUL``, ``COM1``…,
a trailing dot or space) are refused with a message that says which rule they break:
people sync drives to all three systems.
"""

from __future__ import annotations

import re
import unicodedata

from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _

MAX_NAME_BYTES = 255
# Device names Windows reserves, with or without an extension (CON.txt is refused too).
RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{n}" for n in "0123456789¹²³"} | {f"LPT{n}" for n in "0123456789¹²³"}
)
_NUMBERED = re.compile(r"^(?P<stem>.*) \((?P<n>\d+)\)$")


def clean(name: str) -> str:
    """``name`` in NFC, or :class:`Invalid` saying what is wrong with it."""
    if not isinstance(name, str):
        raise Invalid(_("A name must be text."))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(_("The name is not valid text.")) from None
    name = unicodedata.normalize("NFC", name)
    if not name:
        raise Invalid(_("A name cannot be empty."))
    if name in (".", ".."):
        raise Invalid(_("“.” and “..” cannot be names."))
    if "/" in name or "\\" in name:
        raise Invalid(_("A name cannot contain “/” or “\\”."))
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise Invalid(_("A name cannot contain control characters."))
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise Invalid(_("A name is at most %(n)s bytes long.", n=MAX_NAME_BYTES))
    if name.endswith((".", " ")):
        raise Invalid(_("A name cannot end with a dot or a space."))
    if name.split(".", 1)[0].rstrip(" ").upper() in RESERVED:
        raise Invalid(_("“%(name)s” is a name Windows reserves.", name=name))
    return name


def key(name: str) -> str:
    """What makes two names the same in a folder."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def numbered(name: str, n: int, *, folder: bool) -> str:
    """``name`` with `` (n)`` before its extension: "report (2).pdf", "Photos (3)"; a name
    that already ends in a number is counted on from its stem ("a (2).txt" gives "a (3).txt")."""
    stem, ext = name, ""
    if not folder and "." in name.lstrip("."):
        dot = name.rindex(".")
        stem, ext = name[:dot], name[dot:]
    found = _NUMBERED.match(stem)
    if found:
        stem = found.group("stem")
    candidate = f"{stem} ({n}){ext}"
    while len(candidate.encode("utf-8")) > MAX_NAME_BYTES:  # keep the number and the extension
        stem = stem[:-1]
        candidate = f"{stem} ({n}){ext}"
    return candidate
