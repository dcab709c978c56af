"""NOTIFY (RFC 5465): what a session asks to hear of, and hears, in IDLE and between
commands — and what it never hears of (folders of colleagues without a grant, other
organisations)."""

from __future__ import annotations

import re

import pytest

from hexagone.core.db import org_session
from hexagone.core.pubsub import events
from hexagone.mail.models import Mailbox
from hexagone.mail.service import mailboxes
from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import deliver, folder_of, grant_shared, make_mail_org, make_mail_user, make_message
from tests.mail.imap.conftest import Raw
from tests.mail.imap.sessions import ok

pytestmark = pytest.mark.usefixtures("migrated")

ALL_MESSAGE_EVENTS = b"(MessageNew MessageExpunge FlagChange)"


def append(client: Raw, tag: bytes, folder: bytes, message: bytes | None = None) -> None:
    data = message or make_message()
    ok(client, tag, b"APPEND %b {%d+}\r\n%b" % (folder, len(data), data))


def heard_within(client: Raw, wanted: bytes, timeout: float = 1.0) -> list[bytes]:
    """Lines the server sends unasked until one contains ``wanted`` (a socket timeout,
    and the test fails, if it takes longer than ``timeout``)."""
    client.sock.settimeout(timeout)
    heard: list[bytes] = []
    try:
        while wanted not in b"\n".join(heard):
            heard.append(client.line())
    finally:
        client.sock.settimeout(10)
    return heard


def start_idle(client: Raw) -> None:
    client.send(b"i IDLE\r\n")
    assert client.line() == b"+ idling"


def end_idle(client: Raw) -> None:
    client.send(b"DONE\r\n")
    assert client.until(b"i")[-1] == b"i OK IDLE terminated"


def silent(client: Raw) -> list[bytes]:
    """What a NOOP brings besides its completion (nothing was told unasked before)."""
    return client.command(b"q", b"NOOP")[:-1]


def notified(client: Raw, groups: bytes) -> list[bytes]:
    answer = client.command(b"n", b"NOTIFY SET " + groups)
    assert answer[-1] == b"n OK NOTIFY completed", answer
    return answer[:-1]


def idle_in(client: Raw, folder: bytes, groups: bytes) -> None:
    """SELECT ``folder``, NOTIFY SET ``groups``, then IDLE."""
    ok(client, b"s", b"SELECT " + folder)
    notified(client, groups)
    start_idle(client)


@pytest.fixture
def pair(raw, user: TestUser) -> tuple[Raw, Raw]:
    """Two sessions of one user, the first watching, the second changing; a Projects folder."""
    watcher, writer = raw(user), raw(user)
    ok(writer, b"c", b"CREATE Projects")
    return watcher, writer


def arrival_in_selected(pair: tuple[Raw, Raw], groups: bytes) -> Raw:
    """The watcher in Projects and notified of ``groups``, then a message arrives there."""
    watcher, writer = pair
    ok(watcher, b"s", b"SELECT Projects")
    notified(watcher, groups)
    append(writer, b"a", b"Projects")
    return watcher


def witness(raw, user: TestUser, groups: bytes) -> Raw:
    """Another session of ``user``, notified of ``groups``. Once it hears of a change,
    every session of the server has been handed it (the hub hands a change to all of
    them at once), so that another session's silence then means it was not told."""
    session = raw(user)
    notified(session, groups)
    return session


def assert_only_my_inbox_told(me: Raw, watcher: Raw) -> None:
    """After changes the watcher must not hear of: a message arrives in my own INBOX and
    its STATUS is all the watcher hears (so the earlier changes were heard, and left out)."""
    append(me, b"m", b"INBOX")
    heard = heard_within(watcher, b"STATUS")
    assert heard == [heard[-1]] and heard[-1].startswith(b'* STATUS "INBOX" (MESSAGES 1 '), heard


