"""Imports from the console: one mailbox or a CSV of many, run by the live server's job
worker against a real Dovecot, with their progress on the page; the other server's
password never stays in the database; another organisation's imports are out of reach."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
from sqlalchemy import select, text

from hexagone.core.db import system_session
from hexagone.core.jobs import Job
from hexagone.mail.migration.jobs import IMPORT_JOB
from hexagone.mail.models import ImportRun, Mailbox, Message
from tests.admin.factories_admin import audited, page_token, post
from tests.factories import make_user
from tests.mail.admin.factories_mailadmin import mail_admin
from tests.mail.migration.conftest import BULK, OldServer

FINISHED = ("done", "failed", "partial")


async def runs_of(address: str) -> list[ImportRun]:
    async with system_session() as db:
        return list(
            (
                await db.execute(
                    select(ImportRun)
                    .join(Mailbox, Mailbox.id == ImportRun.mailbox_id)
                    .where(Mailbox.address == address)
                )
            ).scalars()
        )


async def finished_run(address: str, timeout: float = 60) -> ImportRun:
    for _ in range(int(timeout / 0.2)):
        runs = await runs_of(address)
        if runs and runs[0].status in FINISHED:
            return runs[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"the import into {address} did not finish: {runs}")


async def jobs_for(run_id: uuid.UUID) -> list[Job]:
    async with system_session() as db:
        found = (await db.execute(select(Job).where(Job.kind == IMPORT_JOB))).scalars()
        return [job for job in found if job.payload.get("run_id") == str(run_id)]


async def password_anywhere(password: str) -> list[str]:
    """The tables where ``password`` appears in clear (every text column of every row)."""
    found = []
    async with system_session() as db:
        for table in ("mail_imports", "jobs", "audit_log"):
            rows = (await db.execute(text(f"SELECT * FROM {table}"))).all()
            if any(password in json.dumps([str(v) for v in row]) for row in rows):
                found.append(table)
    return found


async def test_import_of_one_mailbox_runs_in_the_background_with_its_progress(
    client: httpx.AsyncClient, old_server: OldServer
) -> None:
    org, _admin = await mail_admin(client)
    person = await make_user(org)
    response = await post(
        client,
        "/mail/admin/imports",
        {
            "mailbox": person.email,
            "source": old_server.url(old_server.bulk_login),
            "password": old_server.password,
            "insecure": "on",
        },
    )
    assert response.status_code == 303 and response.headers["location"].endswith("done=import_queued")
    run = await finished_run(person.email)
    assert (run.status, run.done, run.total, run.error) == ("done", BULK, BULK, "")
    async with system_session() as db:
        copied = (
            await db.execute(
                select(Message.id)
                .join(Mailbox, Mailbox.id == Message.mailbox_id)
                .where(Mailbox.address == person.email)
            )
        ).all()
    assert len(copied) == BULK
    fragment = (await client.get("/mail/admin/imports/runs")).text
    assert person.email in fragment and f'max="{BULK}" value="{BULK}"' in fragment and "Terminé" in fragment
    assert "hx-get" not in fragment  # nothing left to follow: the list stops asking
    [job] = await jobs_for(run.id)
    assert "secret" not in job.payload and job.payload["source"] == old_server.url(old_server.bulk_login)
    assert await password_anywhere(old_server.password) == []
    assert await audited("mail.import_queued", person.email)


async def test_import_page_follows_a_running_import(client: httpx.AsyncClient, old_server: OldServer) -> None:
    org, _admin = await mail_admin(client)
    person = await make_user(org)
    await post(
        client,
        "/mail/admin/imports",
        {
            "mailbox": person.email,
            "source": old_server.url(old_server.bulk_login),
            "password": old_server.password,
            "insecure": "on",
        },
    )
    page = (await client.get("/mail/admin/imports")).text
    if (await runs_of(person.email))[0].status not in FINISHED:
        assert 'hx-get="/mail/admin/imports/runs" hx-trigger="every 3s"' in page
    await finished_run(person.email)
    again = await post(
        client,
        "/mail/admin/imports",
        {
            "mailbox": person.email,
            "password": old_server.password,
            "source": old_server.url(old_server.bulk_login),
            "insecure": "on",
        },
    )
    assert again.status_code == 303  # a finished import may run again: it copies only what is new
    run = await finished_run(person.email)
    assert run.status == "done" and run.done == BULK


async def test_import_refused_by_the_other_server_fails_with_its_reason_and_forgets_the_password(
    client: httpx.AsyncClient, old_server: OldServer
) -> None:
    org, _admin = await mail_admin(client)
    person = await make_user(org)
    await post(
        client,
        "/mail/admin/imports",
        {"mailbox": person.email, "source": old_server.url(), "password": "Wrong-password-42", "insecure": "on"},
    )
    run = await finished_run(person.email)
    assert run.status == "failed" and "a refusé la connexion" in run.error
    [job] = await jobs_for(run.id)
    assert "secret" not in job.payload and job.attempts == 1
    assert await password_anywhere("Wrong-password-42") == []
    assert "a refusé la connexion" in (await client.get("/mail/admin/imports")).text


async def test_import_csv_queues_each_good_line_and_reports_the_others(
    client: httpx.AsyncClient, old_server: OldServer
) -> None:
    org, _admin = await mail_admin(client)
    people = [await make_user(org) for _ in range(2)]
    lines = [
        "email,imap_url,password",
        f"{people[0].email},{old_server.url()},{old_server.password}",
        f'{people[1].email},{old_server.url()},"{old_server.password}"',
        f"nobody@{org.domain},{old_server.url()},x",
        f"{people[0].email},mbox:/etc/passwd,x",
        "only,two",
    ]
    response = await client.post(
        "/mail/admin/imports/csv",
        data={"csrf_token": await page_token(client), "insecure": "on"},
        files={"file": ("imports.csv", "\n".join(lines).encode(), "text/csv")},
    )
    assert response.status_code == 200
    assert "2 imports en file d'attente, 3 lignes refusées." in response.text
    for person in people:
        run = await finished_run(person.email)
        assert run.status == "done" and run.done == run.total > 20
    assert await password_anywhere(old_server.password) == []


async def test_import_form_bad_input_is_refused_with_a_message(client: httpx.AsyncClient) -> None:
    org, admin = await mail_admin(client)
    cases = [
        ({"mailbox": admin.email, "source": "mbox:/etc/passwd", "password": "x"}, 400),
        ({"mailbox": admin.email, "source": "imaps://jeanne:secret@mail.example.org", "password": "x"}, 400),
        ({"mailbox": admin.email, "source": "imaps://jeanne@mail.example.org", "password": ""}, 400),
        ({"mailbox": f"nobody@{org.domain}", "source": "imaps://jeanne@mail.example.org", "password": "x"}, 400),
    ]
    for form, status in cases:
        response = await post(client, "/mail/admin/imports", form)
        assert response.status_code == status, form
        assert 'role="alert"' in response.text
    empty = await client.post(
        "/mail/admin/imports/csv",
        data={"csrf_token": await page_token(client)},
        files={"file": ("empty.csv", b"", "text/csv")},
    )
    assert empty.status_code == 400
    binary = await client.post(
        "/mail/admin/imports/csv",
        data={"csrf_token": await page_token(client)},
        files={"file": ("x.csv", b"\xff\xfe\x00bad", "text/csv")},
    )
    assert binary.status_code == 400
    assert await runs_of(admin.email) == []


async def test_imports_of_another_organisation_are_out_of_reach(
    client: httpx.AsyncClient, old_server: OldServer
) -> None:
    other_org, _other_admin = await mail_admin(client)
    stranger = await make_user(other_org)
    await post(
        client,
        "/mail/admin/imports",
        {"mailbox": stranger.email, "source": old_server.url(), "password": old_server.password, "insecure": "on"},
    )
    await finished_run(stranger.email)

    client.cookies.clear()
    _org, _admin = await mail_admin(client)
    assert stranger.email not in (await client.get("/mail/admin/imports")).text
    assert stranger.email not in (await client.get("/mail/admin/imports/runs")).text
    into_stranger = await post(
        client,
        "/mail/admin/imports",
        {"mailbox": stranger.email, "source": old_server.url(), "password": old_server.password, "insecure": "on"},
    )
    assert into_stranger.status_code == 400
    assert len(await runs_of(stranger.email)) == 1
