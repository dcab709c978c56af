"""The webmail's script: written from rules and the vacation settings, parsed by the
grammar delivery uses, and read back only when it is exactly what was written."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from hexagone.mail.sieve import INBOX, Envelope, parse, run
from hexagone.mail.sieve.generate import (
    ACTIONS,
    SIZE_OPERATORS,
    TEXT_OPERATORS,
    Action,
    Condition,
    Rule,
    VacationSettings,
    rules_of,
    script,
)

AWAY = VacationSettings(body="Absent.\n.Signé : Bob", subject='Réponse "auto"', until=date(2026, 12, 31))
MESSAGE = b"From: shop@example.net\r\nTo: bob@example.org\r\nSubject: Votre facture\r\n\r\nMontant: 12 EUR\r\n"


def invoices(**change: object) -> Rule:
    rule = Rule(
        "Factures",
        (Condition("subject", "contains", "facture"),),
        (Action("fileinto", 'Compta "2026"'), Action("read")),
    )
    return Rule(**{**rule.__dict__, **change})  # type: ignore[arg-type]


def test_generated_script_reads_back_the_same_rules() -> None:
    rules = [invoices(), invoices(name="Autre", match_all=False, stop=False)]
    assert rules_of(script(rules, AWAY), AWAY) == rules


def test_script_edited_by_hand_is_not_read_back() -> None:
    written = script([invoices()], None)
    assert rules_of(written.replace("stop;", "keep;"), None) is None
    assert rules_of('require "fileinto"; fileinto "A";', None) is None
    assert rules_of(written, AWAY) is None, "written without the vacation: not this text with it"


@pytest.mark.parametrize(
    ("field", "operator", "value"),
    [
        *((f, o, "x") for f, o in itertools.product(("from", "recipient", "subject", "body"), TEXT_OPERATORS)),
        *(("size", o, "10") for o in SIZE_OPERATORS),
    ],
)
def test_every_condition_writes_a_script_the_grammar_accepts(field: str, operator: str, value: str) -> None:
    for kind in ACTIONS:
        action = Action(
            kind, "dave@example.org" if kind.startswith("redirect") else "Archive" if "into" in kind else ""
        )
        parse(script([Rule("r", (Condition(field, operator, value),), (action,))], AWAY))


def test_generated_rule_files_and_flags_as_it_says() -> None:
    nodes = parse(script([invoices()], None))
    verdict = run(nodes, MESSAGE, Envelope("shop@example.net", "bob@example.org"))
    assert verdict.folders == {'Compta "2026"': ["\\Seen"]}


def test_generated_vacation_is_dot_stuffed_quoted_and_ends_after_its_last_day() -> None:
    nodes = parse(script([], AWAY))
    during = run(nodes, MESSAGE, Envelope("a@example.net", "bob@example.org"), now=datetime(2026, 12, 31, tzinfo=UTC))
    after = run(nodes, MESSAGE, Envelope("a@example.net", "bob@example.org"), now=datetime(2027, 1, 1, tzinfo=UTC))
    assert during.vacation is not None
    assert during.vacation.reason == "Absent.\n.Signé : Bob\n" and during.vacation.subject == 'Réponse "auto"'
    assert after.vacation is None and after.folders == {INBOX: []}


def test_vacation_comes_before_the_rules_so_that_stop_does_not_silence_it() -> None:
    written = script([invoices()], VacationSettings("Absent."))
    verdict = run(parse(written), MESSAGE, Envelope("shop@example.net", "bob@example.org"))
    assert verdict.vacation is not None and INBOX not in verdict.folders
