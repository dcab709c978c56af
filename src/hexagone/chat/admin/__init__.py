"""The chat's tab of the admin console (``/chat/admin``, for the organisation's
administrators): how long messages are kept, and whether edits and deletions keep the
earlier text for the audit. What it does is the chat service's
(:func:`~hexagone.chat.service.change_rules`), which checks the admin rule again.

``ROUTES`` are mounted under ``/chat``. The notice the page shows after a change is
registered here."""

from starlette.routing import BaseRoute

from hexagone.chat.admin import rules
from hexagone.core import pages
from hexagone.core.i18n import N_

ROUTES: list[BaseRoute] = [*rules.ROUTES]

pages.notices({"chat_rules_saved": N_("The chat rules are saved.")})
