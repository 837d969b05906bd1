"""The report's rules per law and its appendix of bundled cases: per plan, how many rules of
its legitimiteit belong to each law (no text).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_rule_laws",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("law", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rules", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_rule_laws_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "law", name=op.f("pk_plan_rule_laws")),
    )
    # The plans there are now get their rules counted before the first report
    # (bot.facts.backfill); every plan after them in its own turns.
    op.execute(
        "INSERT INTO meta (key, value) SELECT 'report_rules_before',"
        " CAST(coalesce(max(id), 0) AS TEXT) FROM plans"
    )


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE key = 'report_rules_before'")
    op.drop_table("plan_rule_laws")
