"""web console: users' time zone and what the console needs

Revision ID: 0012_console
Revises: 0011_answer_mode
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_console"
down_revision = "0011_answer_mode"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("timezone")
