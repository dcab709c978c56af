"""``hexagone mail export`` and ``hexagone mail import --from mbox:|maildir:``: a mailbox
exported then imported into another gives the same folders, bytes, flags and internal
dates; Dovecot's own Maildir imports as its IMAP shows it; an organisation exports whole."""

from __future__ import annotations

import json
import mailbox
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hexagone.core.db import org_session
from hexagone.identity.models import User
from hexagone.mail.service import mailboxes, store
from tests.commands import hexagone
from tests.factories import TestUser
from tests.mail.factories import deliver, make_mail_org, make_mail_user, make_message
from tests.mail.migration.conftest import OldServer
from tests.mail.migration.contents import imap_contents, mailbox_contents
from tests.mail.migration.test_imap_import import EXPECTED_TARGETS

pytestmark = pytest.mark.usefixtures("migrated")

TRICKY_BODY = "From the first column\n>From quoted once\n>>From quoted twice\nFrom \n"
# (folder, flags, internal date, body)
MESSAGES = [
    ("INBOX", ["\\Seen"], datetime(2020, 1, 1, 9, 0, tzinfo=UTC), "Bonjour\n"),
    ("INBOX", [], datetime(2021, 2, 3, 4, 5, 6, tzinfo=UTC), TRICKY_BODY),
    (
        "INBOX",
        ["\\Flagged", "\\Answered", "$Label1", "NonJunk"],
        datetime(2022, 3, 4, 5, 6, 7, tzinfo=UTC),
        "Réponse\n",
    ),
    ("Sent", ["\\Seen"], datetime(2019, 12, 31, 23, 59, 59, tzinfo=UTC), "Envoyé\n"),
    ("Drafts", ["\\Draft"], datetime(2024, 2, 29, 12, 0, tzinfo=UTC), "Brouillon\n"),
    ("Trash", ["\\Seen", "\\Deleted"], datetime(2018, 6, 1, tzinfo=UTC), "Supprimé\n"),
    ("Projets/2024", ["$Forwarded", "\\Seen"], datetime(2024, 6, 1, 8, 30, tzinfo=UTC), "Projet\n"),
    ("Projets/2024/Q3.bilan", [], datetime(2024, 9, 1, tzinfo=UTC), "Bilan\n"),
    ("Reçus", ["\\Seen"], datetime(2023, 7, 14, 10, 0, tzinfo=UTC), "Reçu\n"),
]


async def filled_mailbox() -> TestUser:
    """A person whose mailbox has nested folders, accents, flags, keywords and dates."""
    user = await make_mail_user()
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        mailbox_row = await mailboxes.user_mailbox(db, row)
        for name in ("Projets/2024/Q3.bilan", "Reçus", "Vide"):
            await mailboxes.create_folder(db, mailbox_row, name)
        for index, (folder_name, flags, when, body) in enumerate(MESSAGES):
            folder = await mailboxes.folder_by_name(db, mailbox_row.id, folder_name)
            assert folder is not None
            raw = (
                make_message(subject=f"Message {index}", body=body, date=when - timedelta(hours=1))
                if index != 1
                else make_message(body=body).replace(b"Message-ID", b"X-No-Message-ID")
            )
            await store.append(db, folder, raw, flags=flags, internal_date=when)
        await db.commit()
    return user


