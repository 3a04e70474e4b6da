"""consents.source (card | certificate), and the card authority's people without a usable card

A 資格確認書 (issued since the December 2024 reform to people whose My Number Card cannot be used as
a health insurance card) lets the institution confirm the qualification from its numbers and
see nothing else. Its confirmation is recorded as a consent with `source` 'certificate' and no
categories; every consent recorded so far came from a card read ('card').

`cards_unlinked_people`: the embedded card authority's list of people whose cards are not
registered for health insurance use (the sandbox's `"card": false`); a card issued to one of them
is refused at every read (status `unlinked`).

Down: both go; a certificate confirmation then reads as a card consent with no categories (it
still grants nothing).

Revision ID: 0027_consent_source
Revises: 0026_lapse_optional
"""
from alembic import op
import sqlalchemy as sa

from store.types import UTCDateTime

revision = '0027_consent_source'
down_revision = '0026_lapse_optional'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: a plain ALTER TABLE ... ADD COLUMN on every database, no copy on SQLite.
    op.add_column('consents', sa.Column('source', sa.String(length=16), server_default='card', nullable=False))
    op.create_table(
        'cards_unlinked_people',
        sa.Column('person_id', sa.String(length=64), nullable=False),
        sa.Column('since', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('person_id'),
    )


def downgrade() -> None:
    op.drop_table('cards_unlinked_people')
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch (copy, drop, rename): dropping `consents` breaks the foreign keys to it.
        op.execute("ALTER TABLE consents DROP COLUMN source")
    else:
        op.drop_column('consents', 'source')
