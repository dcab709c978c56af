"""Mail meets the drive: an attachment received is saved into the reader's own drive in one
action, with its bytes and a numbered name when the name is taken; never someone else's
attachment, never without the drive module, never past the drive's quota. A file of the
drive goes from the composer as a public link its recipient opens signed out; never a
file the writer may not share."""

from __future__ import annotations

import re

import httpx
import pytest

from hexagone.core.db import org_session
from hexagone.drive import service as drive
from tests.drive.factories import own_drive, put, read
from tests.factories import TestOrg, make_org, make_user, principal
from tests.mail.factories import deliver, make_mail_user, messages_in
from tests.mail.web.helpers import post, signed_in
from tests.mail.web.test_compose import parsed, raw_of

REPORT = b"%PDF-1.4 le rapport annuel"


async def make_mail_and_drive_org() -> TestOrg:
    return await make_org(modules=("mail", "drive"))


async def _files(who: object) -> dict[str, int]:
    reader = await principal(who)  # type: ignore[arg-type]
    root = (await own_drive(reader)).root_id
    async with org_session(reader.org_id) as db:
        listing = await drive.list_folder(db, reader, root)
    return {entry.name: entry.size or 0 for entry in listing.entries}


async def test_attachment_saved_to_the_drive_lands_in_the_readers_drive_with_its_bytes(
    client: httpx.AsyncClient,
) -> None:
    user = await make_mail_user(await make_mail_and_drive_org())
    message = await deliver(user, attachments=(("rapport.pdf", REPORT, "application/pdf"),))
    await signed_in(client, user)
    page = (await client.get(f"/mail/messages/{message.id}")).text
    [action] = re.findall(rf'action="(/mail/messages/{message.id}/parts/\d+/drive)"', page)

    first = await post(client, action)
    second = await post(client, action)

    assert first.status_code == 303 and first.headers["location"].endswith("done=saved_to_drive")
    assert second.status_code == 303
    assert await _files(user) == {"rapport.pdf": len(REPORT), "rapport (2).pdf": len(REPORT)}
    reader = await principal(user)
    async with org_session(user.org_id) as db:
        [saved, _copy] = (await drive.list_folder(db, reader, (await own_drive(reader)).root_id)).entries
    assert await read(reader, saved.id) == REPORT and saved.content_type == "application/pdf"
    shown = (await client.get(first.headers["location"])).text
    assert "La pièce jointe est enregistrée dans Mes fichiers." in shown


@pytest.mark.parametrize("where", ["colleague", "other organisation"])
async def test_saving_another_users_attachment_answers_404_and_stores_nothing(
    client: httpx.AsyncClient, where: str
) -> None:
    org = await make_mail_and_drive_org()
    victim = await make_mail_user(org if where == "colleague" else await make_mail_and_drive_org())
    message = await deliver(victim, attachments=(("secret.txt", b"secret", "text/plain"),))
    attacker = await make_mail_user(org)
    await signed_in(client, attacker)

    response = await post(client, f"/mail/messages/{message.id}/parts/1/drive")

    assert response.status_code == 404
    assert await _files(attacker) == {}


