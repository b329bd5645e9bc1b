"""messaging: channels, inbound events, messages, outbox

Revision ID: 0006_messaging
Revises: 0005_campaign_lists
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import teleplex.core.db

revision = "0006_messaging"
down_revision = "0005_campaign_lists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = teleplex.core.db.UTCDateTime(timezone=True)
    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("credential_names", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_channels_name")),
    )
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("provider_event_id", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("received_at", utc, nullable=False),
        sa.Column("processed_at", utc, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_inbound_events_channel_id_channels"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint("channel_id", "provider_event_id", name="uq_inbound_events_channel_event"),
    )
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_events_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_events_processed_at"), ["processed_at"], unique=False)
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("peer_kind", sa.String(length=32), nullable=False),
        sa.Column("peer", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("media_ref", sa.String(length=2000), nullable=True),
        sa.Column("media_path", sa.String(length=500), nullable=True),
        sa.Column("media_mime", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("keyword", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_at", utc, nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_messages_channel_id_channels"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"],
                                name=op.f("fk_messages_interaction_id_interactions"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("channel_id", "provider_message_id", name="uq_messages_channel_provider_id"),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_interaction_id"), ["interaction_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_peer"), ["peer"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_created_at"), ["created_at"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", utc, nullable=False),
        sa.Column("claimed_at", utc, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_outbox_channel_id_channels"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_outbox_message_id_messages"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_next_attempt_at"), ["next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("messages")
    op.drop_table("inbound_events")
    op.drop_table("channels")
