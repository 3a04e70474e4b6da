"""audit chain keyed: entries carry hash_version and key_id, chain heads their version

Existing entries and heads become version 1 (plain SHA-256) and are not rewritten; each chain
switches to version 2 (HMAC-SHA-256 with the audit key) at its next append.
Downgrading drops the key ids: keyed entries then no longer verify with the old code.

Revision ID: 0011_audit
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0011_audit'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hash_version', sa.Integer(), server_default=sa.text('1'), nullable=False))
        batch_op.add_column(sa.Column('key_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('audit_chain_heads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hash_version', sa.Integer(), server_default=sa.text('1'), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('audit_chain_heads', schema=None) as batch_op:
        batch_op.drop_column('hash_version')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('hash_version')
