"""contact profiles: fields, tags, notes, merges

Revision ID: 0008_contacts_profiles
Revises: 0007_id_counters
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import teleplex.core.db

revision = "0008_contacts_profiles"
down_revision = "0007_id_counters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = teleplex.core.db.UTCDateTime(timezone=True)
    # Plain ADD COLUMN on both databases: SQLite must not copy `contacts` (dropping the old copy would fire
    # ON DELETE SET NULL on every interaction and callback pointing at a contact).
    op.add_column("contacts", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.add_column("contacts", sa.Column("erased_at", utc, nullable=True))
    op.create_index(op.f("ix_contacts_merged_into_id"), "contacts", ["merged_into_id"], unique=False)
    op.add_column("contact_identities", sa.Column("source", sa.String(length=32), nullable=True))

    op.create_table(
        "contact_field_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_field_definitions")),
        sa.UniqueConstraint("key", name=op.f("uq_contact_field_definitions_key")),
    )
    op.create_table(
        "contact_field_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_contact_field_values_contact_id_contacts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["field_id"], ["contact_field_definitions.id"],
                                name=op.f("fk_contact_field_values_field_id_contact_field_definitions"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_field_values")),
        sa.UniqueConstraint("contact_id", "field_id", name="uq_contact_field_values_contact_field"),
    )
    op.create_index(op.f("ix_contact_field_values_contact_id"), "contact_field_values", ["contact_id"], unique=False)
    op.create_index(op.f("ix_contact_field_values_field_id"), "contact_field_values", ["field_id"], unique=False)
    op.create_table(
        "contact_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_contact_tags_contact_id_contacts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_tags")),
        sa.UniqueConstraint("contact_id", "tag", name="uq_contact_tags_contact_tag"),
    )
    op.create_index(op.f("ix_contact_tags_contact_id"), "contact_tags", ["contact_id"], unique=False)
    op.create_index(op.f("ix_contact_tags_tag"), "contact_tags", ["tag"], unique=False)
    op.create_table(
        "contact_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_contact_notes_contact_id_contacts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_notes")),
    )
    op.create_index(op.f("ix_contact_notes_contact_id"), "contact_notes", ["contact_id"], unique=False)
    op.create_table(
        "contact_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("merged_at", utc, nullable=False),
        sa.Column("merged_by", sa.String(length=100), nullable=False),
        sa.Column("undone_at", utc, nullable=True),
        sa.Column("undone_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["target_id"], ["contacts.id"], name=op.f("fk_contact_merges_target_id_contacts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["contacts.id"], name=op.f("fk_contact_merges_source_id_contacts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_merges")),
    )
    op.create_index(op.f("ix_contact_merges_target_id"), "contact_merges", ["target_id"], unique=False)
    op.create_index(op.f("ix_contact_merges_source_id"), "contact_merges", ["source_id"], unique=False)
    op.create_table(
        "contact_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("other_contact_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_contact_suggestions_contact_id_contacts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["other_contact_id"], ["contacts.id"],
                                name=op.f("fk_contact_suggestions_other_contact_id_contacts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_suggestions")),
    )
    op.create_index(op.f("ix_contact_suggestions_contact_id"), "contact_suggestions", ["contact_id"], unique=False)
    op.create_index(op.f("ix_contact_suggestions_other_contact_id"), "contact_suggestions", ["other_contact_id"],
                    unique=False)


def downgrade() -> None:
    for table in ("contact_suggestions", "contact_merges", "contact_notes", "contact_tags", "contact_field_values",
                  "contact_field_definitions"):
        op.drop_table(table)
    op.drop_index(op.f("ix_contacts_merged_into_id"), table_name="contacts")
    with op.batch_alter_table("contact_identities") as batch_op:
        batch_op.drop_column("source")
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("merged_into_id")
