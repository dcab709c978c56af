"""ENVELOPE and SEARCH answers identical to Dovecot 2.3's on the same messages: the shared
corpus of real-world mail, the malformed messages of ``malformed.py`` and the address and
search corners of ``envelope_cases.py``, APPENDed to both servers (the ``compared``
fixture of ``conftest.py``, whose answers the BODYSTRUCTURE comparison reads too).

One difference is allowed, named by its test: SENTBEFORE/SENTON/SENTSINCE on a message
without a valid Date field. RFC 3501 6.4.4 matches messages "whose Date: header ... is
earlier than the specified date"; one without a date is not, where Dovecot counts it as
sent in 1970 (docs/mail-dovecot-differences.md).
"""

from __future__ import annotations

import pytest

from hexagone.mail import mime
from tests.mail.imap.differential import harness
from tests.mail.imap.differential.conftest import Compared

pytestmark = pytest.mark.usefixtures("migrated")

MAILS = harness.messages()
NAMES = [mail.name for mail in MAILS]
SENT_KEYS = ("SENTBEFORE", "SENTON", "SENTSINCE")


@pytest.fixture(scope="module")
def undated() -> set[str]:
    return {mail.name for mail in MAILS if mime.parse(mail.data).sent_on is None}


def found(compared: Compared, criteria: str) -> tuple[set[str] | str, set[str] | str]:
    """(ours, Dovecot's) messages that ``SEARCH criteria`` finds, by name."""
    return (
        harness.names_found(compared.ours.searches[criteria], compared.mails),
        harness.names_found(compared.dovecot.searches[criteria], compared.mails),
    )


def test_envelope_comparison_has_every_message_some_without_a_date(compared: Compared, undated: set[str]) -> None:
    assert [mail.name for mail in compared.mails] == NAMES
    assert undated


@pytest.mark.parametrize("name", NAMES)
def test_envelope_is_identical_to_dovecots(compared: Compared, name: str) -> None:
    dovecot = compared.dovecot.items["ENVELOPE"][name]
    assert dovecot is not None
    assert compared.ours.items["ENVELOPE"][name] == dovecot


@pytest.mark.parametrize("criteria", [c for c in harness.SEARCHES if not c.startswith(SENT_KEYS)])
def test_search_finds_what_dovecot_finds(compared: Compared, criteria: str) -> None:
    ours, dovecot = found(compared, criteria)
    assert ours == dovecot


@pytest.mark.parametrize("criteria", [c for c in harness.SEARCHES if c.startswith(SENT_KEYS)])
def test_search_sent_keys_differ_from_dovecot_only_on_messages_without_a_date(
    compared: Compared, undated: set[str], criteria: str
) -> None:
    ours, dovecot = found(compared, criteria)
    assert isinstance(ours, set) and isinstance(dovecot, set), (ours, dovecot)
    assert ours - dovecot == set()
    assert dovecot - ours <= undated
    assert not ours & undated
