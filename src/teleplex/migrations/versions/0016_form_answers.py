"""the agent's answers to the campaign's form, kept with the attempt they were given on

Revision ID: 0016_form_answers
Revises: 0015_screen_pop
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_form_answers"
down_revision = "0015_screen_pop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_attempts") as batch:
        batch.add_column(sa.Column("form_answers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign_attempts") as batch:
        batch.drop_column("form_answers")
