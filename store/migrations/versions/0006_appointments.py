"""appointments with deep links (consultation date pre-filled)

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
import store.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'appointments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('consultation_date', sa.Date(), nullable=False),
        sa.Column('memo', sa.String(length=200), nullable=False),
        sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_appointments_institution_id_institutions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_institution_id'), ['institution_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointments_institution_id'))
    op.drop_table('appointments')
