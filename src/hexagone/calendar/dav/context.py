"""What every DAV method handler receives: the request, its body, the caller, the open
database session and the target of the path."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from hexagone.calendar.dav.targets import Target
from hexagone.calendar.policy import Reach
from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.dav.errors import DavError
from hexagone.core.i18n import _


@dataclass
class Context:
    request: Request
    body: bytes
    principal: Principal
    db: AsyncSession
    target: Target

    def header(self, name: str) -> str:
        return self.request.headers.get(name, "")

    def require(self, ability: str) -> Reach:
        """The target's collection if the caller may do ``ability`` on it: 403 with
        DAV:need-privileges otherwise (they can see it: they reached it)."""
        reach = self.target.reach
        assert reach is not None
        if not policy.abilities(self.principal, reach).get(ability):
            raise DavError(403, _("You may not do this in this calendar or address book."), need_privileges())
        return reach


def need_privileges() -> str:
    return "{DAV:}need-privileges"
