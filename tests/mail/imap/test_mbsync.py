"""A full two-way sync with mbsync (Debian's isync), a client nobody here wrote: messages
and flags go down to a Maildir, local changes come back up, and both sides agree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import deliver, make_message, messages_in
from tests.mail.imap.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")


def mbsyncrc(tmp: Path, server: Server, user: TestUser) -> Path:
    rc = tmp / "mbsyncrc"
    rc.write_text(f"""IMAPAccount hexagone
Host 127.0.0.1
Port {server.imap_port}
User {user.email}
Pass {user.password}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account hexagone

MaildirStore local
Path {tmp}/mail/
Inbox {tmp}/mail/INBOX
SubFolders Verbatim

Channel hexagone
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")
    (tmp / "mail").mkdir()
    return rc


def sync(rc: Path) -> None:
    result = subprocess.run(["mbsync", "-c", str(rc), "-a"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def maildir(tmp: Path, folder: str = "INBOX") -> dict[str, str]:
    """Subject → Maildir flags of each message of a local folder."""
    found = {}
    for path in [*(tmp / "mail" / folder / "cur").iterdir(), *(tmp / "mail" / folder / "new").iterdir()]:
        subject = next(line for line in path.read_bytes().splitlines() if line.startswith(b"Subject: "))
        found[subject[9:].decode()] = path.name.rpartition(":2,")[2] if ":2," in path.name else ""
    return found


def local_file(tmp: Path, subject: str) -> Path:
    for path in [*(tmp / "mail" / "INBOX" / "cur").iterdir(), *(tmp / "mail" / "INBOX" / "new").iterdir()]:
        if f"Subject: {subject}".encode() in path.read_bytes():
            return path
    raise AssertionError(f"no local message {subject!r}")


async def test_mbsync_two_way_sync_of_messages_and_flags(tmp_path: Path, server: Server, user: TestUser) -> None:
    await deliver(user, subject="read", flags=("\\Seen",))
    await deliver(user, subject="important", flags=("\\Flagged",))
    await deliver(user, subject="doomed")
    await deliver(user, subject="filed", folder="Archive")
    rc = mbsyncrc(tmp_path, server, user)

    sync(rc)
    assert maildir(tmp_path) == {"read": "S", "important": "F", "doomed": ""}
    assert maildir(tmp_path, "Archive") == {"filed": ""}
    assert {"Drafts", "Sent", "Trash", "Junk"} <= {p.name for p in (tmp_path / "mail").iterdir()}

    # Local changes: a new message, a flag, a deletion.
    (tmp_path / "mail" / "INBOX" / "new" / "1700000000.1_1.localhost").write_bytes(make_message(subject="written here"))
    important = local_file(tmp_path, "important")
    important.rename(tmp_path / "mail" / "INBOX" / "cur" / (important.name.rpartition(":2,")[0] + ":2,FS"))
    doomed = local_file(tmp_path, "doomed")
    doomed.rename(tmp_path / "mail" / "INBOX" / "cur" / (doomed.name.rpartition(":2,")[0] + ":2,ST"))
    # Server changes: a new message, a flag.
    await deliver(user, subject="arrived meanwhile")
    remote = Raw(server.imap_port)
    remote.login(user)
    remote.command(b"s", b"SELECT INBOX")
    remote.command(b"a", b"STORE 1 +FLAGS (\\Answered)")
    remote.close()

    sync(rc)
    on_server = {
        m.subject: {f for f in ("seen", "flagged", "answered") if getattr(m, f)} for m in await messages_in(user)
    }
    assert on_server == {
        "read": {"seen", "answered"},
        "important": {"seen", "flagged"},
        "written here": set(),
        "arrived meanwhile": set(),
    }
    assert maildir(tmp_path) == {"read": "RS", "important": "FS", "written here": "", "arrived meanwhile": ""}

    sync(rc)  # a third run finds nothing to do and changes nothing
    assert maildir(tmp_path) == {"read": "RS", "important": "FS", "written here": "", "arrived meanwhile": ""}
    assert len(await messages_in(user)) == 4
