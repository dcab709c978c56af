"""The chat's pages and the WebSocket they open (``/chat/live``)."""

from starlette.routing import BaseRoute, WebSocketRoute

from hexagone.chat.live.endpoint import live

ROUTES: list[BaseRoute] = [WebSocketRoute("/live", live)]
