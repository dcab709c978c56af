"""Mail: the full-text (trigram) index of messages' subjects and texts (see
hexagone/mail/fulltext.py), an index on each folder's internal dates, and org_id at the end
of the two mailbox indexes (Message-ID, thread), which the tenancy layer's org_id term
otherwise makes SQLite pass over for the org_id index (every message of the organisation
read to find one reply's conversation).

Revision ID: 0002_mail_fulltext
Revises: 0001
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0002_mail_fulltext"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

SQLITE_UP = [
    "CREATE VIRTUAL TABLE mail_messages_fts USING fts5("
    "subject, text, content='mail_messages', content_rowid='rowid', tokenize='trigram')",
    "INSERT INTO mail_messages_fts(mail_messages_fts) VALUES ('rebuild')",
    "CREATE TRIGGER mail_messages_fts_insert AFTER INSERT ON mail_messages BEGIN "
    "INSERT INTO mail_messages_fts(rowid, subject, text) VALUES (new.rowid, new.subject, new.text); END",
    "CREATE TRIGGER mail_messages_fts_delete AFTER DELETE ON mail_messages BEGIN "
    "INSERT INTO mail_messages_fts(mail_messages_fts, rowid, subject, text) "
    "VALUES ('delete', old.rowid, old.subject, old.text); END",
    "CREATE TRIGGER mail_messages_fts_update AFTER UPDATE OF subject, text ON mail_messages BEGIN "
    "INSERT INTO mail_messages_fts(mail_messages_fts, rowid, subject, text) "
    "VALUES ('delete', old.rowid, old.subject, old.text); "
    "INSERT INTO mail_messages_fts(rowid, subject, text) VALUES (new.rowid, new.subject, new.text); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS mail_messages_fts_update",
    "DROP TRIGGER IF EXISTS mail_messages_fts_delete",
    "DROP TRIGGER IF EXISTS mail_messages_fts_insert",
    "DROP TABLE IF EXISTS mail_messages_fts",
]
POSTGRES_INDEXES = {
    "ix_mail_messages_subject_trgm": "subject",
    "ix_mail_messages_text_trgm": "text",
}


MAILBOX_INDEXES = {
    "ix_mail_messages_mailbox_message_id": ["mailbox_id", "message_id"],
    "ix_mail_messages_mailbox_thread": ["mailbox_id", "thread_id"],
}


def upgrade() -> None:
    op.create_index("ix_mail_messages_folder_internal_date", "mail_messages", ["folder_id", "internal_date"])
    for name, columns in MAILBOX_INDEXES.items():
        op.drop_index(name, table_name="mail_messages")
        op.create_index(name, "mail_messages", [*columns, "org_id"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:  # not installed, or not ours to create: searches read the rows
        log.warning("pg_trgm unavailable, mail searches go without their trigram index: %s", error.orig)
        return
    for name, column in POSTGRES_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON mail_messages USING gin (lower({column}) gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        for name in POSTGRES_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_mail_messages_folder_internal_date", table_name="mail_messages")
    for name, columns in MAILBOX_INDEXES.items():
        op.drop_index(name, table_name="mail_messages")
        op.create_index(name, "mail_messages", columns)
