"""Real-world mail nobody here wrote (../shared/corpus/mail): every message of the corpus,
broken ones included, shows its page, its body and each of its attachments."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.mail.factories import deliver, make_mail_user
from tests.mail.imap.differential.harness import CORPUS as SHARED_CORPUS
from tests.mail.web.helpers import signed_in

CORPUS = SHARED_CORPUS / "stalwart-mail-parser"
SETS = ["rfc", "legacy", "thirdparty", "malformed"]


@pytest.mark.parametrize("name", SETS)
async def test_corpus_message_page_body_and_attachments_are_served(client: httpx.AsyncClient, name: str) -> None:
    files = sorted((CORPUS / name).glob("*.eml"))
    assert files, f"no corpus at {CORPUS / name}"
    user = await make_mail_user()
    messages = [(path.name, await deliver(user, path.read_bytes())) for path in files]
    await signed_in(client, user)
    failures = []
    for filename, message in messages:
        page = await client.get(f"/mail/messages/{message.id}")
        if page.status_code != 200 or page.text.count("<h1") != 1:
            failures.append(f"{filename}: page {page.status_code}")
            continue
        if 'class="mail-frame"' in page.text:
            frame = await client.get(f"/mail/messages/{message.id}/frame")
            if frame.status_code != 200 or re.search(r"<script|\son\w+=", frame.text.split("<body>", 1)[-1], re.I):
                failures.append(f"{filename}: frame {frame.status_code}")
        for part in re.findall(rf'href="(/mail/messages/{message.id}/parts/\d+)"', page.text):
            response = await client.get(part)
            if response.status_code != 200 or not response.headers["content-disposition"].startswith("attachment"):
                failures.append(f"{filename}: {part} {response.status_code}")
    assert not failures, "\n".join(failures)


async def test_corpus_malformed_messages_all_appear_in_the_folder_list(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    delivered = [await deliver(user, path.read_bytes()) for path in sorted((CORPUS / "malformed").glob("*.eml"))]
    await signed_in(client, user)

    response = await client.get("/mail/", follow_redirects=True)

    assert response.status_code == 200
    assert len(re.findall(r'class="mail-row( is-unread)?"', response.text)) == len({m.thread_id for m in delivered})
