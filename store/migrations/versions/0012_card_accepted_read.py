"""cards.accepted_binding, cards.accepted_challenge_expires_at (racing reads are not clones)

Revision ID: 0012
Revises: 0011_audit
"""
from alembic import op
import sqlalchemy as sa

import store.types

revision = '0012'
down_revision = '0011_audit'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_binding', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('accepted_challenge_expires_at', store.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_column('accepted_challenge_expires_at')
        batch_op.drop_column('accepted_binding')
