"""IMAP subscriptions live only in mail_subscriptions (issue #16): the folders' old
``subscribed`` flag, copied there by 0003, goes.

Downgrade brings the flag back from the list: a folder is subscribed when its owner
subscribes to its name or a user it is granted to subscribes to ``Shared/<address>/<name>``.

Revision ID: 0004_folders
Revises: 0003_mail_trust
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_folders"
down_revision = "0003_mail_trust"
branch_labels = None
depends_on = None

RESTORE_FLAGS = """
UPDATE mail_folders SET subscribed = :yes WHERE EXISTS (
    SELECT 1 FROM mail_mailboxes m JOIN mail_subscriptions s ON s.name = mail_folders.name AND s.user_id = m.user_id
    WHERE m.id = mail_folders.mailbox_id
) OR EXISTS (
    SELECT 1 FROM mail_mailboxes m
    JOIN mail_grants g ON g.mailbox_id = m.id
    JOIN mail_subscriptions s ON s.user_id = g.user_id AND s.name = 'Shared/' || m.address || '/' || mail_folders.name
    WHERE m.id = mail_folders.mailbox_id
)
"""


def upgrade() -> None:
    with op.batch_alter_table("mail_folders", schema=None) as batch_op:
        batch_op.drop_column("subscribed")


def downgrade() -> None:
    with op.batch_alter_table("mail_folders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subscribed", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.get_bind().execute(sa.text(RESTORE_FLAGS), {"yes": True})
