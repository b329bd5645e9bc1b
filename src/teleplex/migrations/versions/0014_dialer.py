"""the dialer: what placing campaign calls needs

Revision ID: 0014_dialer
Revises: 0013_chat_extras
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0014_dialer"
down_revision = "0013_chat_extras"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
