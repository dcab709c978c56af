"""The script commands, driven by PyPI ``managesieve`` (the real client) where it has
them and by a raw socket for RENAMESCRIPT, CHECKSCRIPT and NOOP, which it lacks: what is
stored is what comes back, one script at most is active, invalid scripts and
extensions the server does not run are refused with the parser's message, and the
quotas answer HAVESPACE and PUTSCRIPT alike."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select

from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.mail.models import Mailbox, SieveScript
from tests.factories import TestUser

pytestmark = pytest.mark.usefixtures("migrated")

VACATION = """require ["vacation", "fileinto", "envelope", "subaddress", "copy", "imap4flags", "relational", "body"];
if address :detail "to" "lists" { fileinto :copy :flags "\\\\Seen" "Listes"; stop; }
if envelope :domain "from" "example.com" { addflag "$Work"; }
if header :count "gt" "received" "30" { discard; }
if body :text :contains "urgent" { keep; }
vacation :days 7 :subject "Absent" "Je suis absent, réponse à mon retour.";
"""


async def stored(user: TestUser) -> dict[str, tuple[str, bool]]:
    """The user's scripts as the database holds them: name → (content, active)."""
    async with org_session(user.org_id) as db:
        rows = await db.execute(
            select(SieveScript.name, SieveScript.content, SieveScript.active)
            .join(Mailbox, Mailbox.id == SieveScript.mailbox_id)
            .where(Mailbox.user_id == user.id)
        )
        return {name: (content, active) for name, content, active in rows}


async def test_scripts_put_list_get_round_trip_every_supported_extension(connect, user: TestUser) -> None:
    client = connect(user)
    assert client.putscript("vacances", VACATION) == "OK"
    assert client.listscripts() == ("OK", [("vacances", False)])
    assert client.getscript("vacances") == ("OK", VACATION)
    assert (await stored(user))["vacances"] == (VACATION, False)


async def test_scripts_setactive_keeps_one_active_and_empty_name_deactivates(connect, user: TestUser) -> None:
    client = connect(user)
    for name in ("un", "deux"):
        assert client.putscript(name, "keep;") == "OK"
    assert client.setactive("un") == "OK"
    assert client.setactive("deux") == "OK"
    assert sorted(client.listscripts()[1]) == [("deux", True), ("un", False)]
    assert client.setactive("") == "OK"
    assert {active for _, active in (await stored(user)).values()} == {False}


async def test_scripts_replacing_the_active_script_keeps_it_active(connect, user: TestUser) -> None:
    client = connect(user)
    client.putscript("main", "keep;")
    client.setactive("main")
    assert client.putscript("main", "discard;") == "OK"
    assert (await stored(user))["main"] == ("discard;", True)


async def test_scripts_active_script_cannot_be_deleted_until_deactivated(connect, user: TestUser) -> None:
    client = connect(user)
    client.putscript("main", "keep;")
    client.setactive("main")
    assert client.deletescript("main") == "NO" and client.response_code == "ACTIVE"
    client.setactive("")
    assert client.deletescript("main") == "OK"
    assert client.listscripts() == ("OK", [])


async def test_scripts_missing_names_answer_nonexistent(connect, user: TestUser) -> None:
    client = connect(user)
    for outcome in (client.getscript("absent")[0], client.setactive("absent"), client.deletescript("absent")):
        assert outcome == "NO" and client.response_code == "NONEXISTENT"


async def test_scripts_invalid_script_is_refused_with_the_parser_message(connect, user: TestUser) -> None:
    client = connect(user)
    assert client.putscript("cassé", "if true { keep }") == "NO"
    assert "line 1" in client.response_text
    assert await stored(user) == {}


async def test_scripts_invalid_replacement_leaves_the_stored_script_as_it_was(connect, user: TestUser) -> None:
    client = connect(user)
    client.putscript("main", "keep;")
    client.setactive("main")
    assert client.putscript("main", 'require "reject"; reject "x";') == "NO"
    assert (await stored(user))["main"] == ("keep;", True)


@pytest.mark.parametrize("extension", ["reject", "variables", "include", "enotify", "x-unknown"])
async def test_scripts_requiring_an_unsupported_extension_is_refused(connect, user: TestUser, extension: str) -> None:
    client = connect(user)
    assert client.putscript("x", f'require "{extension}"; keep;') == "NO"
    assert extension in client.response_text


@pytest.mark.parametrize(
    "script",
    ['if true { require "reject"; reject "no"; }', 'keep; require "fileinto"; fileinto "x";'],
)
async def test_scripts_require_anywhere_but_the_start_is_refused(connect, user: TestUser, script: str) -> None:
    client = connect(user)
    assert client.putscript("x", script) == "NO"
    assert client.response_text == "require must come before any other command"


async def test_scripts_deeply_nested_blocks_are_refused_without_failing(connect, user: TestUser) -> None:
    client = connect(user)
    assert client.putscript("deep", "if true {" * 31 + "keep;" + "}" * 31) == "OK"  # what delivery runs
    assert client.putscript("deeper", "if true {" * 5000 + "keep;" + "}" * 5000) == "NO"
    assert client.response_text == "blocks nested deeper than 32"
    assert client.listscripts() == ("OK", [("deep", False)])


