"""web chat: widgets and visitor sessions

Revision ID: 0009_webchat
Revises: 0008_contacts_profiles
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import teleplex.core.db

revision = "0009_webchat"
down_revision = "0008_contacts_profiles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = teleplex.core.db.UTCDateTime(timezone=True)
    op.create_table(
        "webchat_widgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=40), nullable=False),
        sa.Column("allowed_origins", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("prechat", sa.Boolean(), nullable=False),
        sa.Column("signing_key", sa.Text(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_webchat_widgets_channel_id_channels"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_widgets")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_webchat_widgets_channel_id")),
        sa.UniqueConstraint("public_key", name=op.f("uq_webchat_widgets_public_key")),
    )
    op.create_table(
        "webchat_visitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("widget_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=True),
        sa.Column("identifier", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("last_seen_at", utc, nullable=False),
        sa.ForeignKeyConstraint(["widget_id"], ["webchat_widgets.id"],
                                name=op.f("fk_webchat_visitors_widget_id_webchat_widgets"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_visitors")),
        sa.UniqueConstraint("public_id", name=op.f("uq_webchat_visitors_public_id")),
        sa.UniqueConstraint("widget_id", "identifier", name="uq_webchat_visitors_widget_identifier"),
    )
    with op.batch_alter_table("webchat_visitors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webchat_visitors_widget_id"), ["widget_id"], unique=False)
    op.create_table(
        "webchat_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_webchat_events_message_id_messages"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["visitor_id"], ["webchat_visitors.id"],
                                name=op.f("fk_webchat_events_visitor_id_webchat_visitors"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_events")),
        sa.UniqueConstraint("visitor_id", "seq", name="uq_webchat_events_visitor_seq"),
    )
    with op.batch_alter_table("webchat_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webchat_events_message_id"), ["message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webchat_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webchat_events_message_id"))
    op.drop_table("webchat_events")
    with op.batch_alter_table("webchat_visitors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webchat_visitors_widget_id"))
    op.drop_table("webchat_visitors")
    op.drop_table("webchat_widgets")
