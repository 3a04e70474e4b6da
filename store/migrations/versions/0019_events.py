"""Events (the outbox of consent changes), patient_id per institution, webhook endpoints and deliveries

patient_keys gives each person a random patient_id per institution (consent/patient_keys.py);
existing consents get theirs here, so that reads only look them up. events is the outbox the feed
and the webhooks read (consent/events.py); nothing is back-filled: a pharmacy system starts from
the consent list and follows the events from then on. Two indexes on consents serve the sweep
that notes expiries.

Down: the tables go (events and deliveries are kept 31 days anyway; the patient_ids would be new
ones after going up again - say so to integrators before downgrading).

Revision ID: 0019_events
Revises: 0018_disasters
"""
import secrets

from alembic import op
import sqlalchemy as sa

import store.types

revision = '0019_events'
down_revision = '0018_disasters'
branch_labels = None
depends_on = None

_EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'patient_keys',
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.String(length=64), nullable=False),
        sa.Column('patient_id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_patient_keys_institution_id_institutions')),
        sa.PrimaryKeyConstraint('institution_id', 'person_id', name=op.f('pk_patient_keys')),
        sa.UniqueConstraint('patient_id', name=op.f('uq_patient_keys_patient_id')),
    )
    op.create_table(
        'events',
        sa.Column('id', _EVENT_ID, autoincrement=True, nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('consent_id', sa.String(length=32), nullable=True),
        sa.Column('patient_id', sa.String(length=32), nullable=True),
        sa.Column('occurred_at', store.types.UTCDateTime(), nullable=False),
        sa.Column('recorded_at', store.types.UTCDateTime(), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_events_institution_id_institutions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
        sa.UniqueConstraint('dedupe_key', name='uq_events_dedupe_key'),
        # A cursor stands on an id: SQLite must never hand one out again after the purge.
        sqlite_autoincrement=True,
    )
    op.create_index('ix_events_institution_id_id', 'events', ['institution_id', 'id'], unique=False)
    op.create_index(op.f('ix_events_recorded_at'), 'events', ['recorded_at'], unique=False)
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('event_types', sa.String(length=400), nullable=False),
        sa.Column('secret_sealed', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('disabled_reason', sa.String(length=32), nullable=True),
        sa.Column('disabled_at', store.types.UTCDateTime(), nullable=True),
        sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
        sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
        sa.Column('cursor_event_id', _EVENT_ID, nullable=False),
        sa.Column('failing_since', store.types.UTCDateTime(), nullable=True),
        sa.Column('next_attempt_at', store.types.UTCDateTime(), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('lease_owner', sa.String(length=64), nullable=True),
        sa.Column('lease_until', store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_webhook_endpoints_institution_id_institutions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints')),
    )
    op.create_index(op.f('ix_webhook_endpoints_institution_id'), 'webhook_endpoints', ['institution_id'],
                    unique=False)
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('event_id', _EVENT_ID, nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('latency_ms', sa.Integer(), nullable=True),
        sa.Column('last_attempt_at', store.types.UTCDateTime(), nullable=False),
        sa.Column('delivered_at', store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], ondelete='CASCADE',
                                name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints')),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE',
                                name=op.f('fk_webhook_deliveries_event_id_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('endpoint_id', 'event_id', name='uq_webhook_deliveries_endpoint_event'),
    )
    op.create_index('ix_webhook_deliveries_endpoint_status', 'webhook_deliveries', ['endpoint_id', 'status'],
                    unique=False)
    op.create_index(op.f('ix_webhook_deliveries_event_id'), 'webhook_deliveries', ['event_id'], unique=False)
    op.create_index('ix_consents_window_end', 'consents', ['window_end'], unique=False)
    op.create_index('ix_consents_lapses_at', 'consents', ['lapses_at'], unique=False)
    # Every person with a consent gets a patient_id at that institution now (random: see
    # consent/patient_keys.py for why not a derivation).
    conn = op.get_bind()
    pairs = conn.execute(sa.text("SELECT DISTINCT institution_id, person_id FROM consents")).all()
    keys = sa.table('patient_keys', sa.column('institution_id'), sa.column('person_id'), sa.column('patient_id'))
    if pairs:
        op.bulk_insert(keys, [{"institution_id": i, "person_id": p, "patient_id": "pat_" + secrets.token_urlsafe(16)}
                              for i, p in pairs])


def downgrade() -> None:
    op.drop_index('ix_consents_lapses_at', table_name='consents')
    op.drop_index('ix_consents_window_end', table_name='consents')
    op.drop_index(op.f('ix_webhook_deliveries_event_id'), table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_endpoint_status', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_webhook_endpoints_institution_id'), table_name='webhook_endpoints')
    op.drop_table('webhook_endpoints')
    op.drop_index(op.f('ix_events_recorded_at'), table_name='events')
    op.drop_index('ix_events_institution_id_id', table_name='events')
    op.drop_table('events')
    op.drop_table('patient_keys')
