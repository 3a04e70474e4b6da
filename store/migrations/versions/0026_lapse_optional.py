"""institutions.home_visit_lapse_days nullable: NULL = no lapse, the default from now on

The home-visit lapse is the project's own rule (the real one is not public; vendor material says
later visits work 「患者が認証取消しを行わない限り」), and it was on for everyone at 90 days. The
contract now reads: empty (null: no lapse) unless an institution sets a number.

Which rows that means: 90 was the column's default, so a 90 is the institution's choice only when
its admin saved it on 環境設定 - the audit log then holds a `settings_changed` entry naming
`home_visit_lapse_days` for it. Every other 90 was never chosen and becomes NULL; any other number
was set by someone (環境設定, the sandbox) and stays. (A QA suite that passed 90 to the sandbox
explicitly is not audited and loses it: it sets it again with PATCH.)

An institution that goes to NULL takes its open relationships with it: their lapses_at becomes NULL,
as a change on 環境設定 moves open relationships at once. Open means active and not yet lapsed by
the wall clock at migration time; one that already lapsed (or was ended) keeps its lapses_at and
stays ended.

On SQLite the column change recreates `institutions`, which other tables point at: store/migrate.py
runs every SQLite migration with foreign keys off (switched off outside the transaction) and checks
them before each commits.

Down: NULL becomes 90 again, the old default; relationships without a lapse get the one 90 days
give them from their last visit (00:00 JST of last visit + 91 days) - one whose last visit is
longer ago than that has lapsed then.

Revision ID: 0026_lapse_optional
Revises: 0025_consent_states
"""
from datetime import date, datetime, time, timedelta, timezone

from alembic import op
import sqlalchemy as sa

import store.types

revision = '0026_lapse_optional'
down_revision = '0025_consent_states'
branch_labels = None
depends_on = None

OLD_DEFAULT = 90
JST = timezone(timedelta(hours=9))

_institutions = sa.table('institutions', sa.column('id', sa.Integer()),
                         sa.column('home_visit_lapse_days', sa.Integer()))
_consents = sa.table('consents', sa.column('id', sa.String()), sa.column('institution_id', sa.Integer()),
                     sa.column('status', sa.String()), sa.column('window_end', store.types.UTCDateTime()),
                     sa.column('last_visit_date', sa.Date()), sa.column('lapses_at', store.types.UTCDateTime()))
_audit = sa.table('audit_entries', sa.column('institution_id', sa.Integer()), sa.column('event', sa.String()),
                  sa.column('detail', sa.Text()))


def _lapse_end(last_visit: date, days: int) -> datetime:
    # consent/home_visits.py lapse_end, as it stands here (migrations import nothing above store/).
    return datetime.combine(last_visit + timedelta(days=days + 1), time(0), tzinfo=JST).astimezone(timezone.utc)


def upgrade() -> None:
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.alter_column('home_visit_lapse_days', existing_type=sa.Integer(), nullable=True,
                              server_default=None, existing_server_default=str(OLD_DEFAULT))
    bind = op.get_bind()
    chosen = sa.select(_audit.c.institution_id).where(
        _audit.c.event == 'settings_changed', _audit.c.detail.like('%"home_visit_lapse_days"%'),
        _audit.c.institution_id.is_not(None))
    unset = sa.select(_institutions.c.id).where(
        _institutions.c.home_visit_lapse_days == OLD_DEFAULT, _institutions.c.id.not_in(chosen))
    ids = bind.execute(unset).scalars().all()
    if not ids:
        return
    bind.execute(_institutions.update().where(_institutions.c.id.in_(ids))
                 .values(home_visit_lapse_days=None))
    now = datetime.now(timezone.utc)
    relationships = bind.execute(sa.select(_consents.c.id, _consents.c.lapses_at).where(
        _consents.c.institution_id.in_(ids), _consents.c.window_end.is_(None),
        _consents.c.status == 'active', _consents.c.lapses_at.is_not(None))).all()
    still_open = [row.id for row in relationships if row.lapses_at > now]
    for start in range(0, len(still_open), 500):
        bind.execute(_consents.update().where(_consents.c.id.in_(still_open[start:start + 500]))
                     .values(lapses_at=None))


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(_institutions.update().where(_institutions.c.home_visit_lapse_days.is_(None))
                 .values(home_visit_lapse_days=OLD_DEFAULT))
    endless = bind.execute(sa.select(_consents.c.id, _consents.c.last_visit_date).where(
        _consents.c.window_end.is_(None), _consents.c.lapses_at.is_(None),
        _consents.c.last_visit_date.is_not(None))).all()
    for row in endless:
        bind.execute(_consents.update().where(_consents.c.id == row.id)
                     .values(lapses_at=_lapse_end(row.last_visit_date, OLD_DEFAULT)))
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.alter_column('home_visit_lapse_days', existing_type=sa.Integer(), nullable=False,
                              server_default=str(OLD_DEFAULT))
