"""What came true, per plan, for the report over all plans: the last evaluation's day, its
projected and realised comparisons in whole euros, the professional's fixed-choice answers,
and the plan's actions with a date and those done on time.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EUROS = ("projected_directe", "projected_reele", "realised_directe", "realised_reele")
EXPERIENCE = ("exp_doorbraak", "exp_meer", "exp_sneller", "exp_zinvoller")
REALISED_INDEX = ("realised_quarter", "team", "realised_on", *EUROS, *EXPERIENCE)
ACTIONS_INDEX = ("finished_quarter", "team", "finished_on", "actions_dated", "actions_on_time")


def upgrade() -> None:
    with op.batch_alter_table("plan_facts") as batch:
        batch.add_column(sa.Column("realised_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("realised_quarter", sa.Integer(), nullable=True))
        for name in EUROS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=True))
        for name in EXPERIENCE:
            batch.add_column(sa.Column(name, sa.String(length=32), nullable=True))
        for name in ("actions_dated", "actions_on_time"):
            batch.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    op.create_index("ix_plan_facts_realised", "plan_facts", list(REALISED_INDEX))
    op.create_index("ix_plan_facts_actions", "plan_facts", list(ACTIONS_INDEX))
    # The plans there are now get these facts before the next report (bot.outcomes.backfill).
    op.execute(
        "INSERT INTO meta (key, value) SELECT 'report_outcomes_before',"
        " CAST(coalesce(max(id), 0) AS TEXT) FROM plans"
    )


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE key = 'report_outcomes_before'")
    op.drop_index("ix_plan_facts_actions", table_name="plan_facts")
    op.drop_index("ix_plan_facts_realised", table_name="plan_facts")
    with op.batch_alter_table("plan_facts") as batch:
        for name in (*EXPERIENCE, *EUROS, "realised_quarter", "realised_on"):
            batch.drop_column(name)
        for name in ("actions_dated", "actions_on_time"):
            batch.drop_column(name)
