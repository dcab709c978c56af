"""The states of an IMAP session (RFC 3501 section 3)."""

from __future__ import annotations

import enum


class State(enum.IntEnum):
    NOT_AUTHENTICATED = 0
    AUTHENTICATED = 1
    SELECTED = 2
    LOGOUT = 3
