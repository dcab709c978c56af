"""The one byte range a download serves (core/downloads.py), as RFC 9110 § 14 reads."""

from __future__ import annotations

import pytest

from hexagone.core.downloads import Unsatisfiable, byte_range


@pytest.mark.parametrize(
    ("header", "size", "span"),
    [
        (None, 10, None),
        ("bytes=2-4", 10, (2, 5)),
        ("bytes=7-", 10, (7, 10)),
        ("bytes=-3", 10, (7, 10)),
        ("bytes=-30", 10, (0, 10)),
        ("bytes=5-2", 10, None),  # last before first: ignored, the whole content
        ("bytes=0-1,4-5", 10, None),  # several ranges: the whole content
        ("items=0-1", 10, None),
    ],
)
def test_byte_range_of_a_header_is_the_span_it_asks_or_the_whole(
    header: str | None, size: int, span: tuple[int, int] | None
) -> None:
    assert byte_range(header, size) == span


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=-5", 0), ("bytes=0-", 0)])
def test_byte_range_past_the_end_or_of_nothing_is_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        byte_range(header, size)
