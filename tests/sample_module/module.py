from __future__ import annotations

from pathlib import Path

import typer
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hexagone.core.api import CurrentPrincipal
from hexagone.core.cli import registry
from hexagone.core.jobs import Claimed, JobSpec
from hexagone.core.modules import Module, NavItem

router = APIRouter()


@router.get("/ping")
async def ping(principal: CurrentPrincipal) -> dict[str, str]:
    return {"module": "sample", "user": principal.email}


async def page(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("sample module page")


cli = typer.Typer()
sample_app = typer.Typer(help="The sample module.", no_args_is_help=True)
cli.add_typer(sample_app, name="sample")


@sample_app.command("modules")
def installed_modules(ctx: typer.Context) -> None:
    """Print the installed modules: proves a module's command reaches the registry."""
    typer.echo(" ".join(module.name for module in registry(ctx)))


async def tidy(_job: Claimed) -> None:
    """A job the sample module declares, to show the worker learns it from the descriptor."""


MODULE = Module(
    name="sample",
    label="Sample",
    package_dir=Path(__file__).parent,
    routes=[Route("/", page)],
    api_routers=[router],
    nav=[NavItem(path="/sample/", label="Sample")],
    cli=cli,
    jobs=[JobSpec("sample.tidy", tidy)],
)
