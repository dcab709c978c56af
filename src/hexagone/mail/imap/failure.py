"""How the IMAP server logs what it did not expect: one line per failure, never the
exception's text.

A database error's text holds the whole SQL statement and its parameters, and the
parameters of a SEARCH or an APPEND are message content (a search of 5,000 keys once
wrote 300 KB of it per command). The line names the command, the exception's type and
where it was raised (file and line of the innermost frame), which is what it takes to
find the bug, and no value the client sent or the mailbox holds.
"""

from __future__ import annotations

import logging
import os
from types import TracebackType

log = logging.getLogger("hexagone.mail.imap")


_OURS = os.sep + "hexagone" + os.sep


def where(error: BaseException) -> str:
    """``file.py:123`` of the innermost frame of our own code that ``error`` went
    through (a library's frame says less), then of the frame that raised it."""
    ours = last = None
    trace = error.__traceback__
    while trace is not None:
        last = trace
        if _OURS in trace.tb_frame.f_code.co_filename:
            ours = trace
        trace = trace.tb_next
    if last is None:
        return "?"
    if ours is None or ours is last:
        return _place(last)
    return f"{_place(ours)}, raised in {_place(last)}"


def _place(trace: TracebackType) -> str:
    return f"{os.path.basename(trace.tb_frame.f_code.co_filename)}:{trace.tb_lineno}"


def log_failure(what: str, error: BaseException) -> None:
    """Log ``what`` failed (e.g. ``"a12 SEARCH"``), as one line without the error's text."""
    cause = error.__cause__ or error.__context__
    caused_by = f" (from {type(cause).__name__} at {where(cause)})" if cause is not None else ""
    log.error("IMAP %s failed: %s at %s%s", what, type(error).__name__, where(error), caused_by)
