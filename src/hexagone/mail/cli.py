"""``hexagone mail import`` and ``hexagone mail export``: bringing mail in from another
server or from files, and taking it out again, from the command line; ``hexagone mail
reparse``: reading stored messages again after an upgrade changed the parser.

Like the other commands, ``--json`` prints exactly one JSON object; an error prints a
message on standard error and exits with code 2. The progress bar goes to standard
error, only on a terminal and never with ``--json``. An import that stops (Ctrl-C, a
lost connection, ``--limit``) resumes where it stopped when the same command runs again.
"""

from __future__ import annotations

import asyncio
import enum
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from hexagone.core.cli import JsonFlag, emit, run

if TYPE_CHECKING:  # the commands import their code when they run: `hexagone --help` stays fast
    from hexagone.mail.models import Mailbox

app = typer.Typer(
    help="Mail: import from another server or files, export to mbox or Maildir, read stored mail again.",
    no_args_is_help=True,
)
T = TypeVar("T")


class Format(enum.StrEnum):
    MBOX = "mbox"
    MAILDIR = "maildir"


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """The core's way of running a command (:func:`hexagone.core.cli.run`); an interrupted
    import says how to resume."""
    try:
        return run(make)
    except KeyboardInterrupt:
        typer.echo("interrupted: run the same command again to resume", err=True)
        raise typer.Exit(130) from None


@contextmanager
def _progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on standard error, updated by calling the yielded function
    with (done, total); nothing at all when disabled."""
    if not enabled:
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _read_password(password_stdin: bool) -> str:
    from hexagone.core.exceptions import Invalid

    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if sys.stdin is not None and sys.stdin.isatty():
        return typer.prompt("Password on the other server", hide_input=True)
    raise Invalid("give the password of the other server on standard input with --password-stdin")


async def _mailbox(address: str) -> Mailbox:
    """The mailbox of a person or a shared mailbox, by address, in an organisation that
    subscribes to mail."""
    from sqlalchemy import select

    from hexagone.core.db import org_session, system_session
    from hexagone.core.exceptions import Invalid
    from hexagone.identity.service import org_info, person_by_email
    from hexagone.mail.models import Mailbox
    from hexagone.mail.service import mailboxes
    from hexagone.mail.service.addresses import MODULE_NAME, normalise

    address = normalise(address)
    async with system_session() as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.address == address))).scalar_one_or_none()
        user = None if mailbox else await person_by_email(db, address)
        org_id = mailbox.org_id if mailbox else user.org_id if user else None
        org = await org_info(db, org_id) if org_id else None
    if org is None or (user is not None and user.is_guest):
        raise Invalid(f"no person or shared mailbox has the address {address}")
    if MODULE_NAME not in org.modules:
        raise Invalid(f"the organisation of {address} does not subscribe to mail")
    if mailbox is None:
        assert user is not None, "no mailbox: the organisation was found through the person"
        async with org_session(org.id, write=True) as db:
            mailbox = await mailboxes.user_mailbox(db, user)
            await db.commit()
    return mailbox


@app.command("import")
def import_mail(
    user: Annotated[str, typer.Option("--user", help="Address of the person or shared mailbox to import into.")],
    source: Annotated[
        str, typer.Option("--from", help="imaps://login@host[:port], imap://…, mbox:PATH or maildir:PATH.")
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the IMAP password from standard input.")
    ] = False,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Accept an IMAP server certificate that cannot be verified.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Stop after this many messages (run again to go on).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Copy every folder of an IMAP server, mbox or Maildir into a mailbox (run again to resume)."""
    password = _read_password(password_stdin) if source.strip().startswith(("imap://", "imaps://")) else None

    async def go() -> dict[str, Any]:
        from hexagone.mail.migration import open_source
        from hexagone.mail.migration.engine import run_import

        mailbox = await _mailbox(user)
        opened = await asyncio.to_thread(open_source, source, password, insecure=insecure)
        try:
            with _progress_bar(not as_json and sys.stderr.isatty(), f"{mailbox.address} ← {opened.label}") as bar:
                report = await run_import(
                    mailbox, opened, limit=limit, on_progress=bar, parse_processes=min(4, os.cpu_count() or 1)
                )
        finally:
            await asyncio.to_thread(opened.close)
        return report.as_dict()

    payload = _run(go)
    lines = [
        f"{payload['status']}: {payload['copied']} messages copied into {payload['mailbox']} from "
        f"{payload['source']}, {payload['skipped']} already there ({payload['done']} of {payload['total']})"
    ]
    lines += [
        f"  {f['source']} → {f['target']}: {f['copied']} copied, {f['skipped']} skipped" for f in payload["folders"]
    ]
    if payload["status"] == "partial":
        lines.append("run the same command again to go on")
    emit(as_json, payload, "\n".join(lines))


@app.command("export")
def export_mail(
    to: Annotated[Path, typer.Option("--to", help="A new (or empty) directory to write into.")],
    fmt: Annotated[Format, typer.Option("--format", help="mbox or maildir.")] = Format.MBOX,
    user: Annotated[str | None, typer.Option("--user", help="Address of the person or shared mailbox.")] = None,
    org: Annotated[
        str | None, typer.Option("--org", help="Every mailbox of the organisation with this domain.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a mailbox, or every mailbox of an organisation, as mbox files or Maildir folders."""

    async def go() -> dict[str, Any]:
        from hexagone.core.db import system_session
        from hexagone.core.exceptions import Invalid
        from hexagone.identity.service import org_for_domain
        from hexagone.mail.migration.export import export_mailbox, export_org

        if (user is None) == (org is None):
            raise Invalid("give either --user or --org")
        with _progress_bar(not as_json and sys.stderr.isatty(), f"export → {to}") as bar:
            if user is not None:
                report = await export_mailbox(await _mailbox(user), fmt, to, on_progress=bar)
                return {"format": fmt.value, "path": report.path, "mailboxes": [report.as_dict()]}
            async with system_session() as db:
                organisation = await org_for_domain(db, org or "")
            if organisation is None:
                raise Invalid(f"no organisation has the domain {org}")
            reports = await export_org(organisation.id, fmt, to, on_progress=bar)
            return {"format": fmt.value, "path": str(to.resolve()), "mailboxes": [r.as_dict() for r in reports]}

    payload = _run(go)
    lines = [
        f"{m['mailbox']}: {m['messages']} messages in {len(m['folders'])} folders → {m['path']}"
        for m in payload["mailboxes"]
    ]
    emit(as_json, payload, "\n".join(lines) or "no mailbox to export")


@app.command("reparse")
def reparse_mail(
    batch: Annotated[int, typer.Option("--batch", min=1, help="Messages per transaction.")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Read again the stored messages an older parser read (structure, envelope, addresses,
    dates, search texts), so that they answer as new mail does; run again to resume."""

    async def go() -> dict[str, Any]:
        from hexagone.mail.service.reparse import reparse

        with _progress_bar(not as_json and sys.stderr.isatty(), "reparse") as bar:
            return (await reparse(batch, on_progress=bar)).as_dict()

    payload = _run(go)
    human = f"{payload['reparsed']} messages read again"
    if payload["unreadable"]:
        human += f", {payload['unreadable']} whose bytes are missing left as they were"
    emit(as_json, payload, human)


# The module's part of the ``hexagone`` command (``Module.cli``): the ``mail`` group.
cli = typer.Typer()
cli.add_typer(app, name="mail")
