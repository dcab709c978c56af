"""Who may do what with a drive's folders and files, decided here and nowhere else
(pages, WebDAV, the API, jobs and other modules all go through the service, which calls
:func:`hexagone.core.policy.require` on a :class:`Reach`).

- The owner of a personal drive manages it.
- A space's members reach its drive by their space role: owners and managers manage it,
  members edit, readers read. Guests reach files only this way, through their spaces.
- A share gives its role (reader, editor, manager) on a node and everything under it to a
  user, the members of a group or the members of a space.
- An administrator gets nothing more on other people's files (their privacy is not the
  administrator's to open); quotas and settings are theirs.
- Another organisation's drive: nothing at all (the core policy answers 404 first).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.drive.models import Drive, DriveKind, Node, Role

RANK: dict[str | None, int] = {None: 0, "": 0, Role.READER: 1, Role.EDITOR: 2, Role.MANAGER: 3}
ROLES = (Role.READER, Role.EDITOR, Role.MANAGER)
# What a space role gives on the space's drive.
_SPACE_RANK = {"owner": 3, "manager": 3, "member": 2, "reader": 1}


@dataclass(frozen=True)
class Reach:
    """A node as a principal reaches it, loaded once by the service with the node: its
    drive, and ``shared``, the highest role that shares on the node or one of its folders
    give the principal (None without a share)."""

    drive: Drive
    node: Node
    shared: str | None = None

    @property
    def org_id(self) -> uuid.UUID:  # core.policy compares organisations
        return self.drive.org_id


def own_rank(principal: Principal, drive: Drive) -> int:
    """What the principal's place gives on the whole drive, shares aside."""
    if drive.kind == DriveKind.PERSONAL:
        return RANK[Role.MANAGER] if drive.owner_id == principal.user_id and not principal.is_guest else 0
    if drive.space_id is not None and drive.space_id in principal.space_roles:
        return _SPACE_RANK.get(principal.space_roles[drive.space_id], 0)
    return 0


def granted(principal: Principal, reach: Reach) -> int:
    """The principal's rank on the node (0: none, 1 reader, 2 editor, 3 manager)."""
    return max(own_rank(principal, reach.drive), RANK.get(reach.shared, 0))


def role_name(rank: int) -> str:
    return {0: "", 1: Role.READER, 2: Role.EDITOR, 3: Role.MANAGER}[rank]


@policy.rule(Reach)
def node_abilities(principal: Principal, reach: Reach) -> dict[str, bool]:
    rank = granted(principal, reach)
    return {
        "view": rank >= 1,
        "read": rank >= 1,
        "write": rank >= 2,
        "manage": rank >= 3,
        "share": rank >= 3 and not principal.is_guest,
    }
