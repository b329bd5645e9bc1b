"""conversations: what the channels' extras need

Revision ID: 0013_chat_extras
Revises: 0012_console
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0013_chat_extras"
down_revision = "0012_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
