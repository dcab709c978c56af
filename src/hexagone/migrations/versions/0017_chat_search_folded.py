"""A message's text as searches compare it (``chat_messages.folded``: without accents,
case-folded, :func:`hexagone.core.db.search_folded`), filled for the messages already
there, so that searching "reunion" finds « Réunion » on SQLite as on PostgreSQL.

Revision ID: 0017_chat_search_folded
Revises: 0016_chat_attachments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hexagone.core.db
from hexagone.core.db import search_folded

revision = "0017_chat_search_folded"
down_revision = "0016_chat_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("folded", sa.Text(), nullable=False, server_default=""))
    messages = sa.table(
        "chat_messages",
        sa.column("id", hexagone.core.db.UUIDColumn()),
        sa.column("text", sa.Text()),
        sa.column("folded", sa.Text()),
    )
    bind = op.get_bind()
    for message_id, text in bind.execute(sa.select(messages.c.id, messages.c.text)).all():
        bind.execute(messages.update().where(messages.c.id == message_id).values(folded=search_folded(text)))


def downgrade() -> None:
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_column("folded")
