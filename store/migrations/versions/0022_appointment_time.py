"""appointments.start_time (the patient's done page says when the call comes)

An appointment may carry its time (HH:MM, JST) beside its 診療日 (issue 36); existing ones have none
(null). Down: the column goes.

Revision ID: 0022_appointment_time
Revises: 0021_admin_pages
"""
from alembic import op
import sqlalchemy as sa

revision = '0022_appointment_time'
down_revision = '0021_admin_pages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('appointments', sa.Column('start_time', sa.String(length=5), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+), not a batch copy that would break the foreign keys to the table.
        op.execute("ALTER TABLE appointments DROP COLUMN start_time")
    else:
        op.drop_column('appointments', 'start_time')
