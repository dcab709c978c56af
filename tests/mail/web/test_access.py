"""Who may reach what: every webmail route answers 404 for a mailbox, folder, message,
attachment or draft of another user (same organisation without a grant, or another
organisation), sends anonymous visitors to sign in, stays invisible to organisations that
do not subscribe to mail, and refuses a form without its CSRF token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from hexagone.core.db import org_session
from hexagone.identity.models import User
from hexagone.mail.service import auth
from tests.factories import login, make_org, make_user
from tests.mail.factories import deliver, make_mail_org, make_mail_user, messages_in
from tests.mail.web.helpers import folder_id, mailbox_id, post, signed_in


@dataclass
class Victim:
    email: str
    message: str
    draft: str
    inbox: str
    trash: str
    mailbox: str
    app_password: str


async def make_victim(org=None) -> tuple[Victim, object]:  # type: ignore[no-untyped-def]
    user = await make_mail_user(org)
    message = await deliver(user, attachments=(("secret.txt", b"secret", "text/plain"),))
    draft = await deliver(user, folder="Drafts", flags=("\\Draft",))
    async with org_session(user.org_id) as db:
        row, _secret = await auth.create_app_password(db, await db.get(User, user.id), "Phone")
        await db.commit()
    victim = Victim(
        user.email,
        str(message.id),
        str(draft.id),
        str(await folder_id(user)),
        str(await folder_id(user, "Trash")),
        str(await mailbox_id(user)),
        str(row.id),
    )
    return victim, user


def reads(v: Victim) -> list[str]:
    m = v.message
    return [
        f"/mail/messages/{m}",
        f"/mail/messages/{m}/frame",
        f"/mail/messages/{m}/parts/1",
        f"/mail/messages/{m}/cid/anything",
        f"/mail/messages/{m}/source",
        f"/mail/messages/{m}/reply",
        f"/mail/messages/{m}/reply-all",
        f"/mail/messages/{m}/forward",
        f"/mail/folders/{v.inbox}",
        f"/mail/folders/{v.inbox}?q=secret",
        f"/mail/mailboxes/{v.mailbox}/folders",
        f"/mail/compose?draft={v.draft}",
    ]


def writes(v: Victim, own_mailbox: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (f"/mail/mailboxes/{v.mailbox}/actions", {"message": v.message, "action": "delete"}),
        (f"/mail/mailboxes/{own_mailbox}/actions", {"message": v.message, "action": "read"}),
        (f"/mail/folders/{v.trash}/empty", {}),
        (f"/mail/folders/{v.inbox}/rename", {"name": "Mine"}),
        (f"/mail/folders/{v.trash}/delete", {}),
        (f"/mail/mailboxes/{v.mailbox}/folders", {"name": "Planted"}),
        (f"/mail/messages/{v.message}/images", {}),
        ("/mail/compose", {"action": "save", "draft": v.draft, "subject": "hijack"}),
        ("/mail/compose", {"action": "save", "forward_of": v.message, "subject": "leak", "keep": "0"}),
        ("/mail/compose/discard", {"draft": v.draft}),
        (f"/mail/settings/app-passwords/{v.app_password}/revoke", {}),
    ]


@pytest.mark.parametrize("where", ["colleague", "other organisation"])
async def test_another_users_mail_answers_404_everywhere(client: httpx.AsyncClient, where: str) -> None:
    org = await make_mail_org()
    victim, victim_user = await make_victim(org if where == "colleague" else None)
    attacker = await make_mail_user(org)
    await signed_in(client, attacker)
    own = str(await mailbox_id(attacker))

    answers = {path: (await client.get(path)).status_code for path in reads(victim)}
    answers |= {f"POST {path}": (await post(client, path, data)).status_code for path, data in writes(victim, own)}

    assert {path: status for path, status in answers.items() if status != 404} == {}
    [inbox_message] = await messages_in(victim_user)
    assert not inbox_message.seen and len(await messages_in(victim_user, "Drafts")) == 1
    assert await messages_in(attacker, "Drafts") == [], "nothing of the victim's was copied into a draft"


async def test_removing_a_delegate_of_another_organisation_answers_404(client: httpx.AsyncClient) -> None:
    _victim, outsider = await make_victim()
    user = await make_mail_user()
    await signed_in(client, user)

    response = await post(client, "/mail/settings/delegates/remove", {"user": str(outsider.id)})

    assert response.status_code == 404


async def test_autosave_over_another_users_draft_saves_nothing(client: httpx.AsyncClient) -> None:
    victim, victim_user = await make_victim()
    attacker = await make_mail_user()
    await signed_in(client, attacker)

    response = await post(client, "/mail/compose/autosave", {"draft": victim.draft, "subject": "x", "body": "y"})

    assert response.status_code == 204
    assert len(await messages_in(victim_user, "Drafts")) == 1 and await messages_in(attacker, "Drafts") == []


async def test_move_to_a_folder_of_another_mailbox_is_refused(client: httpx.AsyncClient) -> None:
    victim, _victim_user = await make_victim()
    user = await make_mail_user()
    message = await deliver(user)
    await signed_in(client, user)

    response = await post(
        client,
        f"/mail/mailboxes/{await mailbox_id(user)}/actions",
        {"message": str(message.id), "action": "move", "target": victim.inbox},
    )

    assert response.status_code == 404 and len(await messages_in(user)) == 1


async def test_anonymous_visitor_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    victim, _user = await make_victim()
    for path in [*reads(victim), "/mail/", "/mail/compose", "/mail/settings", "/mail/people?q=a", "/shell/badges"]:
        response = await client.get(path)
        assert response.status_code in (303, 404), path
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login?next="), path


async def test_organisation_without_mail_sees_no_webmail(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org())
    await login(client, user)

    home = await client.get("/")

    assert (await client.get("/mail/")).status_code == 404
    assert (await client.get("/mail/settings")).status_code == 404
    assert 'href="/mail/"' not in home.text


async def test_guest_has_no_mailbox(client: httpx.AsyncClient) -> None:
    org = await make_mail_org()
    guest = await make_user(org, role="guest")
    await login(client, guest)

    assert (await client.get("/mail/")).status_code == 403
    badges = (await client.get("/shell/badges")).text
    assert 'id="badge-notifications"' in badges and "badge-mail" not in badges


async def test_form_without_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    message = await deliver(user)
    await signed_in(client, user)

    response = await client.post(
        f"/mail/mailboxes/{await mailbox_id(user)}/actions", data={"message": str(message.id), "action": "delete"}
    )

    assert response.status_code == 403 and len(await messages_in(user)) == 1


async def test_unknown_ids_answer_404(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    unknown = uuid.uuid4()

    for path in (
        f"/mail/messages/{unknown}",
        f"/mail/folders/{unknown}",
        f"/mail/mailboxes/{unknown}/folders",
        "/mail/messages/not-a-uuid",
        f"/mail/compose?draft={unknown}",
    ):
        assert (await client.get(path)).status_code == 404, path
