"""Deleting a plan with everything that hangs off it, and finding plans past retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, select

from storage.models import Base, Household, Plan
from storage.tx import Tx


def dependents(table: Table) -> list[tuple[Table, str, str]]:
    """Every (table, column, referred column) whose foreign key points into `table`, read
    from the models: a new table that belongs to a plan is deleted with it without a list
    to keep up. Tables of storage.access and storage.inbox count: importing the storage
    package registers them."""
    found = []
    for other in Base.metadata.sorted_tables:
        for key in other.foreign_keys:
            if key.column.table is table:
                found.append((other, key.parent.name, key.column.name))
    return found


class PlanDeletion:
    """Deletes plans and their rows; the caller owns the transaction."""

    def __init__(self, tx: Tx) -> None:
        self._tx = Tx.of(tx)

    def delete_plan(self, plan_id: int) -> bool:
        """Delete a plan with everything in it; its household goes too if no plan is left."""
        household_id = self._tx.scalar(select(Plan.household_id).where(Plan.id == plan_id))
        if household_id is None:
            return False
        # Explicit deletes rather than relying on ON DELETE CASCADE alone: SQLite only
        # cascades with foreign keys on, and every row of the plan must go.
        plans = Base.metadata.tables["plans"]
        self._clear(plans, plans.c.id == plan_id)
        remaining = self._tx.scalar(
            select(Plan.id).where(Plan.household_id == household_id).limit(1)
        )
        if remaining is None:
            self._tx.execute(delete(Household).where(Household.id == household_id))
        return True

    def inactive_plans(self, older_than: datetime) -> list[int]:
        return list(self._tx.scalars(select(Plan.id).where(Plan.updated_at < older_than)))

    def _clear(self, table: Table, rows: ColumnElement[bool]) -> None:
        """Delete `rows` of `table` after every row that refers to them, depth first."""
        for child, column, referred in dependents(table):
            self._clear(child, child.c[column].in_(select(table.c[referred]).where(rows)))
        self._tx.execute(delete(table).where(rows))
