"""Signing in over IMAP and SMTP submission, as an attacker probes it: the time of a
refusal does not tell which accounts exist, and failures from one address do not keep
the account's owner out from another.

Clients come from distinct loopback addresses (127.0.0.x): the servers throttle per
account and address, and tell addresses apart by the peer of the connection.
"""

from __future__ import annotations

import imaplib
import itertools
import random
import smtplib
import socket
import statistics
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select

from hexagone.core.audit import LOGIN_THROTTLED
from hexagone.core.config import Settings, get_settings
from hexagone.core.db import org_session
from hexagone.core.models import AuditEntry
from tests.conftest import Server
from tests.factories import TestUser, unique
from tests.mail.factories import make_mail_user
from tests.mail.smtp.helpers import wait_for_port

TIMEOUT = 30
SAMPLES = 10  # per kind and protocol, interleaved
# Fresh loopback source addresses, one per client of this module, so that no attempt
# counts against another's (account, address) pair.
_addresses = (f"127.0.{b}.{c}" for b, c in itertools.product(range(100, 200), range(2, 250)))


class IMAP4From(imaplib.IMAP4):
    """imaplib's client, connecting from a chosen local address."""

    def __init__(self, source: str, port: int):
        self.source = source
        super().__init__("127.0.0.1", port, timeout=TIMEOUT)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout, source_address=(self.source, 0))


def imap_login(server: Server, email: str, password: str, source: str | None = None) -> tuple[str, float]:
    """The outcome of LOGIN ("OK", or the server's refusal) and how long it took."""
    client = IMAP4From(source or next(_addresses), server.imap_port)
    try:
        started = time.perf_counter()
        try:
            outcome = client.login(email, password)[0]
        except imaplib.IMAP4.error as exc:
            outcome = str(exc)
        return outcome, time.perf_counter() - started
    finally:
        client.shutdown()


def smtp_login(server: Server, email: str, password: str, source: str | None = None) -> tuple[int, float]:
    """The reply code of AUTH on submission and how long it took."""
    with smtplib.SMTP(
        "127.0.0.1", server.submission_port, timeout=TIMEOUT, source_address=(source or next(_addresses), 0)
    ) as client:
        client.ehlo()
        started = time.perf_counter()
        try:
            code = client.login(email, password)[0]
        except smtplib.SMTPAuthenticationError as exc:
            code = exc.smtp_code
        return code, time.perf_counter() - started


@pytest.fixture(scope="module")
def mail_server(server: Server) -> Server:
    wait_for_port(server.imap_port)
    wait_for_port(server.submission_port)
    return server


@pytest.fixture(scope="module")
def production_cost_server(start_server: Callable[..., Server]) -> Server:
    """A server hashing at the production argon2 cost (the harness's own is the cheapest),
    for the timing tests: only a real cost dominates the time of a refusal."""
    defaults = Settings.model_fields
    server = start_server(
        HEXAGONE_PASSWORD_HASH_TIME_COST=str(defaults["password_hash_time_cost"].default),
        HEXAGONE_PASSWORD_HASH_MEMORY_KIB=str(defaults["password_hash_memory_kib"].default),
        HEXAGONE_PASSWORD_HASH_PARALLELISM=str(defaults["password_hash_parallelism"].default),
    )
    wait_for_port(server.imap_port)
    wait_for_port(server.submission_port)
    return server


async def accounts_at_production_cost(server: Server) -> list[TestUser]:
    """Three accounts (so that none fails often enough to be slowed down), each signed in
    once on ``server``, which re-hashes its password at the production cost."""
    existing = [await make_mail_user() for _ in range(3)]
    for user in existing:
        assert imap_login(server, user.email, user.password)[0] == "OK"
    return existing


def unknown_address() -> str:
    return f"{unique('nobody')}@example.org"


def medians(attempt: Callable[[str], float], existing: list[TestUser]) -> tuple[float, float]:
    """Median times of wrong passwords for existing accounts and for unknown addresses,
    taken in random interleaved order so that a change of load hits both alike."""
    kinds = ["existing", "unknown"] * SAMPLES
    random.shuffle(kinds)
    times: dict[str, list[float]] = {"existing": [], "unknown": []}
    accounts = itertools.cycle(existing)
    for kind in kinds:
        email = next(accounts).email if kind == "existing" else unknown_address()
        times[kind].append(attempt(email))
    return statistics.median(times["existing"]), statistics.median(times["unknown"])


async def test_imap_login_wrong_password_takes_as_long_for_an_unknown_account(production_cost_server: Server) -> None:
    existing = await accounts_at_production_cost(production_cost_server)

    def attempt(email: str) -> float:
        outcome, seconds = imap_login(production_cost_server, email, "wrong password, surely")
        assert "AUTHENTICATIONFAILED" in outcome
        return seconds

    known, unknown = medians(attempt, existing)
    assert unknown >= 0.7 * known, (known, unknown)


async def test_smtp_auth_wrong_password_takes_as_long_for_an_unknown_account(production_cost_server: Server) -> None:
    existing = await accounts_at_production_cost(production_cost_server)

    def attempt(email: str) -> float:
        code, seconds = smtp_login(production_cost_server, email, "wrong password, surely")
        assert code == 535
        return seconds

    known, unknown = medians(attempt, existing)
    assert unknown >= 0.7 * known, (known, unknown)


async def test_imap_failures_from_one_address_leave_the_owner_in_from_another(mail_server: Server) -> None:
    user = await make_mail_user()
    attacker = next(_addresses)
    limit = get_settings().login_max_failures_per_account_and_ip
    outcomes = [imap_login(mail_server, user.email, f"guess {n}", attacker)[0] for n in range(limit + 2)]
    assert all("AUTHENTICATIONFAILED" in o for o in outcomes[:limit]), outcomes
    assert all("UNAVAILABLE" in o for o in outcomes[limit:]), outcomes
    # The attacker's address stays refused, even with the right password ...
    assert "UNAVAILABLE" in imap_login(mail_server, user.email, user.password, attacker)[0]
    # ... while the owner signs in from anywhere else, over IMAP and SMTP.
    assert imap_login(mail_server, user.email, user.password)[0] == "OK"
    assert smtp_login(mail_server, user.email, user.password)[0] == 235
    async with org_session(user.org_id) as db:
        throttled = list(
            (
                await db.execute(
                    select(AuditEntry).where(
                        AuditEntry.action == LOGIN_THROTTLED, AuditEntry.target_label == user.email
                    )
                )
            ).scalars()
        )
    assert len(throttled) == 3 and {e.ip for e in throttled} == {attacker}
    assert all(e.details == {"channel": "imap", "limit": "account_and_ip"} for e in throttled)
