"""The Sieve script of the webmail: rules made of conditions and actions (the rules page,
no Sieve knowledge needed) and the vacation reply of the settings page, written as one
script that anyone may read, and read back.

Each rule is written after a comment holding it as JSON (``# rule: {...}``), so that the
page can show the rules again without guessing them from Sieve. :func:`rules_of` trusts
a script only when writing those rules again gives exactly the same text: a script
edited by hand (with a ManageSieve client) is never silently rewritten, the page says so.

The vacation block comes first: like Gmail's and Exchange's automatic replies, it
answers whatever the rules then do with the message (file it, or ``stop``).
Pure code: no storage, no translation (the service checks what users typed)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date

FIELDS = ("from", "recipient", "subject", "body", "size")
TEXT_OPERATORS = ("contains", "not_contains", "is", "matches")
SIZE_OPERATORS = ("over", "under")
ACTIONS = ("fileinto", "copyinto", "read", "flag", "redirect", "redirect_copy", "discard")
VACATION_DAYS = 7  # one reply per sender a week, the responder's rule before Sieve (RFC 3834 4)

HEADER = "# Written by the webmail's rules page and settings. Edited by hand, it is no longer shown as rules there.\n"
_RULE = re.compile(r"^# rule: (\{.*\})$", re.MULTILINE)


@dataclass(frozen=True)
class Condition:
    """``field`` (:data:`FIELDS`) compared with ``value`` by ``operator``
    (:data:`TEXT_OPERATORS`, or :data:`SIZE_OPERATORS` with a size in kilobytes)."""

    field: str
    operator: str
    value: str


@dataclass(frozen=True)
class Action:
    """One of :data:`ACTIONS`; ``value`` is the folder or the address where one is needed."""

    kind: str
    value: str = ""


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]
    match_all: bool = True
    stop: bool = True  # later rules are not tried for a message this rule took


@dataclass(frozen=True)
class VacationSettings:
    """The settings page's automatic reply: what to answer, until which day (included)."""

    body: str
    subject: str = ""
    until: date | None = None


@dataclass
class _Script:
    requires: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)


def quote(value: str) -> str:
    """A Sieve quoted string (RFC 5228 2.4.2)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _multiline(value: str) -> str:
    """A Sieve ``text:`` string (RFC 5228 2.4.2): a line starting with a dot gets another."""
    lines = value.replace("\r\n", "\n").split("\n")
    return "text:\n" + "".join(("." + line if line.startswith(".") else line) + "\n" for line in lines) + ".\n"


_HEADERS = {"from": '"from"', "recipient": '["to", "cc"]', "subject": '"subject"'}


def _test(condition: Condition, out: _Script) -> str:
    if condition.field == "size":
        return f"size :{condition.operator} {int(condition.value)}K"
    negate = condition.operator == "not_contains"
    match = ":contains" if negate else f":{condition.operator}"
    if condition.field == "body":
        out.requires.add("body")
        test = f"body :text {match} {quote(condition.value)}"
    else:
        # "is" compares the address alone (not the display name), as a user means it
        kind = "address" if condition.operator == "is" and condition.field != "subject" else "header"
        test = f"{kind} {match} {_HEADERS[condition.field]} {quote(condition.value)}"
    return f"not {test}" if negate else test


def _actions(rule: Rule, out: _Script) -> list[str]:
    lines = []
    for flag, kind in (("\\\\Seen", "read"), ("\\\\Flagged", "flag")):
        if any(a.kind == kind for a in rule.actions):
            out.requires.add("imap4flags")
            lines.append(f'addflag "{flag}";')
    for action in rule.actions:
        if action.kind in ("fileinto", "copyinto"):
            out.requires.add("fileinto")
            copy = ""
            if action.kind == "copyinto":
                out.requires.add("copy")
                copy = ":copy "
            lines.append(f"fileinto {copy}{quote(action.value)};")
        elif action.kind in ("redirect", "redirect_copy"):
            copy = ""
            if action.kind == "redirect_copy":
                out.requires.add("copy")
                copy = ":copy "
            lines.append(f"redirect {copy}{quote(action.value)};")
        elif action.kind == "discard":
            lines.append("discard;")
    if rule.stop:
        lines.append("stop;")
    return lines


def _rule(rule: Rule, out: _Script) -> None:
    tests = [_test(c, out) for c in rule.conditions]
    if len(tests) == 1:
        condition = tests[0]
    else:
        condition = f"{'allof' if rule.match_all else 'anyof'} ({', '.join(tests)})"
    out.lines.append("# rule: " + json.dumps(asdict(rule), ensure_ascii=False, sort_keys=True))
    out.lines.append(f"if {condition} {{")
    out.lines += [f"    {line}" for line in _actions(rule, out)]
    out.lines.append("}")


def _vacation(vacation: VacationSettings, out: _Script) -> None:
    out.requires.add("vacation")
    subject = f":subject {quote(vacation.subject)} " if vacation.subject else ""
    action = f"vacation :days {VACATION_DAYS} {subject}{_multiline(vacation.body)};"
    out.lines.append("# vacation (settings page)")
    if vacation.until is None:
        out.lines.append(action)
        return
    out.requires.update(("date", "relational"))
    out.lines.append(f'if currentdate :value "le" "date" {quote(vacation.until.isoformat())} {{')
    out.lines.append(action)
    out.lines.append("}")


def script(rules: list[Rule], vacation: VacationSettings | None) -> str:
    """The webmail's script: the vacation reply (if any), then the rules in their order."""
    out = _Script()
    if vacation is not None:
        _vacation(vacation, out)
    for rule in rules:
        _rule(rule, out)
    requires = f"require [{', '.join(quote(r) for r in sorted(out.requires))}];\n" if out.requires else ""
    return HEADER + requires + "".join(line + "\n" for line in out.lines)


def rules_of(content: str, vacation: VacationSettings | None) -> list[Rule] | None:
    """The rules ``content`` was written from, or None when it is not exactly what
    :func:`script` writes for them (edited by hand, or not the webmail's)."""
    try:
        rules = [_rule_from(json.loads(found)) for found in _RULE.findall(content)]
    except (ValueError, TypeError, KeyError):
        return None
    return rules if script(rules, vacation) == content else None


def _rule_from(data: dict[str, object]) -> Rule:
    conditions = data["conditions"]
    actions = data["actions"]
    if not isinstance(conditions, list) or not isinstance(actions, list):
        raise TypeError("not a rule")
    return Rule(
        name=str(data["name"]),
        conditions=tuple(Condition(**c) for c in conditions),
        actions=tuple(Action(**a) for a in actions),
        match_all=bool(data["match_all"]),
        stop=bool(data["stop"]),
    )
