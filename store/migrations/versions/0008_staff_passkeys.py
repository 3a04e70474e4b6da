"""staff passkeys (WebAuthn sign-in to the console)

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa
import store.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staff_passkeys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.LargeBinary(length=1024), nullable=False),
        sa.Column('user_handle', sa.LargeBinary(length=64), nullable=False),
        sa.Column('public_key', sa.LargeBinary(length=1024), nullable=False),
        sa.Column('sign_count', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_passkeys_staff_id_staff'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_passkeys')),
        sa.UniqueConstraint('credential_id', name=op.f('uq_staff_passkeys_credential_id')),
    )
    with op.batch_alter_table('staff_passkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_passkeys_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_passkeys_user_handle'), ['user_handle'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_passkeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_passkeys_user_handle'))
        batch_op.drop_index(batch_op.f('ix_staff_passkeys_staff_id'))
    op.drop_table('staff_passkeys')