def assert_only_my_folder_told(me: Raw, watcher: Raw) -> None:
    """:func:`assert_only_my_inbox_told` for MailboxName: a folder I create is all the
    watcher hears of."""
    ok(me, b"m", b"CREATE Mine")
    assert heard_within(watcher, b"Mine") == [b'* LIST () "/" "Mine"']


def watching_one(pair: tuple[Raw, Raw], groups: bytes) -> tuple[Raw, Raw]:
    """One message in Projects, the watcher notified of ``groups``, the writer in Projects."""
    watcher, writer = pair
    append(writer, b"a", b"Projects")
    notified(watcher, groups)
    writer.command(b"s", b"SELECT Projects")
    return watcher, writer


# --- the command -------------------------------------------------------------------------


async def test_notify_capability_is_advertised_after_login(raw, user: TestUser) -> None:
    client = raw(user)
    assert b" NOTIFY" in client.command(b"c", b"CAPABILITY")[0]


async def test_notify_before_login_is_bad(raw) -> None:
    client = raw()
    assert client.command(b"n", b"NOTIFY NONE")[-1].startswith(b"n BAD")


@pytest.mark.parametrize(
    "groups",
    [
        b"(PERSONAL (MessageNew))",  # 5: MessageNew and MessageExpunge together
        b"(PERSONAL (MessageExpunge))",
        b"(PERSONAL (FlagChange))",  # 5: FlagChange needs both
        b"(SELECTED (MessageNew MessageExpunge)) (SELECTED-DELAYED (MessageNew MessageExpunge))",  # 6.1
        b"(SELECTED (MailboxName))",  # 6.1: only message events for the selected mailbox
        b"(NOWHERE (MessageNew MessageExpunge))",
        b"(MAILBOXES (MessageNew MessageExpunge))",  # names missing
        b"(PERSONAL MessageNew)",
        b"",
        b"STATUS",
    ],
)
async def test_notify_set_malformed_or_against_rfc_5465_5_is_bad(raw, user: TestUser, groups: bytes) -> None:
    client = raw(user)
    assert client.command(b"n", b"NOTIFY SET " + groups)[-1].startswith(b"n BAD")


@pytest.mark.parametrize(
    "event", [b"AnnotationChange", b"MailboxMetadataChange", b"ServerMetadataChange", b"SomethingNew"]
)
async def test_notify_unsupported_event_is_no_badevent_listing_the_supported_ones(
    raw, user: TestUser, event: bytes
) -> None:
    client = raw(user)
    extra = b" MessageNew MessageExpunge" if event == b"AnnotationChange" else b""
    answer = client.command(b"n", b"NOTIFY SET (PERSONAL (%b%b))" % (event, extra))
    supported = b"MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange"
    assert answer[-1] == b"n NO [BADEVENT (%b)] Event not supported" % supported


async def test_notify_too_many_event_groups_is_no_notificationoverflow(raw, user: TestUser) -> None:
    client = raw(user)
    groups = b" ".join(b"(MAILBOXES F%d (MessageNew MessageExpunge))" % n for n in range(51))
    assert client.command(b"n", b"NOTIFY SET " + groups)[-1].startswith(b"n NO [NOTIFICATIONOVERFLOW]")


# --- other folders: * STATUS ---------------------------------------------------------------


async def test_notify_message_new_in_another_folder_is_a_status_in_idle_within_a_second(pair) -> None:
    watcher, writer = pair
    idle_in(watcher, b"INBOX", b"(PERSONAL (MessageNew MessageExpunge))")
    append(writer, b"a", b"Projects")
    heard = heard_within(watcher, b"STATUS")
    assert len(heard) == 1 and re.fullmatch(
        rb"\* STATUS \"Projects\" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)", heard[0]
    )
    end_idle(watcher)


async def test_notify_status_arrives_between_commands_without_idle(pair) -> None:
    watcher, writer = pair
    notified(watcher, b"(MAILBOXES Projects (MessageNew MessageExpunge))")
    append(writer, b"a", b"Projects")
    heard = heard_within(watcher, b"STATUS")
    assert heard[0].startswith(b'* STATUS "Projects" (MESSAGES 1 UIDNEXT 2 ')
    assert silent(watcher) == []  # told once


