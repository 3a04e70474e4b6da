"""OAuth 2.0 of the pharmacy-system API: API clients, authorization codes, access/refresh tokens

Secrets, codes and tokens are stored as SHA-256 digests only (consent/oauth_clients.py).

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import store.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('grant_type', sa.String(length=32), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=True),
    sa.Column('scopes', sa.String(length=200), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff.id'], name=op.f('fk_api_clients_created_by_staff_id_staff')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_api_clients_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_api_clients_client_id'))
    )
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_clients_institution_id'), ['institution_id'], unique=False)

    op.create_table('oauth_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=False),
    sa.Column('family_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_pk'], ['api_clients.id'], name=op.f('fk_oauth_codes_client_pk_api_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_oauth_codes_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_oauth_codes'))
    )
    with op.batch_alter_table('oauth_codes', schema=None) as batch_op:
        batch_op.create_index('ix_oauth_codes_expires_at', ['expires_at'], unique=False)

    op.create_table('oauth_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('access_hash', sa.String(length=64), nullable=False),
    sa.Column('refresh_hash', sa.String(length=64), nullable=True),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('family_id', sa.String(length=32), nullable=False),
    sa.Column('issued_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('refresh_expires_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('refresh_revoked_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('purge_after', store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['api_clients.id'], name=op.f('fk_oauth_tokens_client_pk_api_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_oauth_tokens_institution_id_institutions')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_oauth_tokens_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_tokens')),
    sa.UniqueConstraint('access_hash', name=op.f('uq_oauth_tokens_access_hash')),
    sa.UniqueConstraint('refresh_hash', name=op.f('uq_oauth_tokens_refresh_hash'))
    )
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_tokens_client_pk'), ['client_pk'], unique=False)
        batch_op.create_index('ix_oauth_tokens_family_id', ['family_id'], unique=False)
        batch_op.create_index('ix_oauth_tokens_purge_after', ['purge_after'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_oauth_tokens_purge_after')
        batch_op.drop_index('ix_oauth_tokens_family_id')
        batch_op.drop_index(batch_op.f('ix_oauth_tokens_client_pk'))

    op.drop_table('oauth_tokens')
    with op.batch_alter_table('oauth_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_oauth_codes_expires_at')

    op.drop_table('oauth_codes')
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_clients_institution_id'))

    op.drop_table('api_clients')
