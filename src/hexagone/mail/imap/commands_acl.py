"""The ACL commands (RFC 4314): MYRIGHTS for every folder one sees, and, for the owner of
a mailbox only, GETACL, LISTRIGHTS, SETACL and DELETEACL, which read and change the
mailbox's delegations (see :mod:`.acl` for how rights map onto them). Thunderbird reads
MYRIGHTS to grey out what a read-only shared folder cannot do, and GETACL for the
"Sharing" tab of a folder's properties.

A mailbox the user cannot see answers NONEXISTENT, as everywhere; one they see without
owning it answers NOPERM to all but MYRIGHTS, so nobody learns or changes the delegations
of a mailbox that is not theirs."""

from __future__ import annotations

from typing import ClassVar

from hexagone.mail.imap import acl, wire
from hexagone.mail.imap.account import Acl
from hexagone.mail.imap.arguments import Args
from hexagone.mail.imap.command_base import AUTH, CommandTable, SessionBase
from hexagone.mail.imap.parser import CommandError
from hexagone.mail.service.subscriptions import canonical


def _identifier(args: Args) -> str:
    """RFC 4314 3: an identifier that prepares to nothing is BAD."""
    identifier = args.text("identifier").strip()
    if not identifier:
        raise CommandError("Empty identifier")
    return identifier


class AclCommands(SessionBase):
    COMMANDS: ClassVar[CommandTable] = {
        "MYRIGHTS": ("cmd_myrights", AUTH),
        "GETACL": ("cmd_getacl", AUTH),
        "LISTRIGHTS": ("cmd_listrights", AUTH),
        "SETACL": ("cmd_setacl", AUTH),
        "DELETEACL": ("cmd_deleteacl", AUTH),
    }
    CAPABILITIES: ClassVar[tuple[str, ...]] = acl.CAPABILITIES

    async def cmd_myrights(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name = args.mailbox()
        args.end()
        rights = await self.account.my_rights(name)
        self.send(b"* MYRIGHTS %b %b\r\n" % (wire.mailbox(name), wire.astring(rights)))
        return "OK MYRIGHTS completed"

    async def cmd_getacl(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name = args.mailbox()
        args.end()
        self._send_acl(name, await self.account.get_acl(name))
        return "OK GETACL completed"

    async def cmd_listrights(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name, identifier = args.mailbox(), _identifier(args)
        args.end()
        sets = await self.account.list_rights(name, identifier)
        listed = b" ".join(wire.astring(rights) for rights in sets)
        self.send(b"* LISTRIGHTS %b %b %b\r\n" % (wire.mailbox(name), wire.astring(identifier), listed))
        return "OK LISTRIGHTS completed"

    async def cmd_setacl(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name, identifier, change = args.mailbox(), _identifier(args), args.text("rights")
        args.end()
        self._send_side_effects(name, await self.account.set_acl(name, identifier, change))
        return "OK SETACL completed"

    async def cmd_deleteacl(self, tag: str, args: Args) -> str:
        assert self.account is not None
        name, identifier = args.mailbox(), _identifier(args)
        args.end()
        self._send_side_effects(name, await self.account.set_acl(name, identifier, None))
        return "OK DELETEACL completed"

    def _send_acl(self, name: str, found: Acl) -> None:
        pairs = b" ".join(b"%b %b" % (wire.astring(who), wire.astring(rights)) for who, rights in found.entries)
        self.send(b"* ACL %b %b\r\n" % (wire.mailbox(name), pairs))

    def _send_side_effects(self, name: str, found: Acl) -> None:
        """RFC 4314 5.1.1: the change reached every folder of the mailbox; the client hears
        of each other one."""
        for folder in found.folders:
            if folder != canonical(name):
                self._send_acl(folder, found)
