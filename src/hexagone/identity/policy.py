"""The identity module's ability rules, registered with the core policy.

Org admins manage everything in their organisation. In a space, owners and managers
manage members; members write; readers read; guests see only the spaces they belong to.
"""

from __future__ import annotations

from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.identity.models import Group, Space, SpaceRole, User


@policy.rule(Space)
def space_abilities(principal: Principal, space: Space) -> dict[str, bool]:
    role = principal.space_roles.get(space.id)
    admin = principal.is_admin
    manages = admin or role in (SpaceRole.OWNER, SpaceRole.MANAGER)
    return {
        "view": admin or role is not None,
        "write": admin or role in (SpaceRole.OWNER, SpaceRole.MANAGER, SpaceRole.MEMBER),
        "manage_members": manages,
        "edit": manages,
        "archive": admin or role == SpaceRole.OWNER,
    }


@policy.rule(User)
def user_abilities(principal: Principal, user: User) -> dict[str, bool]:
    admin = principal.is_admin
    myself = principal.user_id == user.id
    return {
        "view": admin or myself or not principal.is_guest,
        "edit": admin or myself,
        "disable": admin and not myself,
        "reset_mfa": admin,
    }


@policy.rule(Group)
def group_abilities(principal: Principal, _group: Group) -> dict[str, bool]:
    return {"view": not principal.is_guest, "edit": principal.is_admin}