async def test_scripts_using_an_extension_without_require_is_refused(connect, user: TestUser) -> None:
    client = connect(user)
    assert client.putscript("x", 'fileinto "Listes";') == "NO"
    assert "fileinto" in client.response_text


async def test_scripts_capability_lists_exactly_the_supported_extensions(connect) -> None:
    client = connect()
    assert client.capabilities == [
        "fileinto", "envelope", "body", "copy", "imap4flags", "vacation", "relational", "subaddress", "date",
        "comparator-i;ascii-numeric",
    ]  # fmt: skip


async def test_scripts_havespace_and_putscript_enforce_the_size_quota(connect, user: TestUser) -> None:
    limit = get_settings().mail_sieve_max_script_bytes
    client = connect(user)
    assert client.havespace("gros", limit) == "OK"
    assert client.havespace("gros", limit + 1) == "NO" and client.response_code == "QUOTA/MAXSIZE"
    assert client.putscript("gros", "#" + "x" * limit + "\nkeep;") == "NO"
    assert client.response_code == "QUOTA/MAXSIZE"


async def test_scripts_havespace_and_putscript_enforce_the_count_quota(connect, user: TestUser) -> None:
    limit = get_settings().mail_sieve_max_scripts
    client = connect(user)
    for n in range(limit):
        assert client.putscript(f"s{n}", "keep;") == "OK"
    assert client.havespace("one more", 10) == "NO" and client.response_code == "QUOTA/MAXSCRIPTS"
    assert client.putscript("one more", "keep;") == "NO" and client.response_code == "QUOTA/MAXSCRIPTS"
    assert client.havespace("s0", 10) == "OK"  # replacing takes no room
    assert client.putscript("s0", "discard;") == "OK"


async def test_scripts_renamescript_keeps_content_and_active_flag(raw, user: TestUser) -> None:
    client = raw(user)
    assert client.final(b'PUTSCRIPT "old" {5+}\r\nkeep;').startswith(b"OK")
    assert client.final(b'SETACTIVE "old"').startswith(b"OK")
    assert client.final(b'RENAMESCRIPT "old" "new"').startswith(b"OK")
    assert client.ask(b"LISTSCRIPTS")[:-1] == [b'"new" ACTIVE']
    assert (await stored(user)) == {"new": ("keep;", True)}


async def test_scripts_renamescript_refuses_a_taken_or_missing_name(raw, user: TestUser) -> None:
    client = raw(user)
    client.ask(b'PUTSCRIPT "a" "keep;"')
    client.ask(b'PUTSCRIPT "b" "keep;"')
    assert client.final(b'RENAMESCRIPT "a" "b"').startswith(b"NO (ALREADYEXISTS)")
    assert client.final(b'RENAMESCRIPT "absent" "c"').startswith(b"NO (NONEXISTENT)")
    assert set(await stored(user)) == {"a", "b"}


async def test_scripts_checkscript_validates_without_storing(raw, user: TestUser) -> None:
    client = raw(user)
    assert client.final(b'CHECKSCRIPT "keep;"').startswith(b"OK")
    assert client.final(b'CHECKSCRIPT "require \\"reject\\"; reject \\"no\\";"').startswith(b"NO")
    assert await stored(user) == {}


async def test_scripts_names_are_unicode_in_nfc_without_control_characters(connect, user: TestUser) -> None:
    client = connect(user)
    assert client.putscript("règles été", "keep;") == "OK"
    assert client.listscripts() == ("OK", [("règles été", False)])
    for refused in ("bad\u2028name", "tab\tname", "del\x7fname", "e\u0301t\u00e9", "x" * 201, ""):
        assert client.putscript(refused, "keep;") == "NO", refused  # controls, not NFC, too long, empty
    assert client.listscripts() == ("OK", [("règles été", False)])


async def test_scripts_noop_echoes_its_tag(raw, user: TestUser) -> None:
    client = raw()
    assert client.final(b"NOOP") == b'OK "Done"'
    assert client.final(b'NOOP "STARTTLS-SYNC-42"') == b'OK (TAG "STARTTLS-SYNC-42") "Done"'


async def test_scripts_concurrent_setactive_leaves_exactly_one_active(connect, user: TestUser) -> None:
    names = ["a", "b", "c"]
    clients = [connect(user) for _ in names]
    for name in names:
        assert clients[0].putscript(name, "keep;") == "OK"

    def activate(client, name: str) -> list[str]:
        return [client.setactive(name) for _ in range(15)]

    outcomes = await asyncio.gather(*(asyncio.to_thread(activate, c, n) for c, n in zip(clients, names, strict=True)))
    assert {o for each in outcomes for o in each} == {"OK"}
    assert sum(active for _, active in (await stored(user)).values()) == 1


async def test_scripts_changes_after_the_mailbox_is_gone_answer_nonexistent(connect, user: TestUser) -> None:
    client = connect(user)
    assert client.putscript("main", "keep;") == "OK"
    async with org_session(user.org_id) as db:
        await db.execute(delete(Mailbox).where(Mailbox.user_id == user.id))
        await db.commit()
    assert client.putscript("main", "discard;") == "NO" and client.response_code == "NONEXISTENT"
    assert client.listscripts() == ("NO", []) and client.response_code == "NONEXISTENT"
