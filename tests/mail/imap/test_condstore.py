"""CONDSTORE (RFC 7162 3.1): the commands that turn it on by using it, and the
HIGHESTMODSEQ the first of them reports in a selected folder."""

from __future__ import annotations

import re

import pytest

from tests.factories import TestUser
from tests.mail.factories import deliver, folder_of

pytestmark = pytest.mark.usefixtures("migrated")


async def test_condstore_fetch_modseq_enables_it_and_reports_highestmodseq(raw, user: TestUser) -> None:
    await deliver(user, subject="one")
    highest = (await folder_of(user)).highest_modseq
    client = raw(user)
    client.command(b"s", b"SELECT INBOX")
    lines = client.command(b"f", b"FETCH 1 (MODSEQ)")
    assert lines[0] == b"* OK [HIGHESTMODSEQ %d] Highest" % highest
    assert re.fullmatch(rb"\* 1 FETCH \(MODSEQ \(\d+\)\)", lines[1]) and lines[-1].startswith(b"f OK")
    # on now: a FLAGS fetch carries MODSEQ, and HIGHESTMODSEQ is not said again
    lines = client.command(b"g", b"FETCH 1 (FLAGS)")
    assert re.fullmatch(rb"\* 1 FETCH \(FLAGS \([^)]*\) MODSEQ \(\d+\)\)", lines[0]) and len(lines) == 2


async def test_condstore_fetch_changedsince_enables_it(raw, user: TestUser) -> None:
    await deliver(user, subject="one")
    client = raw(user)
    client.command(b"s", b"SELECT INBOX")
    lines = client.command(b"f", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)")
    assert lines[0].startswith(b"* OK [HIGHESTMODSEQ ")
    assert b"MODSEQ (" in lines[1] and lines[-1].startswith(b"f OK")


async def test_condstore_enable_while_selected_reports_highestmodseq(raw, user: TestUser) -> None:
    client = raw(user)
    client.command(b"s", b"SELECT INBOX")
    lines = client.command(b"e", b"ENABLE CONDSTORE")
    assert lines[0].startswith(b"* OK [HIGHESTMODSEQ ") and lines[1] == b"* ENABLED CONDSTORE"


async def test_condstore_enable_twice_lists_it_once(raw, user: TestUser) -> None:
    client = raw(user)
    assert client.command(b"e", b"ENABLE CONDSTORE")[0] == b"* ENABLED CONDSTORE"
    assert client.command(b"f", b"ENABLE CONDSTORE")[0] == b"* ENABLED"


async def test_condstore_enable_unknown_capability_is_ignored(raw, user: TestUser) -> None:
    client = raw(user)
    assert client.command(b"e", b"ENABLE X-UNKNOWN condstore")[:2] == [b"* ENABLED CONDSTORE", b"e OK ENABLE completed"]
