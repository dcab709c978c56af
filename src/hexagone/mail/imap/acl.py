"""IMAP ACL (RFC 4314) over Hexagone's sharing model, for the ACL commands of
:mod:`.commands_acl`.

Hexagone does not keep an access control list per folder: a mailbox belongs to its owner,
who may delegate it to colleagues (read, or read and write), and a shared mailbox's members
are set by the organisation's administrators. Rights are therefore the core policy's
abilities on the whole mailbox (:mod:`hexagone.mail.policy`), spelled as RFC 4314 rights:

- view: ``lr`` (see and read; a read-only grant cannot even keep ``\\Seen``);
- write: ``wstipekx`` more, tied together (flags, append, folders, expunge), with the
  virtual ``c`` and ``d`` that RFC 4314 2.1.1 requires when their members are granted;
- manage: ``a``, which only the owner has and no SETACL can give.

So the ACL of every folder of a mailbox is the same, and a SETACL or DELETEACL on one
folder changes them all: RFC 4314 5.1.1 allows that side effect if the server reports it
with untagged ACL responses, which :mod:`.commands_acl` sends. A change that does not fit
(some rights of a tied set, ``a``, ``anyone``, negative rights) is refused with a NO that
names the sets, never approximated: nothing is granted that was not asked for.
"""

from __future__ import annotations

from hexagone.mail.imap.parser import CommandError

READ = "lr"
WRITE = "wstipekxcd"  # tied together, and to READ: write access is read access too
ADMIN = "a"
OWNER = "lrwstipekxacd"  # Dovecot's spelling of every right
ALL = set(READ + WRITE + ADMIN)
VIRTUAL = {"c": "kx", "d": "xte"}  # RFC 4314 2.1.1: the RFC 2086 rights, expanded
CAPABILITIES = ("ACL", "RIGHTS=texk")


def rights_of(abilities: dict[str, bool]) -> str:
    """The rights the core policy's abilities on a mailbox amount to."""
    if abilities.get("manage"):
        return OWNER
    if abilities.get("write"):
        return READ + WRITE
    return READ if abilities.get("view") else ""


def _expanded(rights: str) -> set[str]:
    unknown = sorted(set(rights) - ALL)
    if unknown:  # RFC 4314 3.1: an unknown right is BAD, never silently ignored
        raise CommandError(f"Invalid ACL right: {unknown[0]}")
    found = set(rights)
    for virtual, members in VIRTUAL.items():
        if virtual in found:
            found |= set(members)
    return found


def cannot(message: str) -> CommandError:
    return CommandError(message, status="NO", code="CANNOT")


def grant_after(current: str, change: str) -> bool | None:
    """The grant a SETACL ``change`` (``+rights``, ``-rights`` or ``rights``) leaves to an
    identifier that has ``current``: None for no access, False for read, True for read
    and write. Anything else cannot be represented and is refused."""
    mode, rights = (change[0], change[1:]) if change[:1] in ("+", "-") else ("=", change)
    asked = _expanded(rights)
    held = _expanded(current)
    result = held | asked if mode == "+" else held - asked if mode == "-" else asked
    if ADMIN in result:
        raise cannot("Only the owner administers a mailbox: the a right cannot be given")
    real = result - set(VIRTUAL)
    if not real:
        return None
    if real == set(READ):
        return False
    if real == set(READ + WRITE) - set(VIRTUAL):
        return True
    raise cannot(f"Rights are given in whole sets: {READ} to read, {READ}{WRITE} to read and write")
