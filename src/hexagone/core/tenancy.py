"""The one layer that scopes queries to an organisation.

Every organisation-owned model inherits :class:`OrgScoped`. A session opened by
:func:`hexagone.core.db.org_session` carries its ``org_id``; on every ORM ``SELECT``,
``UPDATE`` and ``DELETE`` this module adds ``org_id = :org`` for every OrgScoped entity in
the statement (joins and relationships included), and before each flush it refuses a new
or changed row whose ``org_id`` is another organisation's. Views never filter by org
themselves: a forgotten filter cannot leak data because the filter is not theirs to write.
"""

from __future__ import annotations

import functools
import uuid

from sqlalchemy import ForeignKey, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.orm.util import LoaderCriteriaOption


class CrossOrganisationWrite(RuntimeError):
    """A scoped session was asked to write a row belonging to another organisation."""


class OrgScoped:
    @declared_attr
    def org_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)


@functools.lru_cache(maxsize=4096)
def _organisation_criteria(org_id: uuid.UUID) -> LoaderCriteriaOption:
    """The option that scopes a statement to ``org_id``, built once per organisation:
    building it (analysing the lambda) cost more than a tenth of a simple page's CPU.
    Options are immutable, so one serves every statement of that organisation."""
    return with_loader_criteria(OrgScoped, lambda cls: cls.org_id == org_id, include_aliases=True)


@event.listens_for(Session, "do_orm_execute")
def _scope_to_organisation(state: ORMExecuteState) -> None:
    org_id = state.session.info.get("org_id")
    if org_id is None or state.is_column_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(_organisation_criteria(org_id))


@event.listens_for(Session, "before_flush")
def _refuse_cross_organisation_writes(session: Session, _ctx: object, _instances: object) -> None:
    org_id = session.info.get("org_id")
    if org_id is None:
        return
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, OrgScoped):
            if obj in session.new and obj.org_id is None:
                obj.org_id = org_id
            elif obj.org_id != org_id:
                raise CrossOrganisationWrite(f"{type(obj).__name__} belongs to another organisation")
