"""id counters: record ids handed out ahead of their rows

Revision ID: 0007_id_counters
Revises: 0006_messaging
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_id_counters"
down_revision = "0006_messaging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "id_counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("next_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_id_counters")),
    )
    # interactions already stored keep their ids; new ones start after the highest
    op.execute("INSERT INTO id_counters (name, next_id) SELECT 'interactions', COALESCE(MAX(id), 0) + 1 FROM interactions")


def downgrade() -> None:
    op.drop_table("id_counters")