async def test_notify_a_delivery_by_another_process_is_a_status_in_idle_within_a_second(
    redis_server: Server, redis_bus: None, raw
) -> None:
    owner = await make_mail_user()
    await folder_of(owner, "Sent")
    watcher = raw(owner, srv=redis_server)
    notified(watcher, b"(PERSONAL (MessageNew MessageExpunge))")
    start_idle(watcher)
    await deliver(owner, folder="Sent")  # through the store in this process, as the SMTP listener would
    await events.flush()
    assert heard_within(watcher, b"STATUS")[0].startswith(b'* STATUS "Sent" (MESSAGES 1 UIDNEXT 2 ')
    end_idle(watcher)


async def test_notify_set_status_answers_each_covered_folder_before_ok(raw, user: TestUser) -> None:
    await deliver(user, folder="Sent")
    await deliver(user, folder="Sent", flags=("\\Seen",))
    client = raw(user)
    client.command(b"s", b"SELECT inbox")
    told = notified(client, b"STATUS (SELECTED (MessageNew MessageExpunge)) (PERSONAL (MessageNew MessageExpunge))")
    sent = [line for line in told if line.startswith(b'* STATUS "Sent" ')]
    assert len(sent) == 1 and b"MESSAGES 2 UIDNEXT 3 " in sent[0] and sent[0].endswith(b"UNSEEN 1)")
    assert not any(line.startswith(b'* STATUS "INBOX"') for line in told)  # the selected one is left out


async def test_notify_status_carries_highestmodseq_once_condstore_is_on(pair) -> None:
    watcher, writer = pair
    watcher.command(b"e", b"ENABLE CONDSTORE")
    notified(watcher, b"(MAILBOXES Projects (MessageNew MessageExpunge))")
    append(writer, b"a", b"Projects")
    assert re.search(rb"UNSEEN 1 HIGHESTMODSEQ \d+\)$", heard_within(watcher, b"STATUS")[0])


async def test_notify_flag_change_is_told_only_when_asked(pair, raw, user: TestUser) -> None:
    everyone = witness(raw, user, b"(MAILBOXES Projects " + ALL_MESSAGE_EVENTS + b")")
    watcher, writer = watching_one(pair, b"(MAILBOXES Projects (MessageNew MessageExpunge))")
    heard_within(everyone, b"STATUS")  # the message watching_one put there
    ok(writer, b"f", b"STORE 1 +FLAGS (\\Seen)")
    heard_within(everyone, b"STATUS")  # the flag change, handed to every session
    assert silent(watcher) == []
    notified(watcher, b"(MAILBOXES Projects " + ALL_MESSAGE_EVENTS + b")")
    writer.command(b"g", b"STORE 1 -FLAGS (\\Seen)")
    assert re.search(rb"UNSEEN 1 HIGHESTMODSEQ \d+\)$", heard_within(watcher, b"STATUS")[0])  # FlagChange: modseq too


async def test_notify_message_expunge_in_another_folder_is_a_status(pair) -> None:
    watcher, writer = watching_one(pair, b"(SUBTREE Projects (MessageNew MessageExpunge))")
    writer.command(b"f", b"STORE 1 +FLAGS.SILENT (\\Deleted)")
    writer.command(b"x", b"EXPUNGE")
    assert heard_within(watcher, b"STATUS")[0].startswith(b'* STATUS "Projects" (MESSAGES 0 UIDNEXT 2 ')


async def test_notify_folder_no_group_covers_is_never_told(pair) -> None:
    watcher, writer = pair
    notified(watcher, b"(INBOXES (MessageNew MessageExpunge))")
    append(writer, b"a", b"Projects")
    append(writer, b"b", b"INBOX")  # told: proves the Projects's change was heard and left out
    assert [line for line in heard_within(watcher, b'STATUS "INBOX"') if b"Projects" in line] == []
    assert silent(watcher) == []


