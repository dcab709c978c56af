"""The chat's pages (``/chat/``); the WebSocket they open is served by the core's live
server (:mod:`hexagone.chat.live`).

:mod:`.conversations`: the list of conversations, one conversation with its messages
and a thread beside it, public channels, a new channel, a direct conversation, members
and settings; :mod:`.messages`: what is done to one message without JavaScript;
:mod:`.files`: files sent from the composer, read and previewed. The
script (``frontend/chat/chat.js``) makes the same pages live."""

from starlette.routing import BaseRoute, Route

from hexagone.chat.web import conversations as c
from hexagone.chat.web import files as f
from hexagone.chat.web import messages as m
from hexagone.core import pages
from hexagone.core.web import Endpoint, login_required


def _form(action: pages.Action, page: pages.Page) -> Endpoint:
    return pages.form_endpoint(login_required, action, page)


CHANNEL = "/{channel_id:uuid}"
MESSAGE = "/messages/{message_id:uuid}"
FILE = "/files/{file_id:uuid}"

# Paths inside the module: the app mounts them under /chat/.
ROUTES: list[BaseRoute] = [
    Route("/", c.home),
    Route("/browse", c.browse),
    Route("/new", pages.page_or_submit(login_required, c.new_channel, c.new_channel_page), methods=["GET", "POST"]),
    Route("/direct", pages.page_or_submit(login_required, c.direct, c.direct_page), methods=["GET", "POST"]),
    Route("/people", c.people),
    Route(CHANNEL, c.channel),
    Route(f"{CHANNEL}/older", c.older),
    Route(f"{CHANNEL}/messages", f.post_message, methods=["POST"]),
    Route(f"{CHANNEL}/join", _form(c.join, c.browse_page), methods=["POST"]),
    Route(f"{CHANNEL}/leave", _form(c.leave, c.members_page), methods=["POST"]),
    Route(f"{CHANNEL}/mute", _form(c.mute, c.members_page), methods=["POST"]),
    Route(f"{CHANNEL}/members", c.members),
    Route(f"{CHANNEL}/members", _form(c.add_members, c.members_page), methods=["POST"]),
    Route(f"{CHANNEL}/members/remove", _form(c.remove_member, c.members_page), methods=["POST"]),
    Route(f"{CHANNEL}/settings", _form(c.settings, c.members_page), methods=["POST"]),
    Route(f"{CHANNEL}/archive", _form(c.archive, c.members_page), methods=["POST"]),
    Route(FILE, f.download),
    Route(f"{FILE}/preview", f.preview),
    Route(f"{FILE}/drive", f.save_to_drive, methods=["POST"]),
    Route(MESSAGE, m.show),
    Route(MESSAGE, _form(m.edit, m.message_page), methods=["POST"]),
    Route(f"{MESSAGE}/delete", _form(m.delete, m.message_page), methods=["POST"]),
    Route(f"{MESSAGE}/react", _form(m.react, m.message_page), methods=["POST"]),
    Route(f"{MESSAGE}/pin", _form(m.pin, m.message_page), methods=["POST"]),
]
