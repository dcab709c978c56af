"""``hexagone drive …``: a user's or a space's drive exported as a zip (files as they are,
every version, the metadata in JSON: the format of the organisation export's drive part),
a folder tree imported from disk into a drive, and the retention applied at once.

``--json`` prints one JSON object; a refusal (no such user, a full drive) is a message
on standard error and exit code 2.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hexagone.core.cli import JsonFlag, emit, run

if TYPE_CHECKING:
    from hexagone.core.auth import Principal

app = typer.Typer(help="Drives: export, import a folder tree, apply retention.", no_args_is_help=True)

UserOption = Annotated[str, typer.Option("--user", help="The e-mail of the user whose drive (or space) it is.")]
SpaceOption = Annotated[
    str | None,
    typer.Option("--space", help="A space's id: its drive instead of the user's own (they must be a member)."),
]


async def _principal(email: str) -> Principal:
    from hexagone.identity.service import principal_for_email

    return await principal_for_email(email)


async def _drive_id(who: Principal, space: str | None) -> uuid.UUID:
    from hexagone.core.db import org_session
    from hexagone.core.exceptions import Invalid
    from hexagone.drive import service

    async with org_session(who.org_id, write=True) as db:
        if space is None:
            found = await service.drive_of_user(db, who)
        else:
            try:
                space_id = uuid.UUID(space)
            except ValueError:
                raise Invalid(f"not a space id: {space}") from None
            found = await service.drive_of_space(db, who, space_id)
        await db.commit()
    return found.id


@app.command("export")
def export(
    destination: Annotated[Path, typer.Argument(help="A new .zip file.")],
    user: UserOption,
    space: SpaceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Export a user's drive, or a space's, with every version and the metadata."""

    async def work() -> dict[str, Any]:
        from hexagone.drive import transfer

        who = await _principal(user)
        return await transfer.export_one(who, await _drive_id(who, space), destination)

    result = run(work)
    emit(as_json, result, f"{result['files']} files, {result['versions']} versions written to {destination}")


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="A folder on this machine: its tree is copied into the drive.")],
    user: UserOption,
    space: SpaceOption = None,
    into: Annotated[str, typer.Option("--into", help="A folder path in the drive (made if missing).")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Import a folder tree into a user's drive, or a space's, as that user."""

    def show(path: str) -> None:
        if not as_json:
            typer.echo(path, err=True)

    async def work() -> dict[str, Any]:
        from hexagone.drive import importing

        who = await _principal(user)
        report = await importing.import_tree(who, source, await _drive_id(who, space), into, show)
        return {
            "folders": report.folders,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.skipped,
        }

    result = run(work)
    lines = [f"{result['created']} created, {result['updated']} updated, {result['unchanged']} unchanged"]
    lines += [f"skipped {line}" for line in result["skipped"]]
    emit(as_json, result, "\n".join(lines))


@app.command("sweep")
def sweep(
    domain: Annotated[str, typer.Argument(help="The organisation's domain.")],
    as_json: JsonFlag = False,
) -> None:
    """Apply the organisation's version retention and trash period now."""

    async def work() -> dict[str, Any]:
        from hexagone.core.db import system_session
        from hexagone.core.exceptions import NotFound
        from hexagone.drive.service import retention
        from hexagone.identity.service import org_for_domain

        async with system_session() as db:
            org = await org_for_domain(db, domain)
        if org is None:
            raise NotFound(f"no organisation for {domain}")
        return await retention.sweep(org.id)

    result = run(work)
    emit(as_json, result, f"{result['versions_pruned']} versions pruned, {result['purged']} purged from the trash")


cli = typer.Typer()
cli.add_typer(app, name="drive")