async def test_notify_subtree_covers_the_folder_and_those_below_it(pair) -> None:
    watcher, writer = pair
    writer.command(b"c", b"CREATE Projects/2025")
    notified(watcher, b"(SUBTREE Projects (MessageNew MessageExpunge))")
    append(writer, b"a", b"Projects/2025")
    assert heard_within(watcher, b"STATUS")[0].startswith(b'* STATUS "Projects/2025" (MESSAGES 1 ')


async def test_notify_subscribed_follows_the_subscriptions_as_they_change(pair) -> None:
    watcher, writer = pair
    notified(watcher, b"(SUBSCRIBED (MessageNew MessageExpunge)) (INBOXES (MessageNew MessageExpunge))")
    append(writer, b"a", b"Projects")
    append(writer, b"b", b"INBOX")
    assert [line for line in heard_within(watcher, b'STATUS "INBOX"') if b"Projects" in line] == []
    writer.command(b"u", b"SUBSCRIBE Projects")
    append(writer, b"c", b"Projects")
    assert heard_within(watcher, b"STATUS")[0].startswith(b'* STATUS "Projects" (MESSAGES 2 ')


async def test_notify_none_stops_every_notification(pair, raw, user: TestUser) -> None:
    watcher, writer = pair
    notified(watcher, b"(PERSONAL (MessageNew MessageExpunge))")
    everyone = witness(raw, user, b"(PERSONAL (MessageNew MessageExpunge))")
    assert watcher.command(b"z", b"NOTIFY NONE") == [b"z OK NOTIFY completed"]
    append(writer, b"a", b"Projects")
    heard_within(everyone, b"STATUS")
    assert silent(watcher) == []


async def test_notify_an_imaplib_client_reads_the_status_of_notify_set_status(connect, user: TestUser) -> None:
    await deliver(user, folder="Sent")
    client = connect(user)
    typ, _ = client.xatom("NOTIFY", "SET STATUS (MAILBOXES Sent (MessageNew MessageExpunge))")
    assert typ == "OK"
    assert client.untagged_responses["STATUS"][0].startswith(b'"Sent" (MESSAGES 1 UIDNEXT 2 ')


# --- the selected folder ---------------------------------------------------------------


async def test_notify_selected_tells_new_messages_at_once_with_the_fetch_items_asked(pair) -> None:
    watcher = arrival_in_selected(pair, b"(SELECTED (MessageNew (UID FLAGS) MessageExpunge))")
    heard = heard_within(watcher, b"FETCH")
    assert heard[0] == b"* 1 EXISTS" and heard[-1] == b"* 1 FETCH (UID 1 FLAGS (\\Recent))"


async def test_notify_selected_delayed_waits_for_a_command(pair) -> None:
    watcher = arrival_in_selected(pair, b"(SELECTED-DELAYED (MessageNew MessageExpunge))")
    with pytest.raises(TimeoutError):
        heard_within(watcher, b"EXISTS", 0.5)
    assert silent(watcher)[0] == b"* 1 EXISTS"


async def test_notify_without_a_selected_group_idle_is_silent_about_the_selected_folder(pair) -> None:
    watcher, writer = pair
    idle_in(watcher, b"Projects", b"(INBOXES (MessageNew MessageExpunge))")
    append(writer, b"a", b"Projects")
    append(writer, b"b", b"INBOX")
    assert not any(b"EXISTS" in line for line in heard_within(watcher, b'STATUS "INBOX"'))
    end_idle(watcher)


# --- MailboxName and SubscriptionChange (RFC 5465 5.4, 5.5) -------------------------------


@pytest.mark.parametrize(
    ("command", "told"),
    [
        (b"CREATE Reports", b'* LIST () "/" "Reports"'),
        (b"RENAME Projects Done", b'* LIST () "/" "Done" ("OLDNAME" ("Projects"))'),
        (b"DELETE Projects", b'* LIST (\\NonExistent) "/" "Projects"'),
    ],
)
async def test_notify_mailbox_name_another_sessions_change_is_a_list_in_idle_within_a_second(
    pair, command: bytes, told: bytes
) -> None:
    watcher, writer = pair
    notified(watcher, b"(PERSONAL (MailboxName))")
    start_idle(watcher)
    ok(writer, b"c", command)
    assert heard_within(watcher, b"LIST") == [told]
    end_idle(watcher)


