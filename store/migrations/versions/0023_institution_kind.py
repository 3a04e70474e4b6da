"""institutions.kind (pharmacy, clinic, dental, visiting_nurse), filled from each code's 点数表番号

An institution's kind fixes the words its pages use (薬局 or 医療機関, 薬剤師 or 医師...) and the
functions it may run (consent/vocabulary.py, INSTITUTION_KINDS). It is always the kind the code's
third digit names (4 調剤, 1 医科, 3 歯科, 6 訪問看護), so existing rows get theirs from their codes.

Down: the column goes; the codes still carry the kind.

Revision ID: 0023_institution_kind
Revises: 0022_appointment_time
"""
from alembic import op
import sqlalchemy as sa

revision = '0023_institution_kind'
down_revision = '0022_appointment_time'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: a plain ALTER TABLE ... ADD COLUMN on every database, no copy on SQLite.
    op.add_column('institutions', sa.Column('kind', sa.String(length=16), server_default='pharmacy', nullable=False))
    # substr() is 1-based on SQLite and PostgreSQL alike.
    op.execute(
        "UPDATE institutions SET kind = CASE substr(institution_code, 3, 1)"
        " WHEN '1' THEN 'clinic' WHEN '3' THEN 'dental' WHEN '6' THEN 'visiting_nurse' ELSE 'pharmacy' END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch (copy, drop, rename): dropping `institutions` breaks every foreign key to it.
        op.execute("ALTER TABLE institutions DROP COLUMN kind")
    else:
        op.drop_column('institutions', 'kind')
