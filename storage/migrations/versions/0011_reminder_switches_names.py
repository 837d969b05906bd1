"""Reminders switched off per professional or per plan, a skipped reminder kept as such, and
a professional's display name (encrypted) for choosing a colleague as an action's owner.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("professionals") as batch:
        batch.add_column(sa.Column("name_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reminders_off_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("reminders_off_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("skipped_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reminders") as batch:
        batch.drop_column("skipped_at")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("reminders_off_at")
    with op.batch_alter_table("professionals") as batch:
        batch.drop_column("reminders_off_at")
        batch.drop_column("name_enc")
