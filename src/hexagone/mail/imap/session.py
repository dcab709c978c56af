"""One IMAP session: the state machine between a client's commands and the server's
replies (RFC 3501 section 3), with no storage code of its own.

Commands are looked up in :attr:`Session.COMMANDS` (name → handler, states where it is
valid), gathered from the command groups by family (:mod:`.commands_auth`,
:mod:`.commands_folders`, :mod:`.commands_append`, :mod:`.commands_messages`,
:mod:`.commands_search`, :mod:`.commands_sort`), classes over one base
(:class:`.command_base.SessionBase`: connection, state, account, selected folder), each
returning the text of its tagged completion and writing its untagged data through
:meth:`SessionBase.send`. Before each tagged completion the session
reports what other sessions changed in the selected folder (EXPUNGE, EXISTS, FETCH
FLAGS), except after FETCH, STORE and SEARCH where RFC 3501 7.4.1 forbids EXPUNGE.

A session that gets :data:`MAX_BAD_COMMANDS` BAD answers in a row is closed with
``* BYE Too many invalid commands``; any other answer starts the count again.

A command that fails for any reason is answered (BAD for syntax, NO for refusals,
``NO [SERVERBUG]`` for a bug, logged as one line without the error's text: see
:mod:`.failure`); the connection and every other session go on.
"""

from __future__ import annotations

import asyncio
import logging
import time

from hexagone.core.config import Settings
from hexagone.core.failures import log_failure
from hexagone.mail.imap import messages
from hexagone.mail.imap.arguments import Args
from hexagone.mail.imap.command_base import REV1_ONLY, SELECTED
from hexagone.mail.imap.commands_acl import AclCommands
from hexagone.mail.imap.commands_append import AppendCommands
from hexagone.mail.imap.commands_auth import AuthCommands
from hexagone.mail.imap.commands_folders import FolderCommands
from hexagone.mail.imap.commands_messages import MessageCommands
from hexagone.mail.imap.commands_notify import NotifyCommands
from hexagone.mail.imap.commands_search import SearchCommands
from hexagone.mail.imap.commands_sort import SortCommands
from hexagone.mail.imap.connection import Closed, Connection, session_guard
from hexagone.mail.imap.parser import Command, CommandError, Continue, Framer, LargeLiteral, Refused
from hexagone.mail.imap.state import State

log = logging.getLogger("hexagone.mail.imap")


# RFC 3501 7.4.1, and RFC 5256 for SORT and THREAD, which answer message numbers as SEARCH does
NO_EXPUNGE_AFTER = frozenset({"FETCH", "STORE", "SEARCH", "SORT", "THREAD"})
AUTOLOGOUT_SECONDS = 30 * 60
LOGIN_SECONDS = 3 * 60
PRE_AUTH_LITERAL = 8 * 1024
COMMAND_LITERAL = 1024 * 1024
MAX_BAD_COMMANDS = 20  # consecutive BAD answers before the session is closed


