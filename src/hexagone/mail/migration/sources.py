"""Where an import reads from: an IMAP server, an mbox file or directory, a Maildir.

A source is blocking code (imapclient, :mod:`mailbox`); the import engine calls it in a
thread. Each folder has a UIDVALIDITY and its messages have UIDs that only grow, as in
IMAP: for files, the UID is the message's position and the UIDVALIDITY changes whenever
the file or directory changes, so that an import resumes only where nothing moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hexagone.core.exceptions import Invalid


class SourceError(Invalid):
    """The source cannot be read: login refused, certificate not trusted, file missing.
    The message says which, for the person who typed the source."""


class SourceUnavailable(SourceError):
    """The source did not answer or the connection broke: trying again later may work."""


@dataclass(frozen=True)
class SourceFolder:
    name: str  # as the source shows it, decoded: the key of the import's progress
    parts: tuple[str, ...]  # the hierarchy, split at the source's delimiter
    special_use: str | None  # RFC 6154 attribute (\Sent…), when the source gives one
    uidvalidity: int


@dataclass(frozen=True, order=True)
class Entry:
    """A message as listed before fetching: enough to plan batches."""

    uid: int
    size: int


@dataclass(frozen=True)
class SourceMessage:
    uid: int
    raw: bytes  # CRLF line ends, as IMAP and our store keep them
    flags: tuple[str, ...]
    internal_date: datetime | None


class Source(Protocol):
    label: str  # what the import is known by (never a password): imaps://login@host:993, mbox:/path

    def folders(self) -> list[SourceFolder]: ...

    def entries(self, folder: SourceFolder) -> list[Entry]:
        """The folder's messages by increasing UID."""
        ...

    def fetch(self, folder: SourceFolder, uids: Sequence[int]) -> list[SourceMessage]: ...

    def close(self) -> None: ...
