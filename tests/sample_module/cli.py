"""The sample module's commands: ``hexagone sample …``."""

from __future__ import annotations

import typer

from hexagone.core.cli import JsonFlag, emit, registry, run
from hexagone.core.db import org_session, system_session
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.service import org_for_domain
from tests.sample_module import notes

cli = typer.Typer()
sample_app = typer.Typer(help="The sample module.", no_args_is_help=True)
cli.add_typer(sample_app, name="sample")


@sample_app.command("modules")
def installed_modules(ctx: typer.Context) -> None:
    """Print the installed modules: proves a module's command reaches the registry."""
    typer.echo(" ".join(module.name for module in registry(ctx)))


@sample_app.command("count")
def count(domain: str, as_json: JsonFlag = False) -> None:
    """Print how many notes the organisation of DOMAIN holds."""

    async def counted() -> int:
        async with system_session() as db:
            org = await org_for_domain(db, domain)
        if org is None:
            raise NotFound(_("No organisation has the domain %(domain)s.", domain=domain))
        async with org_session(org.id) as db:
            return await notes.count_notes(db)

    number = run(counted)
    emit(as_json, {"domain": domain, "notes": number}, f"{number} notes")
