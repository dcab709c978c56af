"""``hexagone mail import --from imaps://…`` against a real Dovecot on loopback: every
folder, flag, internal date and byte arrives; a second run copies nothing; an import cut
short (by --limit or by killing the process) resumes where it stopped."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import uuid

import pytest
from sqlalchemy import select, update

from hexagone.core.db import system_session
from hexagone.mail.models import ImportRun, Mailbox, Message
from hexagone.mail.service import subscriptions
from tests.commands import hexagone
from tests.conftest import ROOT, hexagone_command, server_env
from tests.mail.factories import make_mail_user
from tests.mail.migration.conftest import BULK, OldServer
from tests.mail.migration.contents import imap_contents, mailbox_contents

pytestmark = pytest.mark.usefixtures("migrated")

# Where each folder of the old server lands: special folders by their special use,
# whatever their names; the others by name, with our delimiter.
EXPECTED_TARGETS = {
    "INBOX": "INBOX",
    "Sent Items": "Sent",
    "Deleted Items": "Trash",
    "Drafts": "Drafts",
    "Projets.2024": "Projets/2024",
    "Reçus": "Reçus",
    "Vide": "Vide",
}


def import_from(
    server: OldServer, address: str, *extra: str, url: str | None = None, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    return hexagone(
        "mail",
        "import",
        "--user",
        address,
        "--from",
        url or server.url(),
        "--password-stdin",
        "--insecure",
        "--json",
        *extra,
        stdin=(password or server.password) + "\n",
    )


async def count_messages(address: str) -> int:
    async with system_session() as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.address == address))).scalar_one()
        return len((await db.execute(select(Message.id).where(Message.mailbox_id == mailbox.id))).all())


async def test_import_over_imaps_copies_every_folder_with_flags_dates_and_bytes(old_server: OldServer) -> None:
    user = await make_mail_user()
    result = import_from(old_server, user.email)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "done" and report["source"] == old_server.url()
    assert report["copied"] == report["total"] == report["done"] > 20 and report["skipped"] == 0

    client = old_server.client()
    expected = imap_contents(client)
    client.logout()
    ours = await mailbox_contents(user.email)
    assert set(EXPECTED_TARGETS) == set(expected)
    for source, target in EXPECTED_TARGETS.items():
        assert ours[target] == expected[source], source
    assert {f["source"]: f["target"] for f in report["folders"]} == EXPECTED_TARGETS
    assert any("$Label1" in flags for _raw, flags, _date in ours["Projets/2024"])
    async with system_session() as db:  # clients showing subscribed folders only see them
        subscribed = set(await subscriptions.names(db, user.id))
    assert set(EXPECTED_TARGETS.values()) <= subscribed


async def test_import_run_again_copies_nothing_new(old_server: OldServer) -> None:
    user = await make_mail_user()
    first = json.loads(import_from(old_server, user.email).stdout)
    again = import_from(old_server, user.email)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["status"] == "done" and report["copied"] == 0 and report["done"] == report["total"] == first["total"]
    assert await count_messages(user.email) == first["copied"]


async def test_import_from_another_address_of_the_same_server_recognises_what_is_there(old_server: OldServer) -> None:
    """A new source (STARTTLS instead of TLS) has no UIDs to resume from: the
    Message-ID-and-size guard (the bytes' digest without a Message-ID) skips every message."""
    user = await make_mail_user()
    first = json.loads(import_from(old_server, user.email).stdout)
    result = import_from(old_server, user.email, url=old_server.url(tls=False))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["source"].startswith("imap://") and report["copied"] == 0 and report["skipped"] == first["copied"]
    assert await count_messages(user.email) == first["copied"]


async def test_import_whose_uidvalidity_changed_rescans_the_folder_without_duplicates(old_server: OldServer) -> None:
    user = await make_mail_user()
    first = json.loads(import_from(old_server, user.email).stdout)
    async with system_session() as db:
        run = await db.get(ImportRun, uuid.UUID(first["run_id"]))
        assert run is not None
        progress = dict(run.progress)
        progress["INBOX"] = {"uidvalidity": 1, "last_uid": 10_000}
        await db.execute(update(ImportRun).where(ImportRun.id == run.id).values(progress=progress))
        await db.commit()
    report = json.loads(import_from(old_server, user.email).stdout)
    inbox = next(f for f in report["folders"] if f["source"] == "INBOX")
    assert inbox["copied"] == 0 and inbox["skipped"] > 0
    assert await count_messages(user.email) == first["copied"]


async def test_import_with_a_limit_stops_there_and_resumes_on_the_next_run(old_server: OldServer) -> None:
    user = await make_mail_user()
    partial = import_from(old_server, user.email, "--limit", "7", url=old_server.url(old_server.bulk_login))
    report = json.loads(partial.stdout)
    assert partial.returncode == 0 and report["status"] == "partial" and report["copied"] == 7
    assert await count_messages(user.email) == 7
    rest = json.loads(import_from(old_server, user.email, url=old_server.url(old_server.bulk_login)).stdout)
    assert rest["status"] == "done" and rest["copied"] == BULK - 7 and rest["done"] == rest["total"] == BULK
    assert await count_messages(user.email) == BULK


async def test_import_killed_midway_resumes_without_losing_or_repeating(old_server: OldServer) -> None:
    user = await make_mail_user()
    process = subprocess.Popen(
        hexagone_command(
            "mail",
            "import",
            "--user",
            user.email,
            "--from",
            old_server.url(old_server.bulk_login),
            "--password-stdin",
            "--insecure",
            "--json",
        ),
        env=server_env(),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(old_server.password + "\n")
    process.stdin.close()
    deadline = time.monotonic() + 60
    copied = 0
    while time.monotonic() < deadline and process.poll() is None and copied == 0:
        copied = await count_messages(user.email) if await _has_mailbox(user.email) else 0
        await asyncio.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < copied < BULK, "the import should have been caught after its first batch"
    result = import_from(old_server, user.email, url=old_server.url(old_server.bulk_login))
    report = json.loads(result.stdout)
    assert report["status"] == "done" and report["done"] == BULK
    assert await count_messages(user.email) == BULK


async def _has_mailbox(address: str) -> bool:
    async with system_session() as db:
        return (await db.execute(select(Mailbox.id).where(Mailbox.address == address))).first() is not None


async def test_import_errors_are_messages_with_exit_code_2(old_server: OldServer) -> None:
    user = await make_mail_user()
    wrong = import_from(old_server, user.email, password="not-the-password")
    assert wrong.returncode == 2 and "refused the login" in wrong.stderr
    nobody = import_from(old_server, "nobody@nowhere.test")
    assert nobody.returncode == 2 and "nobody@nowhere.test" in nobody.stderr
    in_url = hexagone(
        "mail",
        "import",
        "--user",
        user.email,
        "--from",
        "imaps://jeanne:secret@127.0.0.1",
        "--password-stdin",
        stdin="x\n",
    )
    assert in_url.returncode == 2 and "password in the address" in in_url.stderr
    assert "Traceback" not in wrong.stderr + nobody.stderr + in_url.stderr
