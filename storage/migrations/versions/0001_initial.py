"""Create households, plans and answers.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_PLAN = "status <> 'gearchiveerd'"


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("number", name=op.f("uq_households_number")),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=128), nullable=False),
        sa.Column("data", sa.Text(), server_default="{}", nullable=False),
        sa.Column("revision", sa.Integer(), server_default="0", nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'klaar', 'gearchiveerd')", name=op.f("ck_plans_status")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_plans_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    op.create_index(op.f("ix_plans_household_id"), "plans", ["household_id"])
    op.create_index(op.f("ix_plans_updated_at"), "plans", ["updated_at"])
    op.create_index(
        "uq_plans_household_id_active",
        "plans",
        ["household_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_PLAN),
        postgresql_where=sa.text(ACTIVE_PLAN),
    )
    op.create_table(
        "answers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_answers_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
    )
    op.create_index("ix_answers_plan_id_id", "answers", ["plan_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_answers_plan_id_id", table_name="answers")
    op.drop_table("answers")
    op.drop_index("uq_plans_household_id_active", table_name="plans")
    op.drop_index(op.f("ix_plans_updated_at"), table_name="plans")
    op.drop_index(op.f("ix_plans_household_id"), table_name="plans")
    op.drop_table("plans")
    op.drop_table("households")
