"""The rules page: mail rules as conditions and actions, no Sieve knowledge needed, kept
in the webmail's Sieve script (:mod:`hexagone.mail.service.sieve`), which the page also
shows for those who want to read it. Rules apply at delivery, to the caller's own
mailbox only; the page says when they do not run (another script is active, or the
script was edited by hand with a ManageSieve client)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.exceptions import Invalid, NotFound, ServiceError
from hexagone.core.forms import field
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import render
from hexagone.core.web import login_required
from hexagone.mail.service import mailboxes, sieve
from hexagone.mail.sieve import generate
from hexagone.mail.web import changes
from hexagone.mail.web.access import Caller, caller
from hexagone.mail.web.common import full_label, navigation

RULES_PATH = "/mail/rules"
CONDITION_ROWS = 3  # condition rows the form offers for a new rule
CHANGES = ("delete", "up", "reset", "activate")  # POST /mail/rules/<change>


async def _page(request: Request, c: Caller, *, error: ServiceError | None = None, edit: str | None = None) -> Response:
    """The page; ``edit`` (a rule's position) fills the form with that rule to change it."""
    mailbox = await c.own_mailbox()
    state = await sieve.webmail(c.db, mailbox)
    editing = None
    if edit is not None:
        index = _index(edit, len(state.rules or []), missing=NotFound)
        editing = (index, (state.rules or [])[index])
    rows = max(CONDITION_ROWS, len(editing[1].conditions) if editing else 0)
    context = {
        "mailbox": mailbox,
        "state": state,
        "editing": editing,
        "webmail_script": sieve.WEBMAIL,
        "folders": {f.name: full_label(f) for f in await mailboxes.folders(c.db, mailbox.id)},
        "condition_rows": range(1, rows + 1),
        "mailboxes": await navigation(c),
    }
    return render(request, "mail/rules.html", context, error)


@login_required
async def rules_page(request: Request) -> Response:
    async with caller(request, write=True) as c:
        response = await _page(request, c, edit=request.query_params.get("edit"))
        await c.db.commit()  # a first visit creates the mailbox
        return response


def _rule_from_form(form: FormData) -> generate.Rule:
    conditions = []
    for row in range(1, sieve.MAX_CONDITIONS + 1):
        value = field(form, f"value_{row}", sieve.MAX_VALUE).strip()
        if value:
            what, operator = field(form, f"field_{row}", 20), field(form, f"operator_{row}", 20)
            conditions.append(generate.Condition(what, operator, value))
    actions = []
    kind = field(form, "action", 20)
    if kind in ("fileinto", "copyinto"):
        actions.append(generate.Action(kind, field(form, "folder", 1000)))
    elif kind in ("redirect", "redirect_copy"):
        actions.append(generate.Action(kind, field(form, "address", 320).strip()))
    elif kind:
        actions.append(generate.Action(kind))
    actions += [generate.Action(flag) for flag in ("read", "flag") if field(form, flag, 2) == "1"]
    return generate.Rule(
        name=field(form, "name", 100).strip(),
        conditions=tuple(conditions),
        actions=tuple(actions),
        match_all=field(form, "match", 3) != "any",
        stop=field(form, "stop", 2) == "1",
    )


async def _change(c: Caller, form: FormData, change: str) -> str:
    """Every change to the rules: read them, change the list, write the script."""
    mailbox = await c.own_mailbox()
    state = await sieve.webmail(c.db, mailbox)
    if change == "activate":
        await sieve.activate(c.db, mailbox, sieve.WEBMAIL)
        return "rules_active"
    rules = [] if change == "reset" or state.rules is None else list(state.rules)
    if change == "add" and field(form, "index", 4):  # a rule changed in place
        rules[_index(field(form, "index", 4), len(rules))] = _rule_from_form(form)
    elif change == "add":
        rules.append(_rule_from_form(form))
    elif change in ("delete", "up"):
        index = _index(field(form, "index", 4), len(rules))
        moved = rules.pop(index)
        if change == "up":
            rules.insert(max(index - 1, 0), moved)
    await sieve.save_rules(c.db, mailbox, rules)
    return "saved"


def _index(value: str, count: int, missing: type[ServiceError] = Invalid) -> int:
    if not value.isdigit() or int(value) >= count:
        raise missing(_("This rule does not exist any more."))
    return int(value)


def _changing(change: str) -> Callable[[Request], Awaitable[Response]]:
    """The POST endpoint of one change (:func:`_change`)."""

    @login_required
    async def endpoint(request: Request) -> Response:
        return await changes.apply(request, RULES_PATH, lambda c, form: _change(c, form, change), _page)

    return endpoint


ROUTES = [
    Route("/rules", rules_page),
    Route("/rules", _changing("add"), methods=["POST"]),
    *(Route(f"/rules/{change}", _changing(change), methods=["POST"]) for change in CHANGES),
]
