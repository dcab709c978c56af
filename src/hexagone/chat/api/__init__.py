"""The chat's JSON API, mounted at ``/api/v1/chat`` (see docs/chat.md): conversations,
messages, threads, reactions, pins, files, read markers, export and the organisation's
settings, on the same service and policy as the pages and the WebSocket (for programs
holding a token at ``/api/v1/chat/live`` on the live server: :mod:`hexagone.chat.live`)."""

from fastapi import APIRouter

from hexagone.chat.api import conversations, files, messages, settings

ROUTERS: list[APIRouter] = [conversations.router, messages.router, files.router, settings.router]
