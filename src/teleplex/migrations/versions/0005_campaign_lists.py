"""campaign lists, leads and do-not-call

Revision ID: 0005_campaign_lists
Revises: 0004_callbacks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import teleplex.core.db

revision = "0005_campaign_lists"
down_revision = "0004_callbacks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=True),
    sa.Column('dial_mode', sa.String(length=16), nullable=False),
    sa.Column('power_ratio', sa.Float(), nullable=False),
    sa.Column('target_abandon_percent', sa.Float(), nullable=False),
    sa.Column('calling_windows', sa.JSON(), nullable=False),
    sa.Column('allow_outside_legal_hours', sa.Boolean(), nullable=False),
    sa.Column('default_timezone', sa.String(length=64), nullable=False),
    sa.Column('starts_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('caller_id', sa.String(length=40), nullable=True),
    sa.Column('trunk', sa.String(length=200), nullable=True),
    sa.Column('max_channels', sa.Integer(), nullable=False),
    sa.Column('ring_seconds', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('retry_rules', sa.JSON(), nullable=False),
    sa.Column('amd_enabled', sa.Boolean(), nullable=False),
    sa.Column('machine_action', sa.String(length=16), nullable=False),
    sa.Column('machine_message', sa.String(length=100), nullable=True),
    sa.Column('abandon_message', sa.String(length=100), nullable=True),
    sa.Column('no_redial_after_abandon_hours', sa.Integer(), nullable=False),
    sa.Column('no_redial_after_machine_hours', sa.Integer(), nullable=False),
    sa.Column('callback_grace_minutes', sa.Integer(), nullable=False),
    sa.Column('recording', sa.Boolean(), nullable=False),
    sa.Column('script', sa.Text(), nullable=True),
    sa.Column('form_fields', sa.JSON(), nullable=False),
    sa.Column('created_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_campaigns_queue_id_queues'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_campaigns_name'))
    )
    op.create_index(op.f('ix_campaigns_queue_id'), 'campaigns', ['queue_id'], unique=False)
    op.create_index(op.f('ix_campaigns_state'), 'campaigns', ['state'], unique=False)
    op.create_table('campaign_agents',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_campaign_agents_agent_id_agents'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_agents_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'agent_id', name=op.f('pk_campaign_agents'))
    )
    op.create_table('campaign_dispositions',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('disposition_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_dispositions_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['disposition_id'], ['dispositions.id'], name=op.f('fk_campaign_dispositions_disposition_id_dispositions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('campaign_id', 'disposition_id', name=op.f('pk_campaign_dispositions'))
    )
    op.create_table('campaign_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_lists_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_lists')),
    sa.UniqueConstraint('campaign_id', 'name', name='uq_campaign_lists_campaign_id_name')
    )
    op.create_index(op.f('ix_campaign_lists_campaign_id'), 'campaign_lists', ['campaign_id'], unique=False)
    op.create_table('dnc_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('scope', sa.String(length=24), nullable=False),
    sa.Column('source', sa.String(length=24), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('created_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_dnc_entries_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dnc_entries')),
    sa.UniqueConstraint('number', 'scope', name='uq_dnc_entries_number_scope')
    )
    op.create_index(op.f('ix_dnc_entries_campaign_id'), 'dnc_entries', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_dnc_entries_number'), 'dnc_entries', ['number'], unique=False)
    op.create_table('leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('alt_phones', sa.JSON(), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=True),
    sa.Column('timezones', sa.String(length=1000), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('outcome_counts', sa.JSON(), nullable=False),
    sa.Column('last_outcome', sa.String(length=24), nullable=True),
    sa.Column('last_attempt_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_abandoned_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_machine_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_leads_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['campaign_lists.id'], name=op.f('fk_leads_list_id_campaign_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads')),
    sa.UniqueConstraint('list_id', 'phone', name='uq_leads_list_id_phone')
    )
    op.create_index('ix_leads_campaign_id_status', 'leads', ['campaign_id', 'status'], unique=False)
    op.create_index(op.f('ix_leads_list_id'), 'leads', ['list_id'], unique=False)
    op.create_table('campaign_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('dialed_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ringing_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('amd_result', sa.String(length=24), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('disposition_id', sa.Integer(), nullable=True),
    sa.Column('recording_path', sa.String(length=300), nullable=True),
    sa.Column('interaction_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_campaign_attempts_agent_id_agents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_attempts_campaign_id_campaigns'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['disposition_id'], ['dispositions.id'], name=op.f('fk_campaign_attempts_disposition_id_dispositions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_campaign_attempts_interaction_id_interactions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_campaign_attempts_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_attempts'))
    )
    op.create_index(op.f('ix_campaign_attempts_campaign_id'), 'campaign_attempts', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_campaign_attempts_lead_id'), 'campaign_attempts', ['lead_id'], unique=False)
    # Callbacks gain a window's end, a campaign, a lead and a note; existing rows keep their meaning.
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_until', teleplex.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lead_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('note', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('created_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('updated_at', teleplex.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_callbacks_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_callbacks_campaign_id_campaigns'), 'campaigns', ['campaign_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_callbacks_lead_id_leads'), 'leads', ['lead_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_callbacks_lead_id_leads'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_callbacks_campaign_id_campaigns'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_callbacks_campaign_id'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('created_by')
        batch_op.drop_column('note')
        batch_op.drop_column('name')
        batch_op.drop_column('lead_id')
        batch_op.drop_column('campaign_id')
        batch_op.drop_column('due_until')
    op.drop_index(op.f('ix_campaign_attempts_lead_id'), table_name='campaign_attempts')
    op.drop_index(op.f('ix_campaign_attempts_campaign_id'), table_name='campaign_attempts')
    op.drop_table('campaign_attempts')
    op.drop_index(op.f('ix_leads_list_id'), table_name='leads')
    op.drop_index('ix_leads_campaign_id_status', table_name='leads')
    op.drop_table('leads')
    op.drop_index(op.f('ix_dnc_entries_number'), table_name='dnc_entries')
    op.drop_index(op.f('ix_dnc_entries_campaign_id'), table_name='dnc_entries')
    op.drop_table('dnc_entries')
    op.drop_index(op.f('ix_campaign_lists_campaign_id'), table_name='campaign_lists')
    op.drop_table('campaign_lists')
    op.drop_table('campaign_dispositions')
    op.drop_table('campaign_agents')
    op.drop_index(op.f('ix_campaigns_state'), table_name='campaigns')
    op.drop_index(op.f('ix_campaigns_queue_id'), table_name='campaigns')
    op.drop_table('campaigns')
