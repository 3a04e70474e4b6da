"""institutions.phone and institutions.privacy_url (the patient's pages name whom to ask)

Every patient page and error page shows the institution's phone number and a link to its privacy
notice when they are set (issue 36). Both default to the empty string: an existing institution
shows neither until an operator (`flask institution set`) or the sandbox sets them.

Revision ID: 0020_contact
Revises: 0019_events
"""
from alembic import op
import sqlalchemy as sa

revision = '0020_contact'
down_revision = '0019_events'
branch_labels = None
depends_on = None

_COLUMNS = ("phone", "privacy_url")


def upgrade() -> None:
    # Constant defaults: a plain ALTER TABLE ... ADD COLUMN everywhere (SQLite needs no copy).
    op.add_column('institutions', sa.Column('phone', sa.String(length=20), server_default='', nullable=False))
    op.add_column('institutions', sa.Column('privacy_url', sa.String(length=500), server_default='',
                                            nullable=False))


def downgrade() -> None:
    for column in reversed(_COLUMNS):
        if op.get_bind().dialect.name == "sqlite":
            # Not a batch (copy, drop, rename): dropping `institutions` breaks the foreign keys of
            # every table that refers to it. SQLite drops a plain column in place (since 3.35).
            op.execute(f"ALTER TABLE institutions DROP COLUMN {column}")
        else:
            op.drop_column('institutions', column)
