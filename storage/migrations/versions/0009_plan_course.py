"""A plan's course after the interview (plan_course) and the budget claims of granted plans.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The recorded steps (dialogs.status.RECORDED); concept and klaar are the plan's own status.
_STAGES = "'ingediend', 'toegekend', 'deels', 'afgewezen', 'uitgevoerd', 'geëvalueerd'"


def upgrade() -> None:
    op.create_table(
        "plan_course",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("who", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.CheckConstraint(f"stage IN ({_STAGES})", name=op.f("ck_plan_course_stage")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_course_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_course")),
        sa.UniqueConstraint("uid", name=op.f("uq_plan_course_uid")),
    )
    op.create_index("ix_plan_course_plan_id_id", "plan_course", ["plan_id", "id"])
    op.create_table(
        "budget_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_budget_claims_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_claims")),
    )
    op.create_index(op.f("ix_budget_claims_plan_id"), "budget_claims", ["plan_id"])
    op.create_index(op.f("ix_budget_claims_team"), "budget_claims", ["team"])


def downgrade() -> None:
    op.drop_table("budget_claims")
    op.drop_table("plan_course")
