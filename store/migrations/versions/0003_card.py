"""card authority and WebAuthn challenge tables

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import store.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cards',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('person_id', sa.String(length=64), nullable=False),
        sa.Column('credential_id', sa.LargeBinary(length=64), nullable=False),
        sa.Column('user_handle', sa.LargeBinary(length=64), nullable=False),
        sa.Column('public_key', sa.LargeBinary(length=256), nullable=False),
        sa.Column('sign_count', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('demo', sa.Boolean(), nullable=False),
        sa.Column('issued_at', store.types.UTCDateTime(), nullable=False),
        sa.Column('status_changed_at', store.types.UTCDateTime(), nullable=True),
        sa.Column('last_used_at', store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
        sa.UniqueConstraint('credential_id', name=op.f('uq_cards_credential_id')),
        sa.UniqueConstraint('user_handle', name=op.f('uq_cards_user_handle')),
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_person_id'), ['person_id'], unique=False)

    op.create_table(
        'webauthn_challenges',
        sa.Column('challenge', sa.LargeBinary(length=64), nullable=False),
        sa.Column('binding', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('expires_at', store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('challenge', name=op.f('pk_webauthn_challenges')),
    )
    with op.batch_alter_table('webauthn_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webauthn_challenges_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webauthn_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webauthn_challenges_expires_at'))
    op.drop_table('webauthn_challenges')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cards_person_id'))
    op.drop_table('cards')
