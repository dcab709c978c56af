"""One IMAP session: the state machine between a client's commands and the server's
replies (RFC 3501 section 3), with no storage code of its own.

Commands are looked up in :data:`COMMANDS` (name → handler, states where it is valid);
handlers live in three command groups by family (:mod:`.commands_auth`,
:mod:`.commands_folders`, :mod:`.commands_messages`), classes over one base
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

from hexagone.core import i18n
from hexagone.core.config import Settings
from hexagone.core.failures import log_failure
from hexagone.mail.imap import messages
from hexagone.mail.imap.arguments import Args
from hexagone.mail.imap.commands_auth import AuthCommands
from hexagone.mail.imap.commands_folders import FolderCommands
from hexagone.mail.imap.commands_messages import MessageCommands
from hexagone.mail.imap.connection import Closed, Connection
from hexagone.mail.imap.parser import Command, CommandError, Continue, Framer, LargeLiteral, Refused
from hexagone.mail.imap.state import State

log = logging.getLogger("hexagone.mail.imap")


ANY = frozenset({State.NOT_AUTHENTICATED, State.AUTHENTICATED, State.SELECTED})
NOT_AUTH = frozenset({State.NOT_AUTHENTICATED})
AUTH = frozenset({State.AUTHENTICATED, State.SELECTED})
SELECTED = frozenset({State.SELECTED})

COMMANDS: dict[str, tuple[str, frozenset[State]]] = {
    "CAPABILITY": ("cmd_capability", ANY),
    "NOOP": ("cmd_noop", ANY),
    "LOGOUT": ("cmd_logout", ANY),
    "ID": ("cmd_id", ANY),
    "STARTTLS": ("cmd_starttls", NOT_AUTH),
    "LOGIN": ("cmd_login", NOT_AUTH),
    "AUTHENTICATE": ("cmd_authenticate", NOT_AUTH),
    "ENABLE": ("cmd_enable", AUTH),
    "SELECT": ("cmd_select", AUTH),
    "EXAMINE": ("cmd_examine", AUTH),
    "CREATE": ("cmd_create", AUTH),
    "DELETE": ("cmd_delete", AUTH),
    "RENAME": ("cmd_rename", AUTH),
    "SUBSCRIBE": ("cmd_subscribe", AUTH),
    "UNSUBSCRIBE": ("cmd_unsubscribe", AUTH),
    "LIST": ("cmd_list", AUTH),
    "LSUB": ("cmd_lsub", AUTH),
    "STATUS": ("cmd_status", AUTH),
    "APPEND": ("cmd_append", AUTH),
    "NAMESPACE": ("cmd_namespace", AUTH),
    "GETQUOTAROOT": ("cmd_getquotaroot", AUTH),
    "GETQUOTA": ("cmd_getquota", AUTH),
    "SETQUOTA": ("cmd_setquota", AUTH),
    "IDLE": ("cmd_idle", AUTH),
    "CHECK": ("cmd_noop", SELECTED),
    "CLOSE": ("cmd_close", SELECTED),
    "UNSELECT": ("cmd_unselect", SELECTED),
    "EXPUNGE": ("cmd_expunge", SELECTED),
    "UID EXPUNGE": ("cmd_uid_expunge", SELECTED),
    "SEARCH": ("cmd_search", SELECTED),
    "UID SEARCH": ("cmd_uid_search", SELECTED),
    "FETCH": ("cmd_fetch", SELECTED),
    "UID FETCH": ("cmd_uid_fetch", SELECTED),
    "STORE": ("cmd_store", SELECTED),
    "UID STORE": ("cmd_uid_store", SELECTED),
    "COPY": ("cmd_copy", SELECTED),
    "UID COPY": ("cmd_uid_copy", SELECTED),
    "MOVE": ("cmd_move", SELECTED),
    "UID MOVE": ("cmd_uid_move", SELECTED),
}
NO_EXPUNGE_AFTER = frozenset({"FETCH", "STORE", "SEARCH"})  # RFC 3501 7.4.1
AUTOLOGOUT_SECONDS = 30 * 60
LOGIN_SECONDS = 3 * 60
PRE_AUTH_LITERAL = 8 * 1024
COMMAND_LITERAL = 1024 * 1024
MAX_BAD_COMMANDS = 20  # consecutive BAD answers before the session is closed


class Session(AuthCommands, FolderCommands, MessageCommands):
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
        i18n.set_language("en")  # service messages reach the client in the protocol's language
        try:
            self.send(b"* OK [CAPABILITY %b] Hexagone IMAP ready\r\n" % self.capabilities().encode())
            await self.conn.flush()
            while self.state != State.LOGOUT:
                try:
                    async with asyncio.timeout(self.timeout):
                        event = await self.conn.next_event()
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
                if self.bad_commands >= MAX_BAD_COMMANDS:
                    self.send(b"* BYE Too many invalid commands\r\n")
                    break
                await self.conn.flush()
        except Closed:
            pass
        except Exception as error:  # the last guard: one broken session never takes others down
            log_failure(log, "IMAP session", error)
        finally:
            self.literal_permit.give_back()
            self.deselect()
            self.conn.close()

    async def execute(self, command: Command) -> None:
        entry = COMMANDS.get(command.name)
        if entry is None:
            self.send(b"%b BAD Unknown command\r\n" % command.tag.encode())
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


def _safe(text: str) -> bytes:
    """Response text as one line of printable ASCII."""
    return "".join(c if 0x20 <= ord(c) < 0x7F else "?" for c in text).encode()
