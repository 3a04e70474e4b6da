"""retired reception URL tokens (old URLs answer 410)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import store.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'retired_reception_tokens',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('retired_at', store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_retired_reception_tokens_institution_id_institutions')),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_retired_reception_tokens')),
    )
    with op.batch_alter_table('retired_reception_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retired_reception_tokens_institution_id'), ['institution_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('retired_reception_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retired_reception_tokens_institution_id'))
    op.drop_table('retired_reception_tokens')
