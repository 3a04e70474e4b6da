"""Appointments get an opaque deep-link reference and, optionally, the patient they are for

「管理」's 予約 (issue 37): `token` is what an appointment's link carries (`?a=`), so the link
names neither the date nor the patient; `patient_kana` and `patient_birth_date` tie an
appointment to a patient on the server only. Existing appointments get a token here; their old
`?date=` links keep working.

Down: the columns go (links sent with `?a=` then open the reception without a date).

Revision ID: 0021_admin_pages
Revises: 0020_contact
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = '0021_admin_pages'
down_revision = '0020_contact'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('appointments') as batch:
        batch.add_column(sa.Column('token', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('patient_kana', sa.String(length=100), nullable=False, server_default=''))
        batch.add_column(sa.Column('patient_birth_date', sa.Date(), nullable=True))
    table = sa.table('appointments', sa.column('id', sa.Integer), sa.column('token', sa.String))
    conn = op.get_bind()
    for (appointment_id,) in conn.execute(sa.select(table.c.id)).all():
        conn.execute(table.update().where(table.c.id == appointment_id).values(token=secrets.token_urlsafe(12)))
    with op.batch_alter_table('appointments') as batch:
        batch.create_unique_constraint(batch.f('uq_appointments_token'), ['token'])


def downgrade() -> None:
    with op.batch_alter_table('appointments') as batch:
        batch.drop_constraint(batch.f('uq_appointments_token'), type_='unique')
        batch.drop_column('patient_birth_date')
        batch.drop_column('patient_kana')
        batch.drop_column('token')
