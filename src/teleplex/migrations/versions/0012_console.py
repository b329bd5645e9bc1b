"""web console: users' time zone and what the console needs

Revision ID: 0012_console
Revises: 0011_answer_mode
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0012_console"
down_revision = "0011_answer_mode"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
