"""A module for the event tests, loaded by the servers they start: a page commits a
domain event, and the module's handler for it leaves a trace in the data folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hexagone.core.db import system_session
from hexagone.core.modules import Module
from hexagone.core.pubsub import events

CHANNELS = "test.probe.>"


def trace(marker: str) -> Path:
    return Path(os.environ["HEXAGONE_DATA_DIR"]) / f"probe-{marker}.log"


async def emit(request: Request) -> PlainTextResponse:
    marker = request.query_params["marker"]
    async with system_session() as db:
        events.on_commit(db, f"test.probe.{marker}", {"marker": marker})
        await db.commit()
    return PlainTextResponse("committed")


async def record(payload: dict[str, Any]) -> None:
    with trace(payload["marker"]).open("a") as out:
        out.write(f"{os.getpid()}\n")


MODULE = Module(
    name="eventprobe",
    label="Event probe",
    package_dir=Path(__file__).parent,
    subscribable=False,
    routes=[Route("/eventprobe/emit", emit)],
    event_handlers={CHANNELS: [record]},
)
