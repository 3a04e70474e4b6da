"""institutions: functions (環境設定) and a reception URL token per entry point

Existing institutions keep online on and the others off; each gets its own new, unguessable
outpatient, home-visit and house-call tokens (reception_token stays the online one).

Columns are added and dropped in place (no batch rebuild): on SQLite a rebuild of `institutions`
would drop a table every other table refers to. So the new tokens are unique through an index
and nullable in the schema; the code always sets them.

Revision ID: 0015_functions
Revises: 0014_states
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = '0015_functions'
down_revision = '0014_states'
branch_labels = None
depends_on = None

_TOKENS = ('outpatient_token', 'home_visit_token', 'house_call_token')
_FUNCTIONS = (('function_home_visit', sa.false()), ('function_online', sa.true()),
              ('function_medical_aid', sa.false()))
_institutions = sa.table('institutions', sa.column('id', sa.Integer), *(sa.column(c, sa.String) for c in _TOKENS))


def upgrade() -> None:
    for column in _TOKENS:
        op.add_column('institutions', sa.Column(column, sa.String(length=64), nullable=True))
    for column, default in _FUNCTIONS:
        op.add_column('institutions', sa.Column(column, sa.Boolean(), server_default=default, nullable=False))
    conn = op.get_bind()
    for (institution_id,) in conn.execute(sa.select(_institutions.c.id)).all():
        conn.execute(_institutions.update().where(_institutions.c.id == institution_id)
                     .values({column: secrets.token_urlsafe(18) for column in _TOKENS}))
    for column in _TOKENS:
        op.create_index(op.f(f'ix_institutions_{column}'), 'institutions', [column], unique=True)


def downgrade() -> None:
    for column in _TOKENS:
        op.drop_index(op.f(f'ix_institutions_{column}'), table_name='institutions')
    for column, _ in reversed(_FUNCTIONS):
        op.drop_column('institutions', column)
    for column in reversed(_TOKENS):
        op.drop_column('institutions', column)
