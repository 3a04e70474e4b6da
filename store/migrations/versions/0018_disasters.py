"""disasters (災害時特別措置: a declared area and period) and oqs_people.birth_date's index

The index serves the disaster measure's search for a person without the card (birth date, then
name and address among the few born that day).

Revision ID: 0018_disasters
Revises: 0016_visits
"""
from alembic import op
import sqlalchemy as sa

import store.types

revision = '0018_disasters'
down_revision = "0016_visits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'disasters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('prefectures', sa.String(length=150), nullable=False),
        sa.Column('institution_codes', sa.Text(), nullable=False),
        sa.Column('starts_at', store.types.UTCDateTime(), nullable=False),
        sa.Column('ends_at', store.types.UTCDateTime(), nullable=False),
        sa.Column('declared_at', store.types.UTCDateTime(), nullable=False),
        sa.Column('ended_at', store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_disasters')),
    )
    with op.batch_alter_table('disasters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disasters_ends_at'), ['ends_at'], unique=False)
    with op.batch_alter_table('oqs_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oqs_people_birth_date'), ['birth_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oqs_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oqs_people_birth_date'))
    with op.batch_alter_table('disasters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disasters_ends_at'))
    op.drop_table('disasters')
