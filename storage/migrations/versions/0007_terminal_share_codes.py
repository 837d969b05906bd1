"""Share codes made in the terminal (`doorbraakbot deel`) have no professional as their maker.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("share_codes") as batch:
        batch.alter_column("created_by", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # A code without a maker cannot be kept under the old rule; it is one-time and short-lived.
    op.execute("DELETE FROM share_codes WHERE created_by IS NULL")
    with op.batch_alter_table("share_codes") as batch:
        batch.alter_column("created_by", existing_type=sa.Integer(), nullable=False)
