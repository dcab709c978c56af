"""Comparators (RFC 4790 as RFC 5228 2.7.3 uses them: ``i;octet``, ``i;ascii-casemap``,
``i;ascii-numeric``) and match types (``:is``, ``:contains``, ``:matches``, and RFC 5231's
``:value``/``:count`` with a relation)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hexagone.mail.sieve.grammar import SieveError

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
RELATIONS = ("gt", "ge", "lt", "le", "eq", "ne")


class Comparator:
    """How two strings compare: equality, substring, ordering, and a glob."""

    def __init__(self, name: str) -> None:
        if name not in ("i;octet", "i;ascii-casemap", "i;ascii-numeric"):
            raise SieveError(f'unsupported comparator "{name}"')
        self.name = name

    def fold(self, value: str) -> str:
        return value.translate(_ASCII_LOWER) if self.name == "i;ascii-casemap" else value

    def numeric(self, value: str) -> float:
        """RFC 4790 9.1: the leading digits; none is positive infinity."""
        digits = re.match(r"\d+", value)
        return int(digits[0]) if digits else float("inf")

    def order(self, left: str, right: str) -> int:
        if self.name == "i;ascii-numeric":
            a, b = self.numeric(left), self.numeric(right)
        else:
            a, b = self.fold(left), self.fold(right)  # type: ignore[assignment]
        return (a > b) - (a < b)

    def contains(self, value: str, key: str) -> bool:
        if self.name == "i;ascii-numeric":
            raise SieveError("i;ascii-numeric cannot do :contains or :matches")
        return self.fold(key) in self.fold(value)

    def matches(self, value: str, key: str) -> bool:
        if self.name == "i;ascii-numeric":
            raise SieveError("i;ascii-numeric cannot do :contains or :matches")
        return _glob(self.fold(key)).fullmatch(self.fold(value)) is not None


def _glob(pattern: str) -> re.Pattern[str]:
    """RFC 5228 2.7.1: ``*`` any run, ``?`` one character, a backslash quotes the next."""
    out, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


def _related(order: int, relation: str) -> bool:
    return {
        "gt": order > 0,
        "ge": order >= 0,
        "lt": order < 0,
        "le": order <= 0,
        "eq": order == 0,
        "ne": order != 0,
    }[relation]


def test(tags: dict[str, object], values: Sequence[str], keys: Sequence[str]) -> bool:
    """Whether any value matches any key under the match type and comparator in ``tags``
    (RFC 5228 2.7: a test is true when one pair matches; ``:count`` counts the values)."""
    comparator = Comparator(str(tags.get(":comparator") or "i;ascii-casemap"))
    if ":count" in tags:
        relation = str(tags[":count"]).lower()
        return any(_related(comparator.order(str(len(values)), key), relation) for key in keys)
    if ":value" in tags:
        relation = str(tags[":value"]).lower()
        return any(_related(comparator.order(v, k), relation) for v in values for k in keys)
    if ":contains" in tags:
        return any(comparator.contains(v, k) for v in values for k in keys)
    if ":matches" in tags:
        return any(comparator.matches(v, k) for v in values for k in keys)
    return any(comparator.order(v, k) == 0 for v in values for k in keys)
