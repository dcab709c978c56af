"""Admin console, audit log: filters, pages, and CSV/JSON exports of the filtered entries."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import httpx

from hexagone.core import audit
from hexagone.core.db import org_session, utcnow
from tests.admin.factories_admin import audited, post, signed_in
from tests.factories import TestOrg, make_org, make_user, unique


async def _entries(org: TestOrg, count: int, action: str, actor: str = "robot@audit.test", days_ago: int = 0) -> None:
    async with org_session(org.id) as db:
        for n in range(count):
            entry = audit.record(
                db,
                action,
                org_id=org.id,
                actor_label=actor,
                target_type="thing",
                target_label=f"thing-{n}",
                details={"n": n},
            )
            entry.created_at = utcnow() - timedelta(days=days_ago, seconds=n)
        await db.commit()


async def test_audit_page_filters_by_action_prefix_and_actor(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    await _entries(org, 2, "space.created", actor="someone@audit.test")
    await _entries(org, 1, "group.created")
    page = (await client.get("/admin/audit", params={"action": "space."})).text
    assert page.count("<code>space.created</code>") == 2 and "group.created" not in page
    by_actor = (await client.get("/admin/audit", params={"actor": "someone@"})).text
    assert "space.created" in by_actor and "group.created" not in by_actor
    assert "auth.login" in (await client.get("/admin/audit")).text  # the admin's own sign-in


async def test_audit_page_filters_by_dates_included(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    await _entries(org, 1, "old.thing", days_ago=40)
    await _entries(org, 1, "recent.thing", days_ago=0)
    old_day = (utcnow() - timedelta(days=40)).date().isoformat()
    only_old = (await client.get("/admin/audit", params={"since": old_day, "until": old_day})).text
    assert "old.thing" in only_old and "recent.thing" not in only_old
    recent = (await client.get("/admin/audit", params={"since": utcnow().date().isoformat()})).text
    assert "recent.thing" in recent and "old.thing" not in recent


async def test_audit_page_is_paginated(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    await _entries(org, 60, "bulk.entry")
    first = (await client.get("/admin/audit", params={"action": "bulk."})).text
    assert first.count("<code>bulk.entry</code>") == 50 and 'rel="next"' in first and 'rel="prev"' not in first
    second = (await client.get("/admin/audit", params={"action": "bulk.", "page": "2"})).text
    assert second.count("<code>bulk.entry</code>") == 10 and 'rel="prev"' in second and 'rel="next"' not in second
    assert "action=bulk." in second  # the filters follow the pages


async def test_bad_filters_are_refused_with_a_message(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    for params in (
        {"since": "yesterday"},
        {"since": "2026-02-30"},
        {"until": "9999-12-31"},
        {"since": "2026-05-02", "until": "2026-05-01"},
        {"page": "0"},
        {"page": "x"},
        {"actor": "a" * 321},
    ):
        response = await client.get("/admin/audit", params=params)
        assert response.status_code == 400, params
        assert 'role="alert"' in response.text
    assert (await client.get("/admin/audit.csv", params={"since": "nope"})).status_code == 400
    assert (await client.get("/admin/audit.xml")).status_code == 400


async def test_csv_export_holds_exactly_the_filtered_entries_and_defuses_formulas(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    await _entries(org, 3, "export.me", actor="=HYPERLINK(evil)")
    await _entries(org, 2, "leave.me.out")
    response = await client.get("/admin/audit.csv", params={"action": "export."})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 3
    assert {row["action"] for row in rows} == {"export.me"}
    assert all(row["actor"] == "'=HYPERLINK(evil)" for row in rows)
    assert json.loads(rows[0]["details"]) == {"n": 0}
    assert list(rows[0]) == ["created_at", "actor", "action", "target_type", "target_id", "target", "ip", "details"]
    assert await audited("audit.exported", "")


async def test_json_export_holds_the_filtered_entries_newest_first(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    await _entries(org, 3, "json.me")
    response = await client.get("/admin/audit.json", params={"action": "json."})
    assert response.headers["content-type"].startswith("application/json")
    entries = response.json()
    assert [e["target"] for e in entries] == ["thing-0", "thing-1", "thing-2"]
    assert entries[0]["details"] == {"n": 0} and entries[0]["action"] == "json.me"


async def test_audit_never_shows_or_exports_another_organisations_entries(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    other = await make_org()
    secret = unique("secret.")
    await _entries(other, 1, secret)
    await make_user(other)
    assert secret not in (await client.get("/admin/audit")).text
    assert secret not in (await client.get("/admin/audit.csv")).text
    assert secret not in (await client.get("/admin/audit.json")).text


async def test_admin_actions_are_audited(client: httpx.AsyncClient) -> None:
    _org, _admin = await signed_in(client)
    name = unique("Audited ")
    await post(client, "/admin/groups", {"name": name})
    page = (await client.get("/admin/audit", params={"action": "group."})).text
    assert "group.created" in page and name in page
