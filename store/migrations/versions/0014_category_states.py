"""consents.category_states (per-category flag, times, expiry reason) and consents.house_call

Every existing consent is carried over: each of its categories is flag 1 from the consent's
consented_at, expiring at its window end (限度額: no expiry); a revoked consent's categories
that were still running at the revocation are flag 2 with its reason, the others reason 0.

Revision ID: 0014_states
Revises: 0013
"""
import json
from datetime import timezone

from alembic import op
import sqlalchemy as sa

import store.types

revision = '0014_states'
down_revision = '0013'
branch_labels = None
depends_on = None

_NOT_EXPIRING = {"limit"}

_consents = sa.table(
    "consents",
    sa.column("id", sa.String),
    sa.column("categories", sa.String),
    sa.column("consented_at", store.types.UTCDateTime()),
    sa.column("window_end", store.types.UTCDateTime()),
    sa.column("status", sa.String),
    sa.column("revoked_at", store.types.UTCDateTime()),
    sa.column("revocation_reason", sa.Integer),
    sa.column("category_states", sa.Text),
)


def _iso(instant):
    return instant.astimezone(timezone.utc).isoformat() if instant is not None else None


def _states(row) -> str:
    states = []
    for category in (row.categories or "").split():
        expires = None if category in _NOT_EXPIRING else row.window_end
        state = {"category": category, "flag": 1, "consented_at": _iso(row.consented_at),
                 "expires_at": _iso(expires), "expiry_reason": None, "ended_at": None}
        if row.status == "revoked" and row.revoked_at is not None:
            if expires is not None and expires <= row.revoked_at:
                state.update(flag=2, expiry_reason=0, ended_at=_iso(expires))
            else:
                state.update(flag=2, expiry_reason=row.revocation_reason, ended_at=_iso(row.revoked_at))
        states.append(state)
    return json.dumps(states, separators=(",", ":"))


def upgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category_states', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('house_call', sa.Boolean(), server_default=sa.false(), nullable=False))
    conn = op.get_bind()
    rows = conn.execute(sa.select(
        _consents.c.id, _consents.c.categories, _consents.c.consented_at, _consents.c.window_end,
        _consents.c.status, _consents.c.revoked_at, _consents.c.revocation_reason,
    )).all()
    for row in rows:
        conn.execute(_consents.update().where(_consents.c.id == row.id).values(category_states=_states(row)))
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.alter_column('category_states', existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    # The consent-wide fields (categories, consented_at, window_end, status) were kept true
    # throughout, so dropping the per-category detail loses no consent.
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_column('house_call')
        batch_op.drop_column('category_states')
