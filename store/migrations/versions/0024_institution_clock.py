"""institution_clocks (an institution's own sandbox clock) and institutions.sandbox_made

QA suites running side by side each move their own institution's time
(PUT /sandbox/institutions/<code>/clock), and remove what they made
(DELETE /sandbox/institutions/<code>): only institutions made through the sandbox may go, so
`sandbox_made` marks them. Existing institutions (the demo's, the operator's) are not.

Down: the table goes (the sandbox clocks of institutions with one fall back to the global
clock) and the column with it.

Revision ID: 0024_institution_clock
Revises: 0019_events
"""
from alembic import op
import sqlalchemy as sa

import store.types

revision = '0024_institution_clock'
down_revision = '0019_events'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'institution_clocks',
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('instant', store.types.UTCDateTime(), nullable=False),
        sa.Column('updated_at', store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_institution_clocks_institution_id_institutions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('institution_id', name=op.f('pk_institution_clocks')),
    )
    # A plain ALTER TABLE ... ADD COLUMN on every database (a constant default: SQLite needs no copy).
    op.add_column('institutions', sa.Column('sandbox_made', sa.Boolean(), server_default=sa.false(),
                                            nullable=False))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch: dropping `institutions` breaks the foreign keys of every table that refers
        # to it. SQLite drops a plain column in place (since 3.35).
        op.execute("ALTER TABLE institutions DROP COLUMN sandbox_made")
    else:
        op.drop_column('institutions', 'sandbox_made')
    op.drop_table('institution_clocks')
