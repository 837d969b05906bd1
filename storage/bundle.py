"""The rules of a plan's legitimiteit counted per law (plan_rule_laws), and what the report's
appendix of bundled cases reads from the facts: groups of alike plans and the plans whose
owner shares their texts within the team."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import ForeignKey, Integer, delete, func, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from storage.facts import SHARE_NONE, SHARE_TEAM, FactFilter, FactsRepository, PlanFactsRow
from storage.models import Base, Meta, Plan, utcnow
from storage.tx import Tx

# The kind of report_names whose bits name the laws of legitimiteit (its own list: the
# chafing laws' bits stay as they are).
RULE_LAW: Final = "regelwet"
# The law column of a rule whose law the plan does not tell.
NO_LAW: Final = -1
# The meta key holding the highest plan id from before the rules were counted (migration
# 0015): those plans get their counts before the first report; "0" once they have them.
RULES_BEFORE: Final = "report_rules_before"
SHARING: Final = (SHARE_TEAM, SHARE_NONE)


class PlanRuleLawRow(Base):
    """How many rules of a plan's legitimiteit belong to one law: a bit of RULE_LAW, or
    NO_LAW. Nothing of the rule's text is kept."""

    __tablename__ = "plan_rule_laws"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    law: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rules: Mapped[int] = mapped_column(Integer, nullable=False)


class BundleRepository:
    """plan_rule_laws and the sharing choice; the caller owns the transaction."""

    def __init__(self, tx: Tx) -> None:
        self._tx = Tx.of(tx)
        self._names = FactsRepository(self._tx)

    def store_rules(self, plan_id: int, by_law: Mapping[str | None, int]) -> None:
        """The plan's rules per law, replacing what was kept."""
        self._tx.execute(delete(PlanRuleLawRow).where(PlanRuleLawRow.plan_id == plan_id))
        rows = [
            {
                "plan_id": plan_id,
                "law": NO_LAW if law is None else self._names.bit(RULE_LAW, law),
                "rules": rules,
            }
            for law, rules in by_law.items()
            if rules
        ]
        if rows:
            self._tx.execute(insert(PlanRuleLawRow), rows)

    def rules_missing(self) -> list[int]:
        """Plans from before the rules were counted (migration 0015's marker) that have
        facts; [] at once when there are none."""
        before = self._tx.scalar(select(Meta.value).where(Meta.key == RULES_BEFORE))
        if not before or before == "0":
            return []
        query = (
            select(Plan.id)
            .join(PlanFactsRow, PlanFactsRow.plan_id == Plan.id)
            .where(Plan.id <= int(before))
            .order_by(Plan.id)
        )
        return list(self._tx.scalars(query))

    def rules_filled_in(self) -> None:
        self._tx.execute(update(Meta).where(Meta.key == RULES_BEFORE).values(value="0"))

    def sharing(self, plan_id: int) -> str | None:
        """The plan's sharing choice (SHARE_TEAM or SHARE_NONE); None without facts."""
        return self._tx.scalar(select(PlanFactsRow.sharing).where(PlanFactsRow.plan_id == plan_id))

    def set_sharing(self, plan_id: int, value: str) -> bool:
        """Store the sharing choice; False if the plan has no facts (yet)."""
        if value not in SHARING:
            raise ValueError(f"not a sharing choice: {value!r}")
        result = self._tx.execute(
            update(PlanFactsRow)
            .where(PlanFactsRow.plan_id == plan_id)
            .values(sharing=value, updated_at=utcnow())
        )
        return bool(result.rowcount)


class BundleReader:
    """What the rules per law and the appendix count, grouped by the database."""

    def __init__(self, tx: Tx) -> None:
        self._tx = Tx.of(tx)

    def rules_per_law(self, scope: FactFilter) -> list[tuple[int, int, int]]:
        """(law bit or NO_LAW, plans, rules) over the plans finished in scope."""
        query = (
            select(PlanRuleLawRow.law, func.count(), func.sum(PlanRuleLawRow.rules))
            .join(PlanFactsRow, PlanFactsRow.plan_id == PlanRuleLawRow.plan_id)
            .group_by(PlanRuleLawRow.law)
        )
        rows: list[Any] = list(
            self._tx.execute(scope.where(query, PlanFactsRow.finished_on)).all()
        )
        return [(int(law), int(plans), int(rules or 0)) for law, plans, rules in rows]

    def groups(self, scope: FactFilter, least: int) -> list[tuple[int, int, int]]:
        """(domains, laws, plans) of the finished plans in scope with the same domains and
        the same chafing laws, groups of at least `least` plans, the largest first."""
        plans = func.count()
        query = (
            select(PlanFactsRow.domains, PlanFactsRow.laws, plans)
            .where((PlanFactsRow.domains != 0) | (PlanFactsRow.laws != 0))
            .group_by(PlanFactsRow.domains, PlanFactsRow.laws)
            .having(plans >= least)
        )
        rows: list[Any] = list(
            self._tx.execute(scope.where(query, PlanFactsRow.finished_on)).all()
        )
        found = [(int(d), int(laws), int(n)) for d, laws, n in rows]
        return sorted(found, key=lambda row: (-row[2], row[0], row[1]))

    def shared(self, scope: FactFilter, team: str) -> list[tuple[int, int, int]]:
        """(plan id, domains, laws) of the plans finished in scope of `team` whose owner
        shares their texts within it."""
        query = (
            select(PlanFactsRow.plan_id, PlanFactsRow.domains, PlanFactsRow.laws)
            .where(PlanFactsRow.team == team)
            .where(PlanFactsRow.sharing == SHARE_TEAM)
            .order_by(PlanFactsRow.plan_id)
        )
        rows: list[Any] = list(
            self._tx.execute(scope.where(query, PlanFactsRow.finished_on)).all()
        )
        return [(int(plan), int(d), int(laws)) for plan, d, laws in rows]