async def test_without_the_drive_module_the_action_is_not_offered_and_answers_404(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()  # an organisation with mail only
    message = await deliver(user, attachments=(("rapport.pdf", REPORT, "application/pdf"),))
    await signed_in(client, user)

    page = (await client.get(f"/mail/messages/{message.id}")).text
    response = await post(client, f"/mail/messages/{message.id}/parts/1/drive")

    assert "rapport.pdf" in page and "/drive" not in page.split("mail-attachments")[1].split("</section>")[0]
    assert response.status_code == 404


async def test_an_attachment_beyond_the_drives_quota_is_refused_with_507_and_nothing_stored(
    client: httpx.AsyncClient,
) -> None:
    org = await make_mail_and_drive_org()
    user = await make_mail_user(org)
    admin = await principal(await make_user(org, role="admin"))
    reader = await principal(user)
    async with org_session(org.id, write=True) as db:
        await drive.set_quota(db, admin, (await own_drive(reader)).id, 10)
        await db.commit()
    message = await deliver(user, attachments=(("rapport.pdf", REPORT, "application/pdf"),))
    await signed_in(client, user)

    response = await post(client, f"/mail/messages/{message.id}/parts/1/drive")

    assert response.status_code == 507 and "Il ne reste pas assez de place" in response.text
    assert await _files(user) == {}


async def test_a_drive_file_sent_as_a_link_lets_the_recipient_download_it_signed_out(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_mail_and_drive_org()
    alice, bob = await make_mail_user(org), await make_mail_user(org)
    writer = await principal(alice)
    large = await put(writer, (await own_drive(writer)).root_id, "maquette.psd", b"calques" * 5000)
    await signed_in(client, alice)
    page = (await client.get("/mail/compose")).text
    assert f'name="drive_file" value="{large.id}"' in page

    sent = await post(
        client,
        "/mail/compose",
        {
            "action": "send",
            "sender": alice.email,
            "to": bob.email,
            "subject": "La maquette",
            "body": "Voici.",
            "drive_file": str(large.id),
        },
    )

    assert sent.status_code == 303 and "done=sent" in sent.headers["location"]
    [received] = await messages_in(bob)
    text = parsed(await raw_of(received)).get_body().get_content()
    assert text.startswith("Voici.") and "(liens valables 30 jours)" in text
    [address] = re.findall(rf"- maquette\.psd \([^)]+\) : ({re.escape(base_url)}/s/\S+)", text)
    async with httpx.AsyncClient(follow_redirects=False) as stranger:  # signed out
        landing = await stranger.get(address)
        [download] = set(re.findall(r'href="(/s/[^"]+/files/[^"]+)"', landing.text))
        got = await stranger.get(base_url + download)
    assert landing.status_code == 200 and got.content == b"calques" * 5000
    async with org_session(org.id) as db:
        [link] = await drive.node_links(db, writer, large.id)
    assert link.expires_at is not None


async def test_a_drive_file_one_may_not_share_is_not_sent_and_the_message_is_not_either(
    client: httpx.AsyncClient,
) -> None:
    org = await make_mail_and_drive_org()
    alice, bob = await make_mail_user(org), await make_mail_user(org)
    owner = await principal(bob)
    private = await put(owner, (await own_drive(owner)).root_id, "paie.xlsx", b"salaires")
    await signed_in(client, alice)

    response = await post(
        client,
        "/mail/compose",
        {
            "action": "send",
            "sender": alice.email,
            "to": bob.email,
            "subject": "x",
            "body": "y",
            "drive_file": str(private.id),
        },
    )

    assert response.status_code == 404
    assert await messages_in(bob) == []
    async with org_session(org.id) as db:
        assert await drive.node_links(db, owner, private.id) == []


BIG = 10 * 1024 * 1024 + 1  # one byte over the default mail_link_attachments_over_bytes


def _compose(sender: str, to: str, action: str = "send") -> dict[str, object]:
    return {"action": action, "sender": sender, "to": to, "subject": "Les plans", "body": "Ci-joint."}


async def test_a_file_over_the_threshold_goes_to_the_drive_and_is_sent_as_a_link(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_mail_and_drive_org()
    alice, bob = await make_mail_user(org), await make_mail_user(org)
    plans = bytes(range(256)) * (BIG // 256 + 1)
    await signed_in(client, alice)
    assert "Un fichier de plus de 10" in (await client.get("/mail/compose")).text

    sent = await post(
        client,
        "/mail/compose",
        _compose(alice.email, bob.email),
        files=[
            ("attachments", ("plans.dwg", plans, "application/acad")),
            ("attachments", ("note.txt", b"petit", "text/plain")),
        ],
    )

    assert sent.status_code == 303 and "done=sent" in sent.headers["location"]
    [received] = await messages_in(bob)
    message = parsed(await raw_of(received))
    assert [part.get_filename() for part in message.iter_attachments()] == ["note.txt"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    [address] = re.findall(rf"- plans\.dwg \([^)]+\) : ({re.escape(base_url)}/s/\S+)", text)
    assert await _files(alice) == {"plans.dwg": len(plans)}
    async with httpx.AsyncClient(follow_redirects=False) as stranger:  # signed out
        landing = await stranger.get(address)
        [download] = set(re.findall(r'href="(/s/[^"]+/files/[^"]+)"', landing.text))
        got = await stranger.get(base_url + download)
    assert got.content == plans


async def test_a_file_over_the_threshold_beyond_the_drives_quota_is_refused_and_nothing_sent(
    client: httpx.AsyncClient,
) -> None:
    org = await make_mail_and_drive_org()
    alice, bob = await make_mail_user(org), await make_mail_user(org)
    admin = await principal(await make_user(org, role="admin"))
    writer = await principal(alice)
    async with org_session(org.id, write=True) as db:
        await drive.set_quota(db, admin, (await own_drive(writer)).id, 1024)
        await db.commit()
    await signed_in(client, alice)

    response = await post(
        client,
        "/mail/compose",
        _compose(alice.email, bob.email),
        files=[("attachments", ("plans.dwg", b"x" * BIG, "application/acad"))],
    )

    assert response.status_code == 507 and "Il ne reste pas assez de place" in response.text
    assert 'value="Les plans"' in response.text  # the form again, as typed
    assert await messages_in(bob) == [] and await _files(alice) == {}


async def test_without_the_drive_a_file_over_the_threshold_stays_an_attachment(client: httpx.AsyncClient) -> None:
    org = await make_org(modules=("mail",))
    alice, bob = await make_mail_user(org), await make_mail_user(org)
    await signed_in(client, alice)
    assert "Un fichier de plus de" not in (await client.get("/mail/compose")).text

    sent = await post(
        client,
        "/mail/compose",
        _compose(alice.email, bob.email),
        files=[("attachments", ("plans.dwg", b"x" * BIG, "application/acad"))],
    )

    assert sent.status_code == 303
    [received] = await messages_in(bob)
    [attached] = parsed(await raw_of(received)).iter_attachments()
    assert attached.get_filename() == "plans.dwg" and len(attached.get_content()) == BIG
