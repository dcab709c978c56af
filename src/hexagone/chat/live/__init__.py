"""The chat's live side: one process's WebSocket connections, the hub that hands them
the bus's events, and presence. Served by the core's live server (:mod:`hexagone.core.live`)
at these paths."""

PAGE_PATH = "/chat/live"  # the pages, with the session cookie
API_PATH = "/api/v1/chat/live"  # programs, with a bearer token
