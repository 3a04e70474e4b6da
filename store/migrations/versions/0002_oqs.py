"""OQS simulator: people, qualifications, medical-aid entrustments, reference numbers

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import store.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oqs_people',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kana', sa.String(length=128), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=40), nullable=False),
    sa.Column('town', sa.String(length=40), nullable=False),
    sa.Column('income_rank', sa.SmallInteger(), nullable=False),
    sa.Column('income_flag', sa.SmallInteger(), nullable=False),
    sa.Column('traits', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oqs_people'))
    )
    op.create_table('oqs_entrustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(length=32), nullable=False),
    sa.Column('institution_code', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['oqs_people.id'], name=op.f('fk_oqs_entrustments_person_id_oqs_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oqs_entrustments')),
    sa.UniqueConstraint('person_id', 'institution_code', name=op.f('uq_oqs_entrustments_person_id'))
    )
    with op.batch_alter_table('oqs_entrustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oqs_entrustments_person_id'), ['person_id'], unique=False)

    op.create_table('oqs_qualifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('card_classification', sa.String(length=2), nullable=False),
    sa.Column('insurer_number', sa.String(length=8), nullable=True),
    sa.Column('insurer_name', sa.String(length=100), nullable=False),
    sa.Column('symbol', sa.String(length=40), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('branch', sa.String(length=2), nullable=True),
    sa.Column('relationship_code', sa.String(length=1), nullable=True),
    sa.Column('insured_name', sa.String(length=64), nullable=True),
    sa.Column('qualification_date', sa.Date(), nullable=False),
    sa.Column('disqualification_date', sa.Date(), nullable=True),
    sa.Column('reason_of_loss', sa.String(length=2), nullable=True),
    sa.Column('public_payer_number', sa.String(length=8), nullable=True),
    sa.Column('recipient_number', sa.String(length=7), nullable=True),
    sa.Column('welfare_office', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['oqs_people.id'], name=op.f('fk_oqs_qualifications_person_id_oqs_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oqs_qualifications'))
    )
    with op.batch_alter_table('oqs_qualifications', schema=None) as batch_op:
        batch_op.create_index('ix_oqs_qualifications_lookup', ['number', 'insurer_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_oqs_qualifications_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_oqs_qualifications_recipient', ['recipient_number', 'public_payer_number'], unique=False)

    op.create_table('oqs_reference_numbers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_code', sa.String(length=10), nullable=False),
    sa.Column('person_id', sa.String(length=32), nullable=False),
    sa.Column('reference_number', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['oqs_people.id'], name=op.f('fk_oqs_reference_numbers_person_id_oqs_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oqs_reference_numbers')),
    sa.UniqueConstraint('institution_code', 'person_id', name=op.f('uq_oqs_reference_numbers_institution_code'))
    )
    with op.batch_alter_table('oqs_reference_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oqs_reference_numbers_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oqs_reference_numbers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oqs_reference_numbers_person_id'))

    op.drop_table('oqs_reference_numbers')
    with op.batch_alter_table('oqs_qualifications', schema=None) as batch_op:
        batch_op.drop_index('ix_oqs_qualifications_recipient')
        batch_op.drop_index(batch_op.f('ix_oqs_qualifications_person_id'))
        batch_op.drop_index('ix_oqs_qualifications_lookup')

    op.drop_table('oqs_qualifications')
    with op.batch_alter_table('oqs_entrustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oqs_entrustments_person_id'))

    op.drop_table('oqs_entrustments')
    op.drop_table('oqs_people')
