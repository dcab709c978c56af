"""Export a mailbox (or every mailbox of an organisation) to mbox or Maildir, the open
formats every mail program and server reads: an organisation leaves as easily as it came.

The bytes of each message are written as they were received (line ends as LF), with its
flags and internal date in the places :mod:`.formats` describes; folders keep their
hierarchy. What is exported imports back unchanged (:mod:`.files`).

The destination must be new or an empty directory: an export never mixes with, or
overwrites, other files.
"""

from __future__ import annotations

import mailbox
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _
from hexagone.mail.migration import formats
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import mailboxes, store

FORMATS = ("mbox", "maildir")
PAGE = 200
INBOX = mailboxes.INBOX

Progress = Callable[[int, int], None]


@dataclass
class ExportReport:
    mailbox: str
    format: str
    path: str
    folders: dict[str, int] = field(default_factory=dict)  # folder -> messages written

    @property
    def messages(self) -> int:
        return sum(self.folders.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "format": self.format,
            "path": self.path,
            "folders": self.folders,
            "messages": self.messages,
        }


class _Mbox(mailbox.mbox):
    """Python's mbox, writing the bytes it is given as they are: the ``From `` quoting
    is done beforehand, the reversible mboxrd way (Python's own is mboxo)."""

    _mangle_from_ = False


def prepare_destination(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise Invalid(_("%(path)s already exists and is not an empty directory.", path=str(path)))
    path.mkdir(parents=True, exist_ok=True)


def _from_line(message: Message) -> bytes:
    sender = message.from_addr if message.from_addr and " " not in message.from_addr.strip() else "MAILER-DAEMON"
    when = message.internal_date.strftime("%a %b %d %H:%M:%S %Y")
    return f"From {sender.strip() or 'MAILER-DAEMON'} {when}\n".encode()


def _mbox_bytes(message: Message, raw: bytes) -> bytes:
    header, rest = formats.split_header(formats.to_lf(raw))
    flags = store.flags_of(message)
    return _from_line(message) + formats.quote_from(header + formats.mbox_status_headers(flags) + rest)


class _MboxFolder:
    def __init__(self, file: Path):
        file.parent.mkdir(parents=True, exist_ok=True)
        self.box = _Mbox(file, create=True)

    def add(self, message: Message, raw: bytes) -> None:
        self.box.add(_mbox_bytes(message, raw))

    def close(self) -> None:
        self.box.flush()
        self.box.close()


class _MaildirFolder:
    """One Maildir folder being written: files go to ``tmp/`` then ``cur/`` with their
    flags in the name and the internal date as their modification time. Names start
    with the export's time and the UID, so that sorting them gives the folder's order."""

    def __init__(self, path: Path, keywords: list[str]):
        self.path = path
        self.started = int(time.time())
        self.letters = {keyword: formats.KEYWORD_LETTERS[i] for i, keyword in enumerate(keywords[:26])}
        if self.letters:
            (path / "dovecot-keywords").write_text(formats.write_dovecot_keywords(keywords))
        self.host = socket.gethostname().replace("/", "_").replace(":", "_") or "hexagone"

    def add(self, message: Message, raw: bytes) -> None:
        data = formats.to_lf(raw)
        when = message.internal_date.timestamp()
        info = formats.maildir_info(store.flags_of(message), self.letters)
        name = f"{self.started}.M{message.uid:010d}P{os.getpid()}.{self.host},S={len(data)}"
        temporary = self.path / "tmp" / name
        with temporary.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.utime(temporary, (when, when))
        temporary.rename(self.path / "cur" / f"{name}:2,{info}")

    def close(self) -> None:
        return None


async def _pages(org_id: uuid.UUID, folder: Folder) -> AsyncIterator[list[Message]]:
    last = 0
    while True:
        async with org_session(org_id) as db:
            page = list(
                (
                    await db.execute(
                        select(Message)
                        .where(Message.folder_id == folder.id, Message.uid > last)
                        .order_by(Message.uid)
                        .limit(PAGE)
                    )
                ).scalars()
            )
        if not page:
            return
        yield page
        last = page[-1].uid


async def _keywords(org_id: uuid.UUID, folder: Folder) -> list[str]:
    async with org_session(org_id) as db:
        rows = (await db.execute(select(Message.keywords).where(Message.folder_id == folder.id))).scalars()
        return sorted({keyword for keywords in rows for keyword in keywords or []})


async def export_mailbox(
    mailbox_row: Mailbox, fmt: str, destination: Path, *, on_progress: Progress | None = None
) -> ExportReport:
    if fmt not in FORMATS:
        raise Invalid(_("The format is mbox or maildir."))
    prepare_destination(destination)
    org_id = mailbox_row.org_id
    async with org_session(org_id) as db:
        folders = await mailboxes.folders(db, mailbox_row.id)
        total = (
            await db.execute(select(func.count()).select_from(Message).where(Message.mailbox_id == mailbox_row.id))
        ).scalar_one()
    report = ExportReport(mailbox_row.address, fmt, str(destination.resolve()))  # noqa: ASYNC240 - no I/O
    done = 0
    root = None
    if fmt == "maildir":
        for sub in ("tmp", "new", "cur"):  # Maildir(create=True) makes them only in a new directory
            (destination / sub).mkdir(exist_ok=True)
        root = mailbox.Maildir(destination, factory=None, create=False)
    for folder in folders:
        parts = folder.name.split("/")
        writer: _MboxFolder | _MaildirFolder
        if fmt == "mbox":
            writer = _MboxFolder(destination / formats.mbox_file(parts))
        else:
            assert root is not None
            path = destination
            if folder.name != INBOX:
                name = formats.maildir_folder(parts)
                root.add_folder(name)
                path = destination / f".{name}"
            writer = _MaildirFolder(path, await _keywords(org_id, folder))
        count = 0
        async for page in _pages(org_id, folder):
            for message in page:
                writer.add(message, await store.read(message))
                count += 1
            done += len(page)
            if on_progress:
                on_progress(done, total)
        writer.close()
        report.folders[folder.name] = count
    return report


async def export_org(
    org_id: uuid.UUID, fmt: str, destination: Path, *, on_progress: Progress | None = None
) -> list[ExportReport]:
    """Every mailbox of the organisation (people's and shared), each in a directory
    named by its address."""
    prepare_destination(destination)
    async with org_session(org_id) as db:
        rows = list((await db.execute(select(Mailbox).order_by(Mailbox.address))).scalars())
    return [await export_mailbox(row, fmt, destination / row.address, on_progress=on_progress) for row in rows]
