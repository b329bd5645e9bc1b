"""what a queue's or campaign's calls need before the agent may end the wrap-up

Revision ID: 0017_wrapup_requires
Revises: 0016_form_answers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_wrapup_requires"
down_revision = "0016_form_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # existing rows keep today's behaviour: a disposition before the wrap-up ends
    for table in ("queues", "campaigns"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("wrapup_requires", sa.JSON(), nullable=False,
                                       server_default=sa.text("'[\"disposition\"]'")))  # fmt: skip


def downgrade() -> None:
    for table in ("queues", "campaigns"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("wrapup_requires")
