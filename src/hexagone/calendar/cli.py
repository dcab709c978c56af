"""``hexagone calendar import``: calendars and contacts brought in from a file (``.ics``,
``.vcf``), from another CalDAV/CardDAV server (the migration path: every calendar and
address book at a URL, with the account's credentials), or from an organisation's
export (``.zip``, restoring the calendar part into the organisation of ``--user``).

Progress goes to standard error, one line per collection; ``--json`` prints one JSON
object at the end. Running the same import again replaces what it stored before (by
UID) and adds nothing twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hexagone.core.cli import JsonFlag, emit, run

if TYPE_CHECKING:
    from hexagone.calendar.importing import Report

app = typer.Typer(help="Calendar and contacts: import from files or another server.", no_args_is_help=True)


def _progress(quiet: bool) -> Any:
    def show(collection: str, done: int, total: int) -> None:
        if not quiet:
            typer.echo(f"{collection}: {done}/{total}", err=True)

    return show


@app.command("import")
def import_(
    source: Annotated[
        str, typer.Argument(help="An .ics or .vcf file, an organisation export (.zip), or an http(s) URL.")
    ],
    user: Annotated[str, typer.Option("--user", help="The e-mail of the user who receives what is imported.")],
    calendar: Annotated[
        str | None, typer.Option("--calendar", help="Slug of the calendar or address book to fill (a file only).")
    ] = None,
    username: Annotated[
        str, typer.Option("--username", envvar="HEXAGONE_IMPORT_USERNAME", help="Account on the other server.")
    ] = "",
    password: Annotated[
        str,
        typer.Option("--password", envvar="HEXAGONE_IMPORT_PASSWORD", help="Its password (better in the environment)."),
    ] = "",
    as_json: JsonFlag = False,
) -> None:
    """Import calendars and contacts for a user."""

    path = Path(source)
    is_file = not source.startswith(("http://", "https://")) and not source.lower().endswith(".zip")
    data = path.read_bytes() if is_file and path.is_file() else None

    async def work() -> dict[str, Any]:
        from hexagone.calendar import importing, org_export
        from hexagone.calendar.models import CollectionKind
        from hexagone.calendar.service.collections import DEFAULT_ADDRESS_BOOK, DEFAULT_CALENDAR
        from hexagone.core.db import org_session, system_session
        from hexagone.core.exceptions import Invalid, NotFound
        from hexagone.identity.service import person_by_email

        async with system_session() as db:
            owner = await person_by_email(db, user)
        if owner is None or not owner.is_active:
            raise NotFound(f"no active user {user}")
        progress = _progress(as_json)
        report = importing.Report()
        skipped: list[str] = []
        if source.startswith(("http://", "https://")):
            for remote in await importing.fetch(source, username, password, progress):
                async with org_session(owner.org_id, write=True) as db:
                    reach = await importing.target(db, owner.org_id, owner.id, remote.kind, remote.slug, remote.name)
                    report.collections[remote.slug] = await importing.store_all(db, reach, remote.texts, progress)
                    await db.commit()
        elif source.lower().endswith(".zip"):
            report, skipped = await org_export.restore(path, owner.org_id, progress)
        else:
            if data is None:
                raise Invalid(f"no such file: {source}")
            kind, texts = importing.texts_of_file(data, path.name)
            slug = calendar or (DEFAULT_CALENDAR if kind == CollectionKind.CALENDAR else DEFAULT_ADDRESS_BOOK)
            async with org_session(owner.org_id, write=True) as db:
                reach = await importing.target(db, owner.org_id, owner.id, kind, slug)
                report.collections[slug] = await importing.store_all(db, reach, texts, progress)
                await db.commit()
        return _summary(report, skipped)

    result = run(work)
    emit(as_json, result, f"{result['created']} created, {result['updated']} updated")


def _summary(report: Report, skipped: list[str]) -> dict[str, Any]:
    return {
        "created": report.created,
        "updated": report.updated,
        "collections": {k: {"created": c, "updated": u} for k, (c, u) in report.collections.items()},
        "skipped": skipped,
    }


cli = typer.Typer()
cli.add_typer(app, name="calendar")
