"""the dialer: attempts may dial a callback (no lead), and name it

Revision ID: 0014_dialer
Revises: 0013_chat_extras
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_dialer"
down_revision = "0013_chat_extras"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_attempts") as batch:
        batch.alter_column("lead_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("callback_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_campaign_attempts_callback_id_callbacks"), "callbacks", ["callback_id"],
                                 ["id"], ondelete="SET NULL")
        batch.create_index(op.f("ix_campaign_attempts_callback_id"), ["callback_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign_attempts") as batch:
        batch.drop_index(op.f("ix_campaign_attempts_callback_id"))
        batch.drop_constraint(op.f("fk_campaign_attempts_callback_id_callbacks"), type_="foreignkey")
        batch.drop_column("callback_id")
        batch.alter_column("lead_id", existing_type=sa.Integer(), nullable=False)
