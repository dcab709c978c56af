"""How the servers log what they did not expect (an IMAP command, an SMTP transaction,
a page): one line per failure, never the exception's text.

A database error's text holds the whole SQL statement and its parameters, and the
parameters of a SEARCH, an APPEND or a form are message content or personal data (an
IMAP search of 5,000 keys once wrote 300 KB of it per command). The line names the command, the exception's type and
where it was raised (file and line of the innermost frame), which is what it takes to
find the bug, and no value the client sent or the mailbox holds.
"""

from __future__ import annotations

import logging
import os
from types import TracebackType

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


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """Log that ``what`` failed (e.g. ``"IMAP a12 SEARCH"``), as one line without the
    error's text."""
    cause = error.__cause__ or error.__context__
    caused_by = f" (from {type(cause).__name__} at {where(cause)})" if cause is not None else ""
    log.error("%s failed: %s at %s%s", what, type(error).__name__, where(error), caused_by)
