"""The 限度額 flag is 0 or 1 only: stored flag-2 限度額 states become flag 0 (keeping their reason)

The real interface's 限度額 flag (OQSCD001, 限度額適用認定証同意フラグ) takes 0 未同意 and 1 同意
only. Before this revision a revoked (or lapsed) 限度額 was stored as flag 2 with its expiry reason;
from now on it is flag 0 and keeps its consent time, `ended_at` and `expiry_reason`, which tell it
apart from a 限度額 never consented (consent/category_states.py). Only `consents.category_states`
holds per-category states; no other column changes.

The disaster read's consent kind 「同意取得困難」 ("difficult") became 「同意なし」 ("none") in the same
release. It is stored only inside audit entries' details, which are keyed and hash-chained: a
rewritten payload would fail `audit verify`, so no row is touched and readers map "difficult" to
"none" (vocabulary.disaster_consent_kind).

Down: 限度額 states of flag 0 with an expiry reason are flag 2 again, as the code before read them.

Revision ID: 0025_consent_states
Revises: 0023_institution_kind
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '0025_consent_states'
down_revision = '0023_institution_kind'
branch_labels = None
depends_on = None

_BINARY = "limit"  # the one category whose flag is 0 or 1 only (vocabulary.BINARY_FLAG)
_BATCH = 500

_consents = sa.table(
    "consents",
    sa.column("id", sa.String),
    sa.column("category_states", sa.Text),
)


def _rewrite(text: str, *, from_flag: int, to_flag: int) -> str | None:
    """The states with the 限度額 entry's flag moved, or None when nothing changes. Only an ended
    entry (one with an expiry reason) moves: a flag 0 never consented stays as it is."""
    states = json.loads(text)
    changed = False
    for state in states:
        if state.get("category") == _BINARY and state.get("flag") == from_flag \
                and state.get("expiry_reason") is not None:
            state["flag"] = to_flag
            changed = True
    return json.dumps(states, separators=(",", ":")) if changed else None


def _each(from_flag: int, to_flag: int) -> None:
    conn = op.get_bind()
    last = ""
    while True:
        rows = conn.execute(
            sa.select(_consents.c.id, _consents.c.category_states)
            .where(_consents.c.id > last, _consents.c.category_states.like(f'%"{_BINARY}"%'))
            .order_by(_consents.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            new = _rewrite(row.category_states, from_flag=from_flag, to_flag=to_flag)
            if new is not None:
                conn.execute(_consents.update().where(_consents.c.id == row.id).values(category_states=new))
        last = rows[-1].id


def upgrade() -> None:
    _each(2, 0)


def downgrade() -> None:
    _each(0, 2)
