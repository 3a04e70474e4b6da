"""consents.verification ("pin" or "photo") and consents.verified_by (the staff member of a photo check)

Since October 2024 the institution's device (マイナ資格確認アプリ（居宅同意取得型）) may identify the
patient by comparing the card's face photo with them (目視確認) instead of the PIN. A consent records
which was done and, for the photo check, who did it. Every existing consent was registered with the
PIN: the constant default gives them "pin".

Down: both columns go (the audit entries still say which consents were photo-checked).

Revision ID: 0028_consent_verification
Revises: 0027_consent_source
"""
from alembic import op
import sqlalchemy as sa

revision = '0028_consent_verification'
down_revision = '0027_consent_source'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Constant default, nullable: a plain ALTER TABLE ... ADD COLUMN on both databases, no copy.
    op.add_column('consents', sa.Column('verification', sa.String(length=8), server_default='pin', nullable=False))
    op.add_column('consents', sa.Column('verified_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch (copy, drop, rename): dropping `consents` breaks the foreign keys to it.
        op.execute("ALTER TABLE consents DROP COLUMN verified_by")
        op.execute("ALTER TABLE consents DROP COLUMN verification")
    else:
        op.drop_column('consents', 'verified_by')
        op.drop_column('consents', 'verification')