async def test_notify_mailbox_name_a_rename_tells_the_folders_below_too(pair) -> None:
    watcher, writer = pair
    ok(writer, b"c", b"CREATE Projects/2026")
    notified(watcher, b"(PERSONAL (MailboxName))")
    ok(writer, b"r", b"RENAME Projects Done")
    assert sorted(heard_within(watcher, b'("Projects"))')) == [
        b'* LIST () "/" "Done" ("OLDNAME" ("Projects"))',
        b'* LIST () "/" "Done/2026" ("OLDNAME" ("Projects/2026"))',
    ]


async def test_notify_mailbox_name_a_folder_made_by_the_webmail_in_another_process_is_told(
    redis_server: Server, redis_bus: None, raw, user: TestUser
) -> None:
    inbox = await folder_of(user)
    watcher = raw(user, srv=redis_server)
    notified(watcher, b"(PERSONAL (MailboxName))")
    async with org_session(user.org_id, write=True) as db:  # the service the webmail and the API call
        mailbox = await db.get(Mailbox, inbox.mailbox_id)
        assert mailbox is not None
        await mailboxes.create_folder(db, mailbox, "Factures")
        await db.commit()
    await events.flush()
    assert heard_within(watcher, b"Factures") == [b'* LIST () "/" "Factures"']


@pytest.mark.parametrize(
    ("groups", "created", "told"),
    [
        (b"(MAILBOXES Other (MailboxName)) (PERSONAL (MessageNew MessageExpunge))", b"Other", b'() "/" "Other"'),
        (b"(PERSONAL (SubscriptionChange))", b"Reports", b'(\\Subscribed) "/" "Reports"'),
    ],
    ids=["mailbox_name_of_the_covered_folder_only", "subscription_change_without_mailbox_name"],
)
async def test_notify_name_events_are_told_only_when_asked_and_covered(
    pair, groups: bytes, created: bytes, told: bytes
) -> None:
    watcher, writer = pair
    notified(watcher, groups)
    ok(writer, b"c", b"CREATE Reports")
    ok(writer, b"d", b"CREATE Other")
    ok(writer, b"s", b"SUBSCRIBE " + created)
    assert heard_within(watcher, b"LIST") == [b"* LIST " + told]


async def test_notify_subscription_change_subscribe_and_unsubscribe_are_lists_in_idle(pair) -> None:
    watcher, writer = pair
    notified(watcher, b"(PERSONAL (SubscriptionChange))")
    start_idle(watcher)
    ok(writer, b"u", b"UNSUBSCRIBE Projects")
    assert heard_within(watcher, b"LIST") == [b'* LIST () "/" "Projects"']
    ok(writer, b"s", b"SUBSCRIBE Projects")
    assert heard_within(watcher, b"LIST") == [b'* LIST (\\Subscribed) "/" "Projects"']
    end_idle(watcher)


async def test_notify_mailbox_name_and_subscription_change_never_tell_of_a_colleague(raw) -> None:
    org = await make_mail_org()
    me, colleague = await make_mail_user(org), await make_mail_user(org)
    watcher, theirs = raw(me), raw(colleague)
    notified(watcher, b"(PERSONAL (MailboxName SubscriptionChange)) (SUBTREE Shared (MailboxName SubscriptionChange))")
    for n, command in enumerate([b"CREATE Secret", b"SUBSCRIBE Secret", b"RENAME Secret Hidden", b"DELETE Hidden"]):
        ok(theirs, b"t%d" % n, command)
    assert_only_my_folder_told(raw(me), watcher)


