"""OBJECTID (RFC 8474): the ids of folders, messages and threads as IMAP shows them, and
back. An objectid is 1 to 255 of ``A-Z a-z 0-9 _ -``; ours start with a letter saying
what they name.

- MAILBOXID ``F`` + the folder's UUID: it never changes, even when the folder is renamed.
- EMAILID ``M`` + the first 40 hex digits of the content's SHA-256: a copy or a move
  keeps it (RFC 8474 5.1), and identical messages share it, as they do in JMAP.
- THREADID ``T`` + the message's thread UUID.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

EMAIL_HASH_DIGITS = 40
_EMAIL_RE = re.compile(rf"M([0-9a-f]{{{EMAIL_HASH_DIGITS}}})")
_THREAD_RE = re.compile(r"T([0-9a-f]{32})")


def mailbox_id(folder_id: uuid.UUID) -> str:
    return "F" + folder_id.hex


def email_id(sha256: str) -> str:
    return "M" + sha256[:EMAIL_HASH_DIGITS]


def thread_id(value: Any) -> str:
    """``value`` is a UUID, or its text as a database without a UUID type returns it."""
    return "T" + (value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", ""))


def email_hash_prefix(objectid: str) -> str | None:
    """The SHA-256 prefix an EMAILID stands for; None when it is none of ours."""
    match = _EMAIL_RE.fullmatch(objectid)
    return match.group(1) if match else None


def thread_uuid(objectid: str) -> uuid.UUID | None:
    """The thread a THREADID stands for; None when it is none of ours."""
    match = _THREAD_RE.fullmatch(objectid)
    return uuid.UUID(match.group(1)) if match else None
