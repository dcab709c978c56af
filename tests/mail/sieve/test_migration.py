"""Migration 0006_sieve on a database of 0005 (SQLite, a file of its own): a mailbox that
was away gets the webmail's script with its vacation, active; a mailbox that was not
gets nothing; the downgrade leaves the settings as 0005 reads them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from hexagone.core.config import Settings
from hexagone.identity.models import Organisation
from hexagone.mail.models import Mailbox, SieveScript
from hexagone.mail.service.sieve import WEBMAIL
from hexagone.mail.sieve import generate, parse
from hexagone.migrations import alembic_config, upgrade


def test_migration_0006_writes_the_vacation_of_mailboxes_away_as_an_active_script(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None)
    upgrade(settings, "0005_mail_search_text")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'hexagone.sqlite3'}")
    org, away, here = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    until = datetime(2030, 8, 31, 23, 59, 59, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(sa.insert(Organisation.__table__).values(id=org, name="Mairie"))
        for mailbox_id, vacation in ((away, True), (here, False)):
            conn.execute(
                sa.insert(Mailbox.__table__).values(
                    id=mailbox_id,
                    org_id=org,
                    address=f"{mailbox_id.hex[:8]}@mairie.test",
                    quota_bytes=10**9,
                    vacation_enabled=vacation,
                    vacation_subject="Absent",
                    vacation_body="En congés.",
                    vacation_until=until,
                )
            )

    upgrade(settings)

    with engine.connect() as conn:
        rows = conn.execute(sa.select(SieveScript.__table__)).mappings().all()
    [script] = rows
    assert (script["mailbox_id"], script["name"], script["active"]) == (away, WEBMAIL, True)
    vacation = generate.VacationSettings("En congés.", "Absent", until.date())
    assert script["content"] == generate.script([], vacation) and parse(script["content"])

    command.downgrade(alembic_config(settings), "0005_mail_search_text")
    with engine.connect() as conn:
        enabled = conn.execute(sa.select(Mailbox.__table__.c.vacation_enabled).where(Mailbox.__table__.c.id == away))
        assert enabled.scalar_one() is True
    engine.dispose()
