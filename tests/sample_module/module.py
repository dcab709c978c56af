from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hexagone.core.api import CurrentPrincipal
from hexagone.core.modules import Module, NavItem

router = APIRouter()


@router.get("/ping")
async def ping(principal: CurrentPrincipal) -> dict[str, str]:
    return {"module": "sample", "user": principal.email}


async def page(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("sample module page")


MODULE = Module(
    name="sample",
    label="Sample",
    package_dir=Path(__file__).parent,
    routes=[Route("/", page)],
    api_routers=[router],
    nav=[NavItem(path="/sample/", label="Sample")],
)
