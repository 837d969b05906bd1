"""Lessons of the reflectiesessie with an owner, a day and a status; reminders about them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ABOUT = (
    "(plan_id IS NOT NULL AND lesson_id IS NULL) OR (plan_id IS NULL AND lesson_id IS NOT NULL)"
)


def upgrade() -> None:
    op.create_table(
        "lessons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("owner_role", sa.String(length=20), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'gedaan', 'vervallen')", name=op.f("ck_lessons_status")
        ),
        sa.CheckConstraint(
            "owner_role IS NULL OR owner_role IN ('teamleider', 'beleidsmedewerker')",
            name=op.f("ck_lessons_role"),
        ),
        sa.CheckConstraint(
            "step IS NULL OR step IN ('tekst', 'bron', 'eigenaar', 'datum')",
            name=op.f("ck_lessons_step"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["professionals.id"],
            name=op.f("fk_lessons_owner_id_professionals"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
        sa.UniqueConstraint("uid", name=op.f("uq_lessons_uid")),
    )
    op.create_index("ix_lessons_team_status_due_on", "lessons", ["team", "status", "due_on"])
    op.create_index(op.f("ix_lessons_owner_id"), "lessons", ["owner_id"])
    op.create_index(op.f("ix_lessons_created_by"), "lessons", ["created_by"])
    with op.batch_alter_table("reminders") as batch:
        batch.alter_column("plan_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("lesson_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("professional_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_reminders_lesson_id_lessons"),
            "lessons",
            ["lesson_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_foreign_key(
            op.f("fk_reminders_professional_id_professionals"),
            "professionals",
            ["professional_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_reminders_lesson_id"), ["lesson_id"])
        batch.create_check_constraint(op.f("ck_reminders_about"), _ABOUT)


def downgrade() -> None:
    op.execute("DELETE FROM reminders WHERE plan_id IS NULL")
    with op.batch_alter_table("reminders") as batch:
        batch.drop_constraint(op.f("ck_reminders_about"), type_="check")
        batch.drop_index(op.f("ix_reminders_lesson_id"))
        batch.drop_constraint(
            op.f("fk_reminders_professional_id_professionals"), type_="foreignkey"
        )
        batch.drop_constraint(op.f("fk_reminders_lesson_id_lessons"), type_="foreignkey")
        batch.drop_column("professional_id")
        batch.drop_column("lesson_id")
        batch.alter_column("plan_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("lessons")
