"""the screen-pop: a CRM URL template and how it opens, per queue and per campaign

Revision ID: 0015_screen_pop
Revises: 0014_dialer
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_screen_pop"
down_revision = "0014_dialer"
branch_labels = None
depends_on = None

TABLES = ("queues", "campaigns")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("crm_url_template", sa.String(length=2000), nullable=True))
            batch.add_column(sa.Column("screen_pop_mode", sa.String(length=8), nullable=False,
                                       server_default="tab"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("screen_pop_mode")
            batch.drop_column("crm_url_template")
