"""What one session hears of the others: EXISTS, EXPUNGE and FETCH FLAGS at NOOP and in
IDLE (within a second of a delivery, from another connection or another process), never
an EXPUNGE in the middle of a FETCH; and UIDs that outlive the server process."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from hexagone.core.pubsub import events
from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import deliver, folder_of, make_mail_user, make_message
from tests.mail.imap.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")


def append(client: Raw, tag: bytes, message: bytes) -> list[bytes]:
    client.send(tag + b" APPEND INBOX {%d+}\r\n%b\r\n" % (len(message), message))
    return client.until(tag)


def idle_until(client: Raw, wanted: bytes, timeout: float) -> tuple[list[bytes], float]:
    """Lines heard in IDLE until one contains ``wanted``, and how long that took."""
    start = time.monotonic()
    heard = []
    client.sock.settimeout(timeout)
    while wanted not in b"".join(heard):
        heard.append(client.line())
    client.sock.settimeout(10)
    return heard, time.monotonic() - start


async def test_updates_noop_reports_messages_added_by_another_session(raw, user: TestUser) -> None:
    watcher, writer = raw(user), raw(user)
    watcher.command(b"s", b"SELECT INBOX")
    assert b"APPENDUID" in append(writer, b"a", make_message())[-1]
    assert watcher.command(b"n", b"NOOP") == [b"* 1 EXISTS", b"* 1 RECENT", b"n OK NOOP completed"]
    assert watcher.command(b"f", b"FETCH 1 (FLAGS)")[0] == b"* 1 FETCH (FLAGS (\\Recent))"
    assert watcher.command(b"m", b"NOOP") == [b"m OK NOOP completed"]  # told once


async def test_updates_flag_changes_by_another_session_are_announced(raw, user: TestUser) -> None:
    await deliver(user)
    watcher, writer = raw(user), raw(user)
    watcher.command(b"s", b"SELECT INBOX")
    writer.command(b"s", b"SELECT INBOX")
    writer.command(b"a", b"STORE 1 +FLAGS (\\Flagged)")
    assert watcher.command(b"n", b"NOOP") == [b"* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))", b"n OK NOOP completed"]
    assert writer.command(b"m", b"NOOP") == [b"m OK NOOP completed"]  # its own change is not echoed


async def test_updates_expunge_waits_for_a_command_that_may_announce_it(raw, user: TestUser) -> None:
    await deliver(user)
    await deliver(user)
    watcher, writer = raw(user), raw(user)
    watcher.command(b"s", b"SELECT INBOX")
    writer.command(b"s", b"SELECT INBOX")
    writer.command(b"a", b"STORE 1 +FLAGS.SILENT (\\Deleted)")
    writer.command(b"b", b"EXPUNGE")
    during_fetch = watcher.command(b"f", b"FETCH 1:2 (UID)")
    assert during_fetch == [b"* 2 FETCH (UID 2)", b"f OK FETCH completed"]  # message 1 is gone: omitted
    assert watcher.command(b"n", b"NOOP")[0] == b"* 1 EXPUNGE"
    assert watcher.command(b"g", b"FETCH 1 (UID)")[0] == b"* 1 FETCH (UID 2)"


async def test_updates_idle_hears_an_append_from_another_connection_within_a_second(raw, user: TestUser) -> None:
    idler, writer = raw(user), raw(user)
    idler.command(b"s", b"SELECT INBOX")
    idler.send(b"i IDLE\r\n")
    assert idler.line() == b"+ idling"
    append(writer, b"a", make_message())
    heard, elapsed = idle_until(idler, b"EXISTS", timeout=1.0)
    assert heard[0] == b"* 1 EXISTS" and elapsed < 1.0
    idler.send(b"DONE\r\n")
    assert idler.until(b"i")[-1] == b"i OK IDLE terminated"


async def test_updates_idle_hears_flag_changes_and_expunges(raw, user: TestUser) -> None:
    await deliver(user)
    await deliver(user)
    idler, writer = raw(user), raw(user)
    idler.command(b"s", b"SELECT INBOX")
    writer.command(b"s", b"SELECT INBOX")
    idler.send(b"i IDLE\r\n")
    assert idler.line() == b"+ idling"
    writer.command(b"a", b"STORE 2 +FLAGS (\\Seen)")
    assert idle_until(idler, b"FETCH", 1.0)[0] == [b"* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent))"]
    writer.command(b"b", b"STORE 1 +FLAGS (\\Deleted)")
    writer.command(b"c", b"EXPUNGE")
    heard, _ = idle_until(idler, b"EXPUNGE", 1.0)
    assert heard[-1] == b"* 1 EXPUNGE"
    idler.send(b"DONE\r\n")
    assert idler.until(b"i")[-1] == b"i OK IDLE terminated"


async def test_updates_idle_without_done_is_bad_after_another_line(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"i IDLE\r\n")
    assert client.line() == b"+ idling"
    client.send(b"NOOP\r\n")
    assert client.until(b"i")[-1].startswith(b"i BAD")
    assert client.command(b"n", b"NOOP")[-1].startswith(b"n OK")


async def test_updates_idle_hears_a_delivery_by_another_process_within_a_second(
    redis_server: Server, redis_bus: None, raw
) -> None:
    owner = await make_mail_user()
    await folder_of(owner)
    idler = raw(owner, srv=redis_server)
    idler.command(b"s", b"SELECT INBOX")
    idler.send(b"i IDLE\r\n")
    assert idler.line() == b"+ idling"
    await deliver(owner)  # through the store in this process, as the SMTP listener would
    await events.flush()
    heard, elapsed = idle_until(idler, b"EXISTS", timeout=1.0)
    assert heard[0] == b"* 1 EXISTS" and elapsed < 1.0
    idler.send(b"DONE\r\n")
    assert idler.until(b"i")[-1] == b"i OK IDLE terminated"


async def test_updates_uids_and_uidvalidity_outlive_the_server_process(
    start_server: Callable[..., Server], redis_server: Server
) -> None:
    owner = await make_mail_user()
    for _ in range(3):
        await deliver(owner)
    before = start_server()
    client = Raw(before.imap_port)
    client.login(owner)
    first = [line for line in client.command(b"s", b"SELECT INBOX") if b"UIDVALIDITY" in line or b"UIDNEXT" in line]
    client.command(b"d", b"UID STORE 2 +FLAGS (\\Deleted)")
    client.command(b"e", b"EXPUNGE")
    uids = client.command(b"u", b"UID SEARCH ALL")[0]
    client.close()
    before.stop()  # that process is gone; another one serves the same database
    client = Raw(redis_server.imap_port)
    client.login(owner)
    lines = client.command(b"s", b"SELECT INBOX")
    assert [line for line in lines if b"UIDVALIDITY" in line or b"UIDNEXT" in line] == first
    assert uids == b"* SEARCH 1 3" and client.command(b"u", b"UID SEARCH ALL")[0] == uids
    assert b"APPENDUID" in append(client, b"a", make_message())[-1]
    assert client.command(b"v", b"UID SEARCH ALL")[0] == b"* SEARCH 1 3 4"  # 2 is never reused
    client.close()


async def test_updates_stores_of_several_sessions_at_once_get_own_modseqs_and_are_heard_by_the_others(
    raw, user: TestUser
) -> None:
    """On SQLite the STOREs of sessions that wait for the write turn share a transaction:
    each must still get a modseq of its own, or a session would take another's change for
    its own and never announce it."""
    for _ in range(5):
        await deliver(user)
    clients = [raw(user) for _ in range(5)]
    for client in clients:
        client.command(b"e", b"ENABLE CONDSTORE")
        client.command(b"s", b"SELECT INBOX")
    for uid, client in enumerate(clients, 1):
        client.send(b"t UID STORE %d +FLAGS.SILENT (\\Flagged)\r\n" % uid)
    own, heard = {}, {}
    flagged = rb"\\Flagged(?: \\Recent)?"  # the first session to select holds the messages' \Recent
    answers = [client.until(b"t") for client in clients]  # UID STORE may report others' changes too
    for uid, client in enumerate(clients, 1):
        lines = answers[uid - 1] + client.command(b"n", b"NOOP")  # every STORE has completed
        assert lines.count(b"t OK STORE completed") == 1 and lines[-1] == b"n OK NOOP completed"
        for line in lines:
            if m := re.fullmatch(rb"\* (\d) FETCH \(FLAGS \(%b\) UID \d MODSEQ \((\d+)\)\)" % flagged, line):
                own[uid] = (int(m.group(1)), int(m.group(2)))
            elif m := re.fullmatch(rb"\* \d FETCH \(UID (\d) FLAGS \(%b\) MODSEQ \((\d+)\)\)" % flagged, line):
                heard.setdefault(uid, []).append((int(m.group(1)), int(m.group(2))))
    assert [number for number, _ in own.values()] == [1, 2, 3, 4, 5]
    assert len({modseq for _, modseq in own.values()}) == 5  # one each
    for uid in own:
        # Every other change, and only those. On PostgreSQL one may be told twice: the catch-up reads
        # the folder's modseq and the changed rows in two statements, between which another commits.
        assert sorted(set(heard[uid])) == sorted(own[other] for other in own if other != uid)
