"""agents' answer mode: on the device, or in the console (auto-answer devices)

Revision ID: 0011_answer_mode
Revises: 0010_conversations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_answer_mode"
down_revision = "0010_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("answer_mode", sa.String(length=16), nullable=False, server_default="device"))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("answer_mode")
