"""institutions.qualification_only (資格確認限定型)

An institution in this mode confirms the qualification with the card and nothing else: its
reception offers no data categories and every data read is refused. Existing institutions are
not in it.

Revision ID: 0017_qualonly
Revises: 0015_functions
"""
from alembic import op
import sqlalchemy as sa

revision = '0017_qualonly'
down_revision = '0015_functions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN on every database (a constant default: SQLite needs no copy).
    op.add_column('institutions', sa.Column('qualification_only', sa.Boolean(), server_default=sa.false(),
                                            nullable=False))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch (copy, drop, rename): dropping `institutions` breaks the foreign keys of every
        # table that refers to it. SQLite drops a plain column in place (since 3.35).
        op.execute("ALTER TABLE institutions DROP COLUMN qualification_only")
    else:
        op.drop_column('institutions', 'qualification_only')
