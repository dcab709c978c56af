"""The rules page: rules made of conditions and actions, written as the webmail's Sieve
script (shown on the page), for the caller's own mailbox only; every kind of caller."""

from __future__ import annotations

import httpx
import pytest

from hexagone.core.db import org_session
from hexagone.identity.models import User
from hexagone.mail.service import mailboxes, sieve
from hexagone.mail.sieve import generate
from hexagone.mail.web import rules as rules_web
from tests.factories import TestOrg, TestUser, login, make_org, make_user
from tests.mail.api.helpers import token_for
from tests.mail.factories import make_mail_org, make_mail_user
from tests.mail.web.helpers import post, signed_in
from tests.oidc.factories_oidc import bearer

INVOICES = {
    "name": "Factures",
    "match": "all",
    "field_1": "subject",
    "operator_1": "contains",
    "value_1": "facture",
    "field_2": "size",
    "operator_2": "under",
    "value_2": "500",
    "action": "fileinto",
    "folder": "Archive",
    "read": "1",
    "stop": "1",
}


async def state_of(user: TestUser) -> sieve.Webmail:
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        state = await sieve.webmail(db, await mailboxes.user_mailbox(db, row))
        await db.commit()
        return state


async def set_script(user: TestUser, name: str, content: str, *, activate: bool = True) -> None:
    """A script put by a ManageSieve client."""
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        mailbox = await mailboxes.user_mailbox(db, row)
        await sieve.put(db, mailbox, name, content)
        if activate:
            await sieve.activate(db, mailbox, name)
        await db.commit()


async def test_rules_page_without_rules_shows_the_form_and_an_empty_script(client: httpx.AsyncClient) -> None:
    await signed_in(client, await make_mail_user())

    response = await client.get("/mail/rules")

    assert response.status_code == 200 and response.text.count("<h1") == 1
    assert 'action="/mail/rules"' in response.text and '<option value="Archive"' in response.text
    assert "# Written by the webmail" in response.text


async def test_rule_added_is_written_as_the_active_sieve_script(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)

    response = await post(client, "/mail/rules", INVOICES)

    assert response.status_code == 303 and response.headers["location"] == "/mail/rules?done=saved"
    state = await state_of(user)
    assert state.active == sieve.WEBMAIL and state.rules is not None
    [rule] = state.rules
    assert rule.name == "Factures" and [c.field for c in rule.conditions] == ["subject", "size"]
    assert 'if allof (header :contains "subject" "facture", size :under 500K) {' in state.script
    assert 'addflag "\\\\Seen";\n    fileinto "Archive";\n    stop;' in state.script
    page = await client.get("/mail/rules")
    assert "Factures" in page.text and "fileinto &#34;Archive&#34;" in page.text


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"name": ""}, "no name"),
        ({"value_1": "", "value_2": ""}, "no condition"),
        ({"field_1": "x-header"}, "unknown field"),
        ({"operator_1": "regex"}, "unknown operator"),
        ({"value_2": "big"}, "size not a number"),
        ({"action": "", "read": "", "stop": ""}, "no action"),
        ({"folder": "Not mine"}, "a folder the mailbox does not have"),
        ({"action": "redirect", "address": "not an address"}, "bad address"),
        ({"action": "launch"}, "unknown action"),
    ],
)
async def test_rule_with_bad_fields_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, change: dict[str, str], why: str
) -> None:
    user = await make_mail_user()
    await signed_in(client, user)

    response = await post(client, "/mail/rules", {**INVOICES, **change})

    assert response.status_code == 400 and "alert-error" in response.text, why
    assert (await state_of(user)).rules == []


