"""Reading mbox and Maildir, as other servers and mail programs export them (and as
:mod:`hexagone.mail.migration.export` writes them): see :mod:`.formats` for how flags,
dates and folder names are carried.

``mbox:PATH`` is one mbox file (imported into INBOX) or a directory of ``*.mbox`` files,
one folder each (``Archive/2024.mbox`` → ``Archive/2024``). ``maildir:PATH`` is a Maildir
(its messages go to INBOX) with its Maildir++ subfolders (``.Archive.2024``).

A message's UID is its position; the folder's UIDVALIDITY changes as soon as the file
(or the directory's list of messages) changes, so an import resumes from a position only
while that position still means the same message.
"""

from __future__ import annotations

import email.utils
import mailbox
import os
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from hexagone.core.i18n import gettext as _
from hexagone.mail.migration import formats
from hexagone.mail.migration.sources import Entry, SourceError, SourceFolder, SourceMessage

INBOX = "INBOX"
MAILDIR_KEYWORDS = "dovecot-keywords"
DOVECOT_UIDLIST = "dovecot-uidlist"
UNLISTED = 2**63


def _basename(file: Path) -> str:
    return file.name.partition(":")[0]


def _dovecot_uids(uidlist: Path) -> dict[str, int]:
    """Dovecot's own UIDs for its Maildir files (``dovecot-uidlist``: a header line,
    then ``<uid> [fields] :<basename>``), so that its messages keep their order."""
    if not uidlist.is_file():
        return {}
    found = {}
    for line in uidlist.read_text("utf-8", "replace").splitlines()[1:]:
        uid, _, rest = line.partition(" ")
        basename = rest[1:] if rest.startswith(":") else rest.partition(" :")[2]
        if uid.isdigit() and basename:
            found[basename] = int(uid)
    return found


def _uidvalidity(fingerprint: str) -> int:
    return zlib.crc32(fingerprint.encode()) & 0x7FFFFFFF or 1


def _folder(parts: Sequence[str], uidvalidity: int) -> SourceFolder:
    parts = tuple(parts)
    if parts and parts[0].upper() == INBOX:
        parts = (INBOX, *parts[1:])
    return SourceFolder("/".join(parts), parts, None, uidvalidity)


def _from_line_date(line: bytes) -> datetime | None:
    """The date of an mbox ``From sender Thu Jan  1 00:00:00 2024`` line (UTC)."""
    words = line.decode("ascii", "replace").split()
    for start in range(1, len(words) - 4):
        try:
            return datetime.strptime(" ".join(words[start : start + 5]), "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _header_date(raw: bytes) -> datetime | None:
    header, _rest = formats.split_header(raw)
    for line in header.splitlines():
        if line[:5].lower() == b"date:":
            try:
                return email.utils.parsedate_to_datetime(line[5:].decode("ascii", "replace").strip())
            except (TypeError, ValueError):
                return None
    return None


class MboxSource:
    def __init__(self, path: Path):
        if not path.exists():
            raise SourceError(_("%(path)s does not exist.", path=str(path)))
        self.label = f"mbox:{path.resolve()}"
        self._files: dict[tuple[str, ...], Path]
        if path.is_file():
            self._files = {(INBOX,): path}
        else:
            self._files = {
                tuple(formats.mbox_parts(f.relative_to(path).as_posix())): f
                for f in sorted(path.rglob(f"*{formats.MBOX_SUFFIX}"))
                if f.is_file()
            }
        self._boxes: dict[str, tuple[mailbox.mbox, list[str]]] = {}

    def folders(self) -> list[SourceFolder]:
        found = []
        for parts, file in self._files.items():
            stat = file.stat()
            found.append(_folder(parts, _uidvalidity(f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}")))
        return found

    def _box(self, folder: SourceFolder) -> tuple[mailbox.mbox, list[str]]:
        if folder.name not in self._boxes:
            file = next(f for parts, f in self._files.items() if _folder(parts, 0).name == folder.name)
            box = mailbox.mbox(file, create=False)
            self._boxes[folder.name] = (box, list(box.keys()))
        return self._boxes[folder.name]

    def entries(self, folder: SourceFolder) -> list[Entry]:
        box, keys = self._box(folder)
        return [Entry(uid, len(box.get_bytes(key))) for uid, key in enumerate(keys, start=1)]

    def fetch(self, folder: SourceFolder, uids: Sequence[int]) -> list[SourceMessage]:
        box, keys = self._box(folder)
        messages = []
        for uid in uids:
            from_line, _, message = box.get_bytes(keys[uid - 1], from_=True).partition(b"\n")
            flags, message = formats.mbox_flags(message)
            raw = formats.to_crlf(formats.unquote_from(message))
            messages.append(SourceMessage(uid, raw, tuple(flags), _from_line_date(from_line) or _header_date(raw)))
        return messages

    def close(self) -> None:
        for box, _keys in self._boxes.values():
            box.close()


class MaildirSource:
    """Messages are read straight from ``new/`` and ``cur/`` (the Maildir layout is the
    whole format), in the order of Dovecot's UID list when there is one, else by name;
    :class:`mailbox.Maildir` finds the Maildir++ subfolders."""

    def __init__(self, path: Path):
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise SourceError(_("%(path)s is not a Maildir (it has no cur or new directory).", path=str(path)))
        self.label = f"maildir:{path.resolve()}"
        self._dirs: dict[str, tuple[list[str], Path]] = {INBOX: ([INBOX], path)}
        for name in mailbox.Maildir(path, factory=None, create=False).list_folders():
            parts = formats.maildir_parts(name)
            self._dirs[_folder(parts, 0).name] = (parts, path / f".{name}")
        self._files: dict[str, list[Path]] = {}

    def _messages(self, folder_name: str) -> list[Path]:
        if folder_name not in self._files:
            directory = self._dirs[folder_name][1]
            files = [
                f
                for sub in ("new", "cur")
                if (directory / sub).is_dir()
                for f in (directory / sub).iterdir()
                if not f.name.startswith(".") and f.is_file()
            ]
            order = _dovecot_uids(directory / DOVECOT_UIDLIST)
            self._files[folder_name] = sorted(files, key=lambda f: (order.get(_basename(f), UNLISTED), _basename(f)))
        return self._files[folder_name]

    def folders(self) -> list[SourceFolder]:
        found = []
        for name, (parts, _directory) in self._dirs.items():
            fingerprint = "\n".join(_basename(f) for f in self._messages(name))
            found.append(_folder(parts, _uidvalidity(fingerprint)))
        return found

    def entries(self, folder: SourceFolder) -> list[Entry]:
        return [Entry(uid, f.stat().st_size) for uid, f in enumerate(self._messages(folder.name), start=1)]

    def fetch(self, folder: SourceFolder, uids: Sequence[int]) -> list[SourceMessage]:
        files = self._messages(folder.name)
        keywords_file = self._dirs[folder.name][1] / MAILDIR_KEYWORDS
        keywords = (
            formats.read_dovecot_keywords(keywords_file.read_text("utf-8", "replace"))
            if keywords_file.is_file()
            else {}
        )
        messages = []
        for uid in uids:
            file = files[uid - 1]
            try:
                data = file.read_bytes()
                mtime = os.stat(file).st_mtime
            except FileNotFoundError:  # moved by a mail program since the listing
                continue
            _unique, _, info = file.name.partition(":")
            flags = formats.maildir_flags(info[2:], keywords) if info.startswith("2,") else []
            messages.append(SourceMessage(uid, formats.to_crlf(data), tuple(flags), datetime.fromtimestamp(mtime, UTC)))
        return messages

    def close(self) -> None:
        return None
