"""Sizes as people type them in a form (:func:`hexagone.core.forms.size`) and as a form
shows them back (:func:`hexagone.core.formatting.exact_size`): what is shown reads back
to the same bytes, and nonsense is a message, never a guess."""

from __future__ import annotations

import pytest

from hexagone.core.exceptions import Invalid
from hexagone.core.formatting import exact_size
from hexagone.core.forms import size
from hexagone.core.i18n import set_language

KIB = 1024


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", None),
        ("  ", None),
        ("0", 0),
        ("500 MB", 500 * KIB**2),
        ("1,5 Go", 1536 * KIB**2),
        ("1.5 GiB", 1536 * KIB**2),
        ("2gb", 2 * KIB**3),
        (" 10 To ", 10 * KIB**4),
        ("1\u202f024 Mo", KIB**3),  # French grouping, as a page shows thousands
        ("3 octets", 3),
        ("7 bytes", 7),
        ("64 K", 64 * KIB),
    ],
)
def test_size_typed_with_its_unit_is_read_in_bytes(typed: str, expected: int | None) -> None:
    assert size(typed) == expected


@pytest.mark.parametrize("typed", ["-1 GB", "abc", "12", "1e9 GB", "5 XB", "GB", "1,2,3 MB", "1" * 20 + " MB"])
def test_size_that_is_not_one_is_refused_with_a_message(typed: str) -> None:
    with pytest.raises(Invalid):
        size(typed)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("value", [0, 1, 1000, KIB, 1536 * KIB**2, 10 * KIB**3, 2 * KIB**4, KIB**4 + 1])
def test_exact_size_reads_back_to_the_same_bytes(language: str, value: int) -> None:
    set_language(language)
    assert size(exact_size(value)) == value