async def test_notify_mailbox_name_never_tells_of_another_organisations_folder(raw) -> None:
    me, stranger = await make_mail_user(), await make_mail_user()
    watcher = raw(me)
    notified(watcher, b"(PERSONAL (MailboxName)) (SUBTREE Shared (MailboxName))")
    ok(raw(stranger), b"c", b"CREATE Secret")
    assert_only_my_folder_told(raw(me), watcher)


# --- access: never a folder the user may not view ----------------------------------------


async def test_notify_never_tells_of_a_colleagues_folder(raw) -> None:
    org = await make_mail_org()
    me, colleague = await make_mail_user(org), await make_mail_user(org)
    watcher, theirs = raw(me), raw(colleague)
    notified(watcher, b"(PERSONAL (MessageNew MessageExpunge)) (SUBTREE Shared (MessageNew MessageExpunge))")
    append(theirs, b"a", b"INBOX")
    assert_only_my_inbox_told(raw(me), watcher)


async def test_notify_never_tells_of_another_organisations_folder(raw) -> None:
    me, stranger = await make_mail_user(), await make_mail_user()
    watcher = raw(me)
    notified(
        watcher,
        b'(PERSONAL (MessageNew MessageExpunge)) (SUBTREE "Shared/%b" (MessageNew MessageExpunge))'
        % stranger.email.encode(),
    )
    append(raw(stranger), b"a", b"INBOX")
    assert_only_my_inbox_told(raw(me), watcher)


async def test_notify_tells_of_a_shared_mailbox_through_its_grant_only(raw) -> None:
    org = await make_mail_org()
    reader, writer = await make_mail_user(org), await make_mail_user(org)
    address = f"team@{org.domain}"
    await grant_shared(org, address, writer, can_write=True)
    outsider = raw(await make_mail_user(org))
    notified(outsider, b"(SUBTREE Shared (MessageNew MessageExpunge))")
    await grant_shared(org, address, reader, can_write=False)
    watcher = raw(reader)
    notified(watcher, b"(SUBTREE Shared (MessageNew MessageExpunge))")
    append(raw(writer), b"a", b'"Shared/%b/INBOX"' % address.encode())
    assert heard_within(watcher, b"STATUS")[0].startswith(b'* STATUS "Shared/%b/INBOX" (MESSAGES 1 ' % address.encode())
    assert silent(outsider) == []


async def test_notify_without_a_selected_group_the_selected_folder_is_a_snapshot(pair) -> None:
    watcher = arrival_in_selected(pair, b"(INBOXES (MessageNew MessageExpunge))")
    append(pair[1], b"b", b"INBOX")  # told: proves the arrival in Projects was heard
    assert not any(b"EXISTS" in line for line in heard_within(watcher, b'STATUS "INBOX"'))
    assert silent(watcher) == []  # as Dovecot: SELECTED left out is SELECTED NONE (RFC 5465 3.1)
    told = notified(watcher, b"(SELECTED (MessageNew (UID) MessageExpunge))")  # an implicit NOOP
    assert told[0] == b"* 1 EXISTS" and told[-1] == b"* 1 FETCH (UID 1)"


async def test_notify_stops_telling_of_a_shared_mailbox_once_its_grant_is_revoked(raw) -> None:
    org = await make_mail_org()
    owner, mate = await make_mail_user(org), await make_mail_user(org)
    await folder_of(mate)
    owners = raw(owner)
    assert owners.command(b"g", b'SETACL INBOX "%b" lr' % mate.email.encode())[-1] == b"g OK SETACL completed"
    watcher = raw(mate)
    notified(watcher, b"(SUBTREE Shared (MessageNew MessageExpunge)) (INBOXES (MessageNew MessageExpunge))")
    append(owners, b"a", b"INBOX")
    shared = b'* STATUS "Shared/%b/INBOX" (MESSAGES 1 ' % owner.email.encode()
    assert heard_within(watcher, b"STATUS")[0].startswith(shared)
    assert owners.command(b"r", b'SETACL INBOX "%b" ""' % mate.email.encode())[-1] == b"r OK SETACL completed"
    append(owners, b"b", b"INBOX")
    assert_only_my_inbox_told(raw(mate), watcher)
