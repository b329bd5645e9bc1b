"""conversations: interactions on messaging channels

Revision ID: 0010_conversations
Revises: 0009_webchat
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import teleplex.core.db  # noqa: F401

revision = "0010_conversations"
down_revision = "0009_webchat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(sa.Column("channel_ref", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("peer", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("last_inbound_at", teleplex.core.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_response_at", teleplex.core.db.UTCDateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f("fk_interactions_channel_ref_channels"), "channels", ["channel_ref"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index("ix_interactions_conversation", ["channel_ref", "peer"])
    with op.batch_alter_table("queues") as batch:
        batch.add_column(sa.Column("chat_auto_assign", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("chats_during_call", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortcut", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("created_at", teleplex.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", teleplex.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], name=op.f("fk_canned_responses_queue_id_queues"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
        sa.UniqueConstraint("shortcut", name=op.f("uq_canned_responses_shortcut")),
    )
    op.create_index(op.f("ix_canned_responses_queue_id"), "canned_responses", ["queue_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_canned_responses_queue_id"), table_name="canned_responses")
    op.drop_table("canned_responses")
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("chats_during_call")
        batch.drop_column("chat_auto_assign")
    with op.batch_alter_table("interactions") as batch:
        batch.drop_index("ix_interactions_conversation")
        batch.drop_constraint(op.f("fk_interactions_channel_ref_channels"), type_="foreignkey")
        batch.drop_column("first_response_at")
        batch.drop_column("last_inbound_at")
        batch.drop_column("peer")
        batch.drop_column("channel_ref")