class Session(
    AuthCommands,
    FolderCommands,
    AclCommands,
    AppendCommands,
    MessageCommands,
    SortCommands,
    SearchCommands,
    NotifyCommands,
):
    """One client's session: the command groups over :class:`.command_base.SessionBase`,
    and the loop that reads commands and dispatches them."""

    def __init__(self, conn: Connection, settings: Settings):
        super().__init__(conn, settings)
        conn.framer = Framer(self.literal_limit)

    # --- the loop --------------------------------------------------------------------

    def literal_limit(self, command: str) -> int:
        if self.state == State.NOT_AUTHENTICATED:
            return PRE_AUTH_LITERAL
        return self.settings.mail_max_message_bytes if command == "APPEND" else COMMAND_LITERAL

    @property
    def timeout(self) -> float:
        return LOGIN_SECONDS if self.state == State.NOT_AUTHENTICATED else AUTOLOGOUT_SECONDS

    async def run(self) -> None:
        async with session_guard(self.conn, log, "IMAP session", before_close=self._release):
            self.send(b"* OK [CAPABILITY %b] Hexagone IMAP ready\r\n" % self.capabilities().encode())
            await self.conn.flush()
            while self.state != State.LOGOUT:
                try:
                    async with asyncio.timeout(self.timeout):
                        event = await self.conn.next_event(self._between_commands)
                except TimeoutError:
                    self.send(b"* BYE Autologout; idle for too long\r\n")
                    break
                if isinstance(event, Continue):
                    self.send(b"+ Ready for literal data\r\n")
                elif isinstance(event, LargeLiteral):
                    await self.conn.flush()
                    await self.literal_permit.take()
                    if event.sync:
                        self.send(b"+ Ready for literal data\r\n")
                else:
                    if isinstance(event, Refused):
                        self.send(event.response)
                        self.count_bad(event.error.status)
                    else:
                        await self.execute(event)
                    self.literal_permit.give_back()
                if self.state != State.LOGOUT and self.conn.framer is not None and self.conn.framer.idle:
                    await self._between_commands()
                if self.bad_commands >= MAX_BAD_COMMANDS:
                    self.send(b"* BYE Too many invalid commands\r\n")
                    break
                await self.conn.flush()

    def _release(self) -> None:
        """Give back what the session holds, however it ended."""
        self.literal_permit.give_back()
        self.stop_notifying()
        self.deselect()

    async def _between_commands(self) -> None:
        """Tell what the session tells unasked (NOTIFY); a failure there is logged and
        the session goes on, as after a failed command."""
        try:
            await self.unsolicited(idling=False)
            await self.conn.flush()
        except messages.FolderGone:
            self.send(b"* BYE The selected mailbox was deleted\r\n")
            await self.conn.flush()
            raise Closed from None
        except Closed:
            raise
        except Exception as error:
            log_failure(log, "IMAP unsolicited responses", error)

    async def execute(self, command: Command) -> None:
        entry = self.COMMANDS.get(command.name)
        if entry is None or (self.rev2 and command.name in REV1_ONLY):
            unknown = b"Unknown command" if entry is None else b"%b is not part of IMAP4rev2" % command.name.encode()
            self.send(b"%b BAD %b\r\n" % (command.tag.encode(), unknown))
            self.count_bad("BAD")
            return
        handler, states = entry
        if self.state not in states:
            text = (
                "No mailbox selected"
                if states == SELECTED and self.state == State.AUTHENTICATED
                else ("Command not valid in this state")
            )
            self.send(b"%b BAD %b\r\n" % (command.tag.encode(), text.encode()))
            self.count_bad("BAD")
            return
        started = time.monotonic()
        try:
            completion = await getattr(self, handler)(command.tag, Args(command.args))
        except CommandError as error:
            completion = error.completion()
        except messages.FolderGone:
            self.send(b"* BYE The selected mailbox was deleted\r\n")
            self.state = State.LOGOUT
            return
        except Closed:
            raise
        except Exception as error:
            log_failure(log, f"IMAP {command.tag[:40]} {command.name}", error)
            completion = "NO [SERVERBUG] Internal server error"
        if completion is not None and self.selected is not None and self.state != State.LOGOUT:
            try:
                await self.report_changes(expunge=command.name not in NO_EXPUNGE_AFTER)
            except messages.FolderGone:
                self.send(b"* BYE The selected mailbox was deleted\r\n")
                self.state = State.LOGOUT
            except Closed:
                raise
            except Exception as error:
                log_failure(log, f"IMAP {command.tag[:40]} {command.name} change report", error)
        elapsed = time.monotonic() - started
        if elapsed > 5:
            log.info("IMAP %s took %.1f s", command.name, elapsed)
        if completion is not None:  # None: the handler answered itself (STARTTLS, APPEND)
            self.send(b"%b %b\r\n" % (command.tag.encode(), _safe(completion)))
            self.count_bad(completion.split(" ", 1)[0])
        else:
            self.bad_commands = 0

    def count_bad(self, status: str) -> None:
        """Count consecutive BAD answers: a client that sends nothing but invalid commands
        is probing or broken, and is disconnected (as SMTP does after 20 errors)."""
        self.bad_commands = self.bad_commands + 1 if status == "BAD" else 0


# every group's commands and capabilities, in the order of the groups
_groups = Session.__mro__[::-1]
Session.COMMANDS = {name: entry for group in _groups for name, entry in vars(group).get("COMMANDS", {}).items()}
Session.CAPABILITIES = tuple(dict.fromkeys(cap for group in _groups for cap in vars(group).get("CAPABILITIES", ())))


def _safe(text: str) -> bytes:
    """Response text as one line of printable ASCII."""
    return "".join(c if 0x20 <= ord(c) < 0x7F else "?" for c in text).encode()
