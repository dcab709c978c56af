"""The unread count in the shell's navigation and the "new mail" notification."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from hexagone.core.db import system_session
from hexagone.core.models import Notification
from tests.factories import shell_badge
from tests.mail.factories import deliver, make_mail_user
from tests.mail.web.helpers import signed_in


async def mail_notifications(user_id) -> list[Notification]:  # type: ignore[no-untyped-def]
    async with system_session() as db:
        return list(
            (
                await db.execute(
                    select(Notification).where(Notification.user_id == user_id, Notification.module == "mail")
                )
            ).scalars()
        )


async def test_navigation_entry_loads_the_unread_count_of_the_inbox(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await deliver(user)
    await deliver(user)
    await deliver(user, flags=("\\Seen",))
    await deliver(user, folder="Archive")
    await signed_in(client, user)

    home = (await client.get("/")).text
    badges = await client.get("/shell/badges")

    assert 'hx-get="/shell/badges" hx-trigger="load, every 60s"' in home and 'id="badge-mail"' in home
    assert badges.status_code == 200 and shell_badge(badges, "badge-mail") == "2"
    assert '2<span class="visually-hidden"> messages non lus</span>' in badges.text  # French by default
    assert badges.headers["cache-control"] == "private, no-store"


async def test_empty_inbox_shows_no_count(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)

    assert shell_badge(await client.get("/shell/badges"), "badge-mail") == ""


async def test_new_mail_keeps_one_notification_up_to_date_until_it_is_read(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await deliver(user)
    await signed_in(client, user)

    await client.get("/shell/badges")
    await deliver(user)
    await client.get("/shell/badges")
    [note] = await mail_notifications(user.id)
    assert note.link.startswith("/mail/folders/") and note.read_at is None and note.title.startswith("2 ")

    token = (await client.get("/notifications")).text.split('data-csrf="')[1].split('"')[0]
    await client.post("/notifications", data={"csrf_token": token})
    await client.get("/shell/badges")
    assert len(await mail_notifications(user.id)) == 1, "nothing new since the last one"
    await deliver(user)
    await client.get("/shell/badges")
    assert len(await mail_notifications(user.id)) == 2


async def test_new_mail_notification_is_counted_in_the_same_badges(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await deliver(user)
    await signed_in(client, user)

    badges = await client.get("/shell/badges")

    assert shell_badge(badges, "badge-mail") == "1" and shell_badge(badges, "badge-notifications") == "1"
