"""The escalatieladder: proposals to escalate a plan, and escalations with their outcome.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("rung", sa.Integer(), nullable=False),
        sa.Column("rung_name", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("proposed_at", _AT, nullable=False),
        sa.Column("sent_at", _AT, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retry_at", _AT, nullable=True),
        sa.Column("failed_at", _AT, nullable=True),
        sa.Column("decided_at", _AT, nullable=True),
        sa.Column("author", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_at", _AT, nullable=True),
        sa.Column("outcome_by", sa.String(length=128), nullable=True),
        sa.CheckConstraint(
            "cause IN ('te_laat', 'besluit', 'hand')", name=op.f("ck_escalations_cause")
        ),
        sa.CheckConstraint(
            "state IN ('voorgesteld', 'opgeschaald', 'afgewezen', 'vervallen')",
            name=op.f("ck_escalations_state"),
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('opgelost', 'deels', 'niet')",
            name=op.f("ck_escalations_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_escalations_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_escalations_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("uid", name=op.f("uq_escalations_uid")),
        sa.UniqueConstraint("action_id", "due_on", name="uq_escalations_action_id_due_on"),
    )
    op.create_index("ix_escalations_plan_id", "escalations", ["plan_id", "id"])
    op.create_index("ix_escalations_sent_at", "escalations", ["sent_at", "state"])


def downgrade() -> None:
    op.drop_table("escalations")
