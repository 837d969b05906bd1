"""Encryption at rest: the encrypted household number, and a meta table for the key check.

Existing rows are not converted here, since a migration has no key: storage.db.ensure_encrypted
encrypts them on the first start with a key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("number_enc", sa.Text(), nullable=True))
    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meta")),
    )


def downgrade() -> None:
    # Encrypted rows stay encrypted: a downgrade does not give back the plaintext.
    op.drop_table("meta")
    with op.batch_alter_table("households") as batch:
        batch.drop_column("number_enc")
