"""One place that answers "what may this principal do with this object?".

Each module registers, per model class, a function returning the abilities of a principal
on an instance: a dict such as ``{"view": True, "edit": False, ...}``. Pages hide what the
API would refuse by asking the same question; services enforce it with :func:`require`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hexagone.core.auth import Principal
from hexagone.core.exceptions import Forbidden, NotFound

AbilityRule = Callable[[Principal, Any], dict[str, bool]]
_rules: dict[type, AbilityRule] = {}


def rule(model: type) -> Callable[[AbilityRule], AbilityRule]:
    def register(fn: AbilityRule) -> AbilityRule:
        _rules[model] = fn
        return fn

    return register


def abilities(principal: Principal, obj: Any) -> dict[str, bool]:
    """The principal's abilities on ``obj``; nothing at all across organisations."""
    if getattr(obj, "org_id", principal.org_id) != principal.org_id:
        return {}
    for cls in type(obj).__mro__:
        if cls in _rules:
            return _rules[cls](principal, obj)
    raise LookupError(f"no ability rule for {type(obj).__name__}")


def require(principal: Principal, obj: Any, ability: str, message: str) -> None:
    """Raise NotFound when the principal may not even see ``obj`` (so its existence does
    not leak), Forbidden when it may see it but not do ``ability``."""
    granted = abilities(principal, obj)
    if not granted.get("view"):
        raise NotFound(message)
    if not granted.get(ability):
        raise Forbidden(message)
