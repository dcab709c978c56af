"""The chat's JSON API, mounted at ``/api/v1/chat`` (see docs/chat.md): conversations,
messages, threads, reactions, pins, files, read markers, export and the organisation's
settings, on the same service and policy as the pages and the WebSocket; the WebSocket
itself at ``/api/v1/chat/live`` for programs holding a token."""

from fastapi import APIRouter

from hexagone.chat.api import conversations, files, messages, settings

ROUTERS: list[APIRouter] = [conversations.router, messages.router, files.router, settings.router]
