"""Who may do what in a conversation, decided here and nowhere else (pages, the
WebSocket, the API and jobs go through the service, which calls
:func:`hexagone.core.policy.require` on a :class:`Reach`).

- A space's ``#général``: its members by their space role (owners and managers manage
  it, members post, readers read); guests are members of their spaces like anyone.
- A public channel: every member of the organisation except guests may read it and join
  it; its members post; its managers (and the organisation's administrators) manage it.
- A private channel and a direct conversation: their members only. An administrator gets
  nothing more there: people's conversations are not the administrator's to read.
- An archived channel is read-only. Another organisation's: nothing at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hexagone.chat.models import Channel, ChannelKind, Member, MemberRole
from hexagone.core import policy
from hexagone.core.auth import Principal

_SPACE_POSTERS = ("owner", "manager", "member")
_SPACE_MANAGERS = ("owner", "manager")


@dataclass(frozen=True)
class Reach:
    """A channel as a principal reaches it: the channel and their member row (None when
    they have none: a space's channel not opened yet, a public channel not joined)."""

    channel: Channel
    member: Member | None

    @property
    def org_id(self) -> uuid.UUID:  # core.policy compares organisations
        return self.channel.org_id


def _space_abilities(principal: Principal, channel: Channel) -> dict[str, bool]:
    role = principal.space_roles.get(channel.space_id) if channel.space_id else None
    return {"view": role is not None, "post": role in _SPACE_POSTERS, "manage": role in _SPACE_MANAGERS}


@policy.rule(Reach)
def channel_abilities(principal: Principal, reach: Reach) -> dict[str, bool]:
    channel, member = reach.channel, reach.member
    if channel.kind == ChannelKind.SPACE:
        granted = _space_abilities(principal, channel)
    else:
        joined = member is not None
        manager = joined and member.role == MemberRole.MANAGER  # type: ignore[union-attr]
        public = channel.kind == ChannelKind.PUBLIC
        granted = {
            "view": joined or (public and not principal.is_guest),
            "post": joined,
            "manage": channel.kind != ChannelKind.DIRECT and (manager or (public and principal.is_admin)),
        }
        granted["join"] = public and not joined and not principal.is_guest
        granted["leave"] = joined and channel.kind != ChannelKind.DIRECT
    if channel.archived_at is not None:
        granted = {"view": granted["view"], "manage": granted["manage"]}
    granted["react"] = granted.get("post", False)
    return granted
