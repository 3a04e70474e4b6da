"""consents and audit log (hash-chained, one chain per institution)

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import store.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consents',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(length=64), nullable=False),
    sa.Column('card_id', sa.String(length=64), nullable=False),
    sa.Column('care_setting', sa.Integer(), nullable=False),
    # consent.models.CategoryList stores a space-separated string; plain String keeps this
    # migration independent of later code changes.
    sa.Column('categories', sa.String(length=128), nullable=False),
    sa.Column('consultation_date', sa.Date(), nullable=False),
    sa.Column('consented_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('window_end', store.types.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revoked_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=64), nullable=True),
    sa.Column('revocation_reason', sa.Integer(), nullable=True),
    sa.Column('qualification_confirmed_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('validity_code', sa.Integer(), nullable=True),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_consents_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('institution_id', 'person_id', 'consultation_date', name='uq_consents_institution_person_date')
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('ix_consents_institution_id_consultation_date', ['institution_id', 'consultation_date'], unique=False)

    op.create_table('audit_chain_heads',
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_audit_chain_heads_institution_id_institutions')),
    sa.PrimaryKeyConstraint('institution_id', name=op.f('pk_audit_chain_heads'))
    )
    op.create_table('audit_entries',
    sa.Column('institution_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=True),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=True),
    sa.Column('person_id', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('consent_id', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_audit_entries_institution_id_institutions')),
    sa.PrimaryKeyConstraint('institution_id', 'seq', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_person_id', ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_person_id')

    op.drop_table('audit_entries')
    op.drop_table('audit_chain_heads')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_institution_id_consultation_date')

    op.drop_table('consents')
