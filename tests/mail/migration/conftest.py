"""What the migration tests share: a Dovecot on loopback filled once per session with the
corpus messages, flags, keywords and internal dates in several folders (the ``old_server``
fixture, in ``tests/mail/conftest.py``: the admin's imports page uses it too)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

from tests.mail.factories import make_message
from tests.mail.imap.differential.harness import CORPUS as SHARED_CORPUS
from tests.mail.migration.dovecot import Dovecot

CORPUS = SHARED_CORPUS / "stalwart-mail-parser"
PASSWORD = "Old-server-password-1"
PARIS = dt.timezone(dt.timedelta(hours=2))


@dataclass(frozen=True)
class OldServer:
    dovecot: Dovecot
    login: str  # the account with folders, flags and dates
    bulk_login: str  # the account with many small messages
    password: str = PASSWORD

    def url(self, login: str | None = None, *, tls: bool = True) -> str:
        port = self.dovecot.imaps_port if tls else self.dovecot.imap_port
        return f"{'imaps' if tls else 'imap'}://{login or self.login}@127.0.0.1:{port}"

    def client(self, login: str | None = None) -> IMAPClient:
        client = IMAPClient("127.0.0.1", self.dovecot.imap_port, ssl=False)
        client.login(login or self.login, self.password)
        client.normalise_times = False
        return client


# (folder on the old server, flags, internal date) of the messages beyond the corpus.
EXTRA = [
    ("Sent Items", (b"\\Seen",), dt.datetime(2019, 5, 6, 7, 8, 9, tzinfo=PARIS)),
    ("Sent Items", (b"\\Seen", b"\\Answered"), dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
    ("Deleted Items", (b"\\Seen", b"\\Deleted"), dt.datetime(2018, 12, 31, 23, 59, 59, tzinfo=dt.UTC)),
    ("Drafts", (b"\\Draft",), dt.datetime(2024, 2, 29, 12, 0, 0, tzinfo=PARIS)),
    ("Projets.2024", (b"\\Flagged", b"$Label1"), dt.datetime(2024, 6, 1, 8, 30, 0, tzinfo=PARIS)),
    ("Projets.2024", (b"\\Seen", b"$Label1", b"NonJunk"), dt.datetime(2024, 6, 2, 9, 0, 0, tzinfo=dt.UTC)),
    ("Reçus", (b"\\Answered", b"\\Seen"), dt.datetime(2022, 7, 14, 10, 0, 0, tzinfo=PARIS)),
]
BULK = 300


def _fill(server: OldServer) -> None:
    client = server.client()
    for name in ("Projets.2024", "Reçus", "Vide"):
        client.create_folder(name)
    corpus = sorted((CORPUS / "rfc").glob("*.eml")) + sorted((CORPUS / "thirdparty").glob("*.eml"))[:8]
    for index, path in enumerate(corpus):
        flags = [(), (b"\\Seen",), (b"\\Seen", b"\\Flagged"), (b"$Forwarded",)][index % 4]
        when = dt.datetime(2015, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=37 * index, seconds=index)
        client.append("INBOX", path.read_bytes(), flags=flags, msg_time=when)
    body = "Une ligne\nFrom the start of a line, quoted in mbox\n>From already quoted\n"
    for index, (folder, flags, when) in enumerate(EXTRA):
        client.append(folder, make_message(subject=f"Extra {index}", body=body), flags=flags, msg_time=when)
    client.logout()
    bulk = server.client(server.bulk_login)
    for index in range(BULK):
        bulk.append(
            "INBOX",
            make_message(subject=f"Bulk {index}"),
            flags=(b"\\Seen",) if index % 2 else (),
            msg_time=dt.datetime(2023, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=index),
        )
    bulk.logout()
    for login in (server.login, server.bulk_login):
        _open_every_folder(server.client(login))


def _open_every_folder(client: IMAPClient) -> None:
    """Dovecot fixes a new folder's UIDVALIDITY the first time a session opens it; until
    then a session's STATUS may answer 0 while another opens it. Imports running side by
    side would see the folder change and wait out a retry (30 to 60 s), so open them all now."""
    for flags, _delimiter, name in client.list_folders():
        if b"\\Noselect" not in flags:
            client.select_folder(name, readonly=True)
    client.logout()


@contextmanager
def running_old_server() -> Iterator[OldServer]:
    """The Dovecot of the ``old_server`` fixture (``tests/mail/conftest.py``), filled."""
    root = Path(tempfile.mkdtemp(prefix="hx-dovecot-"))
    login, bulk = "jeanne@old.example", "bulk@old.example"
    dovecot = Dovecot(root, {login: PASSWORD, bulk: PASSWORD}).start()
    try:
        server = OldServer(dovecot, login, bulk)
        _fill(server)
        yield server
    finally:
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)
