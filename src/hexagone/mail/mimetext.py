"""Tags out of mail HTML for the text extract (search and preview), in linear time.

The rule is the regular expression ``<(script|style)\\b.*?</\\1\\s*>|<[^>]*>`` (a script or
style block, else any tag) replaced by a space, and :func:`strip_tags` gives exactly what
``re.sub`` with it gives. Run directly, that expression is quadratic on hostile input: every
``<style`` with no closing tag after it, and every ``<`` with no ``>`` after it, makes the
engine scan to the end of the text (a 40 KB HTML part of ``<style>`` took 3.7 s, a
megabyte would take most of an hour, for a message anyone may send to port 25). Here each
such hopeless attempt is made at most once per distinct opening text.
"""

from __future__ import annotations

import re

_BLOCK = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_OPENER = re.compile(r"<(script|style)\b", re.I)


def strip_tags(html: str) -> str:
    """``html`` with each script or style block and each tag replaced by a space."""
    pieces: list[str] = []
    last_close = html.rfind(">")
    hopeless: dict[str, int] = {}  # opening text → from where no closing tag follows it
    pos = start = 0
    while -1 < (pos := html.find("<", pos)) < last_close:  # both forms end with a ``>``
        end = _block_end(html, pos, hopeless)
        if end is None:
            end = html.find(">", pos) + 1  # ``<[^>]*>``: up to the first ``>``
        pieces += (html[start:pos], " ")
        pos = start = end
    pieces.append(html[start:])
    return "".join(pieces)


def _block_end(html: str, pos: int, hopeless: dict[str, int]) -> int | None:
    """Where the script or style block opening at ``pos`` ends, if it is one that closes.
    A search that fails has scanned to the end of the text: the same opening text found
    later has even less text after it, so it is not searched again."""
    opener = _OPENER.match(html, pos)
    if opener is None or pos >= hopeless.get(opener.group(1), len(html) + 1):
        return None
    block = _BLOCK.match(html, pos)
    if block is None:
        hopeless[opener.group(1)] = pos
        return None
    return block.end()
