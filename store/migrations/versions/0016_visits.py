"""Home visits: relationships without a window, their visits, the institution's lapse rule

consents.window_end becomes nullable (a home-visit relationship has none) and gains
last_visit_date and lapses_at; "one consent per institution, person and date" now holds for
windowed consents only, and a partial unique index allows one relationship per institution and
person. visits records each visit of a relationship; institutions.home_visit_lapse_days (default
90) is the project's lapse rule.

Down: the old schema cannot hold a consent without a window (its code refused care setting 2),
so relationships and their visits are deleted.

Revision ID: 0016_visits
Revises: 0017_qualonly
"""
from alembic import op
import sqlalchemy as sa

import store.types

revision = '0016_visits'
down_revision = '0017_qualonly'
branch_labels = None
depends_on = None

_WINDOWED = "window_end IS NOT NULL"
_RELATIONSHIP = "window_end IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_visit_lapse_days', sa.Integer(), server_default='90', nullable=False))
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_constraint('uq_consents_institution_person_date', type_='unique')
        batch_op.alter_column('window_end', existing_type=store.types.UTCDateTime(), nullable=True)
        batch_op.add_column(sa.Column('last_visit_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('lapses_at', store.types.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_consents_institution_person_date',
                              ['institution_id', 'person_id', 'consultation_date'], unique=False)
    op.create_index('uq_consents_institution_person_date', 'consents',
                    ['institution_id', 'person_id', 'consultation_date'], unique=True,
                    sqlite_where=sa.text(_WINDOWED), postgresql_where=sa.text(_WINDOWED))
    op.create_index('uq_consents_institution_person_relationship', 'consents',
                    ['institution_id', 'person_id'], unique=True,
                    sqlite_where=sa.text(_RELATIONSHIP), postgresql_where=sa.text(_RELATIONSHIP))
    op.create_table(
        'visits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consent_id', sa.String(length=32), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('visit_date', sa.Date(), nullable=False),
        sa.Column('recorded_at', store.types.UTCDateTime(), nullable=False),
        sa.Column('recorded_by', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['consent_id'], ['consents.id']),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('consent_id', 'visit_date', name='uq_visits_consent_date'),
    )
    op.create_index('ix_visits_institution_id_visit_date', 'visits', ['institution_id', 'visit_date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_visits_institution_id_visit_date', table_name='visits')
    op.drop_table('visits')
    op.execute(sa.text(f"DELETE FROM consents WHERE {_RELATIONSHIP}"))
    op.drop_index('uq_consents_institution_person_relationship', table_name='consents')
    op.drop_index('uq_consents_institution_person_date', table_name='consents')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_institution_person_date')
        batch_op.drop_column('lapses_at')
        batch_op.drop_column('last_visit_date')
        batch_op.alter_column('window_end', existing_type=store.types.UTCDateTime(), nullable=False)
        batch_op.create_unique_constraint('uq_consents_institution_person_date',
                                          ['institution_id', 'person_id', 'consultation_date'])
    # Not a batch: recreating institutions would trip the foreign keys that point at it (SQLite
    # has dropped columns itself since 3.35).
    op.execute(sa.text("ALTER TABLE institutions DROP COLUMN home_visit_lapse_days"))
