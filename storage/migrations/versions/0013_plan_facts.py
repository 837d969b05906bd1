"""The report over all plans: per plan the few facts it counts, the names behind their bit
sets, and a professional's role (teamleider, beleidsmedewerker) with the invite that gives it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EUROS = sa.BigInteger()
# Covering indexes: the report reads the started and the finished plans from these alone.
STARTED_INDEX = ("started_quarter", "team", "started_on", "domains", "schuurt", "laws")
FINISHED_INDEX = (
    "finished_quarter",
    "team",
    "finished_on",
    "finished_days",
    "huidig",
    "dreigend",
    "doorbraak",
    "directe",
    "reele",
)


def upgrade() -> None:
    op.create_table(
        "plan_facts",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("started_quarter", sa.Integer(), nullable=False),
        sa.Column("finished_on", sa.Date(), nullable=True),
        sa.Column("finished_quarter", sa.Integer(), nullable=True),
        sa.Column("finished_days", sa.Integer(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("escalated_on", sa.Date(), nullable=True),
        sa.Column("evaluated_on", sa.Date(), nullable=True),
        sa.Column("domains", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("schuurt", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("laws", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("huidig", _EUROS, nullable=True),
        sa.Column("dreigend", _EUROS, nullable=True),
        sa.Column("doorbraak", _EUROS, nullable=True),
        sa.Column("directe", _EUROS, nullable=True),
        sa.Column("reele", _EUROS, nullable=True),
        sa.Column("sharing", sa.String(length=8), server_default="team", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_facts_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plan_facts")),
    )
    op.create_index("ix_plan_facts_started", "plan_facts", list(STARTED_INDEX))
    op.create_index("ix_plan_facts_finished", "plan_facts", list(FINISHED_INDEX))
    op.create_table(
        "report_names",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("bit", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("kind", "bit", name=op.f("pk_report_names")),
        sa.UniqueConstraint("kind", "name", name="uq_report_names_kind_name"),
    )
    # The plans there are now get their facts before the first report (bot.facts.backfill);
    # every plan after them gets them in its own turns.
    op.execute(
        "INSERT INTO meta (key, value) SELECT 'report_facts_before',"
        " CAST(coalesce(max(id), 0) AS TEXT) FROM plans"
    )
    with op.batch_alter_table("professionals") as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=20), server_default="professional", nullable=False)
        )
    with op.batch_alter_table("invites") as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=20), server_default="professional", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.drop_column("role")
    with op.batch_alter_table("professionals") as batch:
        batch.drop_column("role")
    op.execute("DELETE FROM meta WHERE key = 'report_facts_before'")
    op.drop_table("report_names")
    op.drop_table("plan_facts")