async def test_rules_move_up_and_delete_keep_the_order(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    for name in ("A", "B", "C"):
        await post(client, "/mail/rules", {**INVOICES, "name": name})

    await post(client, "/mail/rules/up", {"index": "2"})
    await post(client, "/mail/rules/delete", {"index": "0"})

    rules = (await state_of(user)).rules
    assert rules is not None and [r.name for r in rules] == ["C", "B"]
    assert (await post(client, "/mail/rules/delete", {"index": "7"})).status_code == 400


async def test_vacation_saved_in_the_settings_keeps_the_rules(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    await post(client, "/mail/rules", INVOICES)

    await post(client, "/mail/settings/vacation", {"vacation_enabled": "1", "vacation_body": "Absent."})
    state = await state_of(user)
    assert state.rules is not None and [r.name for r in state.rules] == ["Factures"]
    assert state.script.index("vacation :days 7") < state.script.index("# rule:")

    await post(client, "/mail/settings/vacation", {"vacation_body": "Absent."})
    state = await state_of(user)
    assert "vacation" not in state.script and state.rules is not None and len(state.rules) == 1


async def test_rules_page_of_a_script_edited_by_hand_says_so_and_can_start_again(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    await set_script(user, sieve.WEBMAIL, 'require "fileinto"; fileinto "Archive";')

    page = await client.get("/mail/rules")
    settings = await client.get("/mail/settings")
    refused = await post(client, "/mail/settings/vacation", {"vacation_enabled": "1", "vacation_body": "Absent."})

    assert 'action="/mail/rules/reset"' in page.text and 'name="value_1"' not in page.text
    assert 'href="/mail/rules"' in settings.text and "alert-info" in settings.text
    assert refused.status_code == 303 and (await state_of(user)).script == 'require "fileinto"; fileinto "Archive";'
    await post(client, "/mail/rules/reset")
    assert (await state_of(user)).rules == []


async def test_rules_page_when_another_script_is_active_offers_to_apply_its_own(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    await set_script(user, "thunderbird", "keep;")
    await post(client, "/mail/rules", INVOICES)
    assert (await state_of(user)).active == "thunderbird", "saving rules does not take over another script"

    page = await client.get("/mail/rules")
    response = await post(client, "/mail/rules/activate")

    assert "thunderbird" in page.text and 'action="/mail/rules/activate"' in page.text
    assert response.headers["location"] == "/mail/rules?done=rules_active"
    assert (await state_of(user)).active == sieve.WEBMAIL


# --- every kind of caller ---------------------------------------------------------------

CHANGES = [*((f"/mail/rules/{change}", {"index": "0"}) for change in rules_web.CHANGES), ("/mail/rules", INVOICES)]


async def victim_with_a_rule(org: TestOrg) -> TestUser:
    victim = await make_mail_user(org)
    rule = generate.Rule("Factures", (generate.Condition("subject", "contains", "x"),), (generate.Action("flag"),))
    async with org_session(org.id) as db:
        row = await db.get(User, victim.id)
        assert row is not None
        await sieve.save_rules(db, await mailboxes.user_mailbox(db, row), [rule])
        await db.commit()
    return victim


@pytest.mark.parametrize("who", ["colleague", "admin of the organisation", "other organisation"])
async def test_rules_of_another_user_are_out_of_reach(client: httpx.AsyncClient, who: str) -> None:
    org = await make_mail_org()
    victim = await victim_with_a_rule(org)
    if who == "other organisation":
        caller = await make_mail_user()
    else:
        caller = await make_user(org, role="admin" if who.startswith("admin") else "user")
    await signed_in(client, caller)

    page = await client.get("/mail/rules")
    answers = [(await post(client, path, data)).status_code for path, data in CHANGES]

    assert page.status_code == 200 and "Factures" not in page.text
    assert answers == [400, 400, 303, 303, 303], "delete/up find no rule of the caller's; the rest change its own"
    state = await state_of(victim)
    assert state.rules is not None and [r.name for r in state.rules] == ["Factures"]
    assert state.active == sieve.WEBMAIL


async def test_rules_for_an_anonymous_visitor_are_not_found(client: httpx.AsyncClient) -> None:
    answers = [(await client.get("/mail/rules")).status_code]
    answers += [(await client.post(path, data=data)).status_code for path, data in CHANGES]
    assert answers == [404] + [403] * 5, "without a session: no page (mail is some organisations'), no CSRF token"


async def test_rules_with_an_api_token_are_not_reachable(client: httpx.AsyncClient, base_url: str) -> None:
    user = await make_mail_user()
    headers = bearer(await token_for(base_url, user))

    response = await client.get("/mail/rules", headers=headers)

    assert response.status_code == 401, "pages take a session, not a token"
    assert (await client.post("/mail/rules", data=INVOICES, headers=headers)).status_code == 401
    assert (await state_of(user)).rules == []


async def test_rules_with_the_second_factor_pending_wait_for_it(client: httpx.AsyncClient) -> None:
    user = await make_mail_user(mfa=True)
    await login(client, user, second_factor=False)

    response = await client.get("/mail/rules")

    assert response.status_code == 303 and response.headers["location"] == "/login/mfa"


async def test_rules_for_a_guest_or_an_organisation_without_mail_are_refused(client: httpx.AsyncClient) -> None:
    guest = await make_user(await make_mail_org(), role="guest")
    await login(client, guest)
    assert (await client.get("/mail/rules")).status_code == 403
    client.cookies.clear()
    await login(client, await make_user(await make_org()))
    assert (await client.get("/mail/rules")).status_code == 404


async def test_rule_changed_in_place_keeps_its_position(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    for name in ("A", "B"):
        await post(client, "/mail/rules", {**INVOICES, "name": name})

    form = await client.get("/mail/rules?edit=0")
    response = await post(client, "/mail/rules", {**INVOICES, "index": "0", "name": "A2", "action": "discard"})

    assert 'value="A"' in form.text and 'name="index" value="0"' in form.text
    assert '<option value="fileinto" selected>' in form.text and 'name="read" value="1" checked' in form.text
    assert response.status_code == 303
    rules = (await state_of(user)).rules
    assert rules is not None and [r.name for r in rules] == ["A2", "B"]
    assert [a.kind for a in rules[0].actions] == ["discard", "read"]
    assert (await client.get("/mail/rules?edit=5")).status_code == 404