@pytest.mark.parametrize("fmt", ["mbox", "maildir"])
async def test_export_then_import_into_another_person_gives_the_same_mailbox(fmt: str) -> None:
    source = await filled_mailbox()
    target = await make_mail_user()
    destination = Path(tempfile.mkdtemp(prefix="hx-export-")) / "out"
    exported = hexagone("mail", "export", "--user", source.email, "--format", fmt, "--to", str(destination), "--json")
    assert exported.returncode == 0, exported.stderr
    report = json.loads(exported.stdout)["mailboxes"][0]
    assert report["messages"] == len(MESSAGES) and report["folders"]["Vide"] == 0

    imported = hexagone("mail", "import", "--user", target.email, "--from", f"{fmt}:{destination}", "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["copied"] == len(MESSAGES)
    assert await mailbox_contents(target.email) == await mailbox_contents(source.email)


async def test_export_mbox_quotes_from_lines_and_keeps_flags_in_status_headers() -> None:
    source = await filled_mailbox()
    destination = Path(tempfile.mkdtemp(prefix="hx-export-")) / "out"
    assert hexagone("mail", "export", "--user", source.email, "--to", str(destination)).returncode == 0
    assert sorted(p.relative_to(destination).as_posix() for p in destination.rglob("*.mbox")) == [
        "Archive.mbox",
        "Drafts.mbox",
        "INBOX.mbox",
        "Junk.mbox",
        "Projets.mbox",
        "Projets/2024.mbox",
        "Projets/2024/Q3.bilan.mbox",
        "Reçus.mbox",
        "Sent.mbox",
        "Trash.mbox",
        "Vide.mbox",
    ]
    inbox = mailbox.mbox(destination / "INBOX.mbox", create=False)
    messages = [inbox.get_bytes(key) for key in inbox.iterkeys()]
    assert len(messages) == 3
    assert b"\n>From the first column\n>>From quoted once\n>>>From quoted twice\n>From \n" in messages[1]
    assert b"\nStatus: O\nX-Status: AF\nX-Keywords: $Label1 NonJunk\n\n" in messages[2]
    assert b"\nStatus: RO\n\n" in messages[0]
    assert inbox.get_message(inbox.keys()[0]).get_from().endswith("Wed Jan 01 09:00:00 2020")


async def test_import_of_dovecots_own_maildir_matches_what_its_imap_shows(old_server: OldServer) -> None:
    user = await make_mail_user()
    maildir = old_server.dovecot.home(old_server.login) / "Maildir"
    result = hexagone("mail", "import", "--user", user.email, "--from", f"maildir:{maildir}", "--json")
    assert result.returncode == 0, result.stderr
    client = old_server.client()
    expected = imap_contents(client)
    client.logout()
    ours = await mailbox_contents(user.email)
    for source, target in EXPECTED_TARGETS.items():
        # Dovecot's IMAP shows a NUL byte (one corpus message has UTF-16 text) as 0x80;
        # its file, which we read, has the NUL.
        assert [(raw.replace(b"\x00", b"\x80"), flags, when) for raw, flags, when in ours[target]] == expected[source]


async def test_import_of_a_single_mbox_file_goes_to_the_inbox() -> None:
    user = await make_mail_user()
    file = Path(tempfile.mkdtemp(prefix="hx-mbox-")) / "old.mbox"
    box = mailbox.mbox(file)
    box.add(
        b"From someone@example.net Mon Jan 15 10:00:00 2024\n" + make_message(subject="Seul").replace(b"\r\n", b"\n")
    )
    box.close()
    result = hexagone("mail", "import", "--user", user.email, "--from", f"mbox:{file}", "--json")
    assert result.returncode == 0, result.stderr
    [(raw, flags, when)] = (await mailbox_contents(user.email))["INBOX"]
    assert b"Subject: Seul\r\n" in raw and flags == frozenset() and when == datetime(2024, 1, 15, 10, tzinfo=UTC)


async def test_export_of_an_organisation_writes_one_directory_per_mailbox() -> None:
    org = await make_mail_org()
    people = [await make_mail_user(org) for _ in range(2)]
    for person in people:  # their mailboxes exist once they have had mail
        await deliver(person)
    destination = Path(tempfile.mkdtemp(prefix="hx-export-")) / "org"
    result = hexagone("mail", "export", "--org", org.domain, "--format", "maildir", "--to", str(destination), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert sorted(m["mailbox"] for m in payload["mailboxes"]) == sorted(p.email for p in people)
    for person in people:
        assert len(list((destination / person.email / "cur").iterdir())) == 1


async def test_export_refuses_a_directory_that_is_not_empty_and_bad_arguments() -> None:
    user = await make_mail_user()
    busy = Path(tempfile.mkdtemp(prefix="hx-export-"))
    (busy / "keep.txt").write_text("precious")
    refused = hexagone("mail", "export", "--user", user.email, "--to", str(busy))
    assert refused.returncode == 2 and "not an empty directory" in refused.stderr
    assert (busy / "keep.txt").read_text() == "precious"
    bad_format = hexagone("mail", "export", "--user", user.email, "--format", "pst", "--to", str(busy / "x"))
    assert bad_format.returncode == 2 and "'pst' is not one of" in bad_format.stderr
    both = hexagone("mail", "export", "--user", user.email, "--org", "x.test", "--to", str(busy / "y"))
    assert both.returncode == 2 and "either --user or --org" in both.stderr
