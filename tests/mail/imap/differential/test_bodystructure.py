"""BODYSTRUCTURE, BODY and every body section identical to Dovecot 2.3's (issue 16), on
the shared corpus, the malformed messages, the MIME corners of our own making and 150
messages put together at random from the pieces that make parsers disagree: a client
that moves from Dovecot to us sees the same parts, sizes and bytes.

The ENVELOPE inside a message/rfc822 part is left to the ENVELOPE comparison: both are
written by the same code (:func:`hexagone.mail.mime.envelope_of`). Where an RFC says
Dovecot is wrong, the difference would be listed in ``docs/mail-dovecot-differences.md``
("BODYSTRUCTURE and sections"); there is none today.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.mail.imap.differential import harness
from tests.mail.imap.differential.conftest import Compared
from tests.mail.imap.differential.mime_cases import generated

pytestmark = pytest.mark.usefixtures("migrated")

NAMES = [mail.name for mail in harness.messages()]
GENERATED = [f"generated/{name}" for name in generated()]
WHOLE = ("RFC822.SIZE", "BODY[HEADER]", "BODY[TEXT]", "BODY[1]")


def without_embedded_envelopes(value: Any) -> Any:
    """A BODYSTRUCTURE or BODY with the ENVELOPE of each message/rfc822 part set aside."""
    if not isinstance(value, list):
        return value
    is_message = len(value) > 8 and [v.lower() if isinstance(v, bytes) else v for v in value[:2]] == [
        b"message",
        b"rfc822",
    ]
    return [
        "ENVELOPE" if is_message and index == 7 else without_embedded_envelopes(item)
        for index, item in enumerate(value)
    ]


def test_differential_runs_on_the_corpus_and_our_corners() -> None:
    assert sum(name.startswith("stalwart-mail-parser/") for name in NAMES) > 100
    assert sum(name.startswith("mime/") for name in NAMES) > 40


def same_structure(compared: Compared, item: str, name: str) -> None:
    ours, dovecot = compared.ours.items[item][name], compared.dovecot.items[item][name]
    assert dovecot is not None
    assert without_embedded_envelopes(ours) == without_embedded_envelopes(dovecot)


def same_sections(compared: Compared, name: str) -> None:
    """The whole message's header, text and size, part 1, and for every part Dovecot
    names: the part, its MIME header, and an embedded message's HEADER and TEXT."""
    for item in WHOLE:
        assert compared.ours.items[item][name] == compared.dovecot.items[item][name], item
    assert compared.dovecot.sections[name]
    assert compared.ours.sections[name] == compared.dovecot.sections[name]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("item", ["BODYSTRUCTURE", "BODY"])
def test_bodystructure_of_each_message_is_dovecots(compared: Compared, item: str, name: str) -> None:
    same_structure(compared, item, name)


@pytest.mark.parametrize("name", NAMES)
def test_sections_of_each_message_are_dovecots(compared: Compared, name: str) -> None:
    same_sections(compared, name)


@pytest.mark.parametrize("name", GENERATED)
def test_bodystructure_and_sections_of_generated_messages_are_dovecots(compared_generated: Compared, name: str) -> None:
    for item in ("BODYSTRUCTURE", "BODY"):
        same_structure(compared_generated, item, name)
    same_sections(compared_generated, name)
