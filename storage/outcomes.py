"""What came true of a plan, in its plan_facts row (the columns of migration 0016): its last
evaluation's figures and fixed-choice answers, and its actions done on time. Written in the
transaction of the change that alters them; read by the report without decrypting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update

from storage.evaluations import EVALUATION_DONE, Evaluation
from storage.facts import FactFilter, PlanFactsRow, quarter_of
from storage.models import ACTION_DONE, Action, ActionEvent, Meta, utcnow
from storage.tx import Tx

# The evaluation's two comparisons, projected and realised, in whole euros.
OUTCOME_MONEY: Final = (
    "projected_directe",
    "realised_directe",
    "projected_reele",
    "realised_reele",
)
# The evaluation's fixed-choice questions (prompts/evaluatie.yaml) by their column.
EXPERIENCE_COLUMNS: Final = {
    "doorbraak": "exp_doorbraak",
    "meer": "exp_meer",
    "sneller": "exp_sneller",
    "zinvoller": "exp_zinvoller",
}
# The meta key holding the highest plan id from before migration 0016: those plans get these
# facts before the next report; "0" once they have them.
OUTCOMES_BEFORE: Final = "report_outcomes_before"
# An action's history records a change of status with this word (storage.actions.STATUS).
_STATUS_CHANGE: Final = "status"
# Days are Dutch days, as everywhere in the facts (bot.clock.AMSTERDAM).
_DUTCH: Final = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class OutcomeValues:
    """A completed evaluation as the report keeps it: its day, the comparisons in whole euros
    (`realised_*` None while its costs are not answered), the fixed-choice answers."""

    realised_on: date
    figures: Mapping[str, int | None]
    experience: Mapping[str, str | None]


class OutcomeRepository:
    """The outcome columns of plan_facts; the caller owns the transaction."""

    def __init__(self, tx: Any) -> None:
        self._tx = Tx.of(tx)

    def set_outcome(self, plan_id: int, values: OutcomeValues) -> None:
        row: dict[str, Any] = {key: values.figures.get(key) for key in OUTCOME_MONEY}
        row.update(
            {column: values.experience.get(key) for key, column in EXPERIENCE_COLUMNS.items()}
        )
        self._tx.execute(
            update(PlanFactsRow)
            .where(PlanFactsRow.plan_id == plan_id)
            .values(
                realised_on=values.realised_on,
                realised_quarter=quarter_of(values.realised_on),
                updated_at=utcnow(),
                **row,
            )
        )

    def count_actions(self, plan_id: int) -> None:
        """Recount the plan's actions with a date and those done on or before it."""
        counted = _count(self._tx.execute(_dated().where(Action.plan_id == plan_id)).all())
        dated, on_time = counted.get(plan_id, (0, 0))
        self._tx.execute(
            update(PlanFactsRow)
            .where(PlanFactsRow.plan_id == plan_id)
            .values(actions_dated=dated, actions_on_time=on_time)
        )

    def count_all_actions(self, up_to: int) -> int:
        """Recount the actions of every plan up to id `up_to` at once; how many plans have
        dated actions."""
        rows = self._tx.execute(_dated().where(Action.plan_id <= up_to)).all()
        counted = _count(rows)
        if counted:
            self._tx.execute(
                update(PlanFactsRow)
                .where(PlanFactsRow.plan_id == bindparam("pid"))
                .values(actions_dated=bindparam("dated"), actions_on_time=bindparam("on_time")),
                [
                    {"pid": plan_id, "dated": dated, "on_time": on_time}
                    for plan_id, (dated, on_time) in counted.items()
                ],
            )
        return len(counted)

    def evaluated_plans(self, up_to: int) -> list[int]:
        """The plans up to id `up_to` with a completed evaluation."""
        query = (
            select(Evaluation.plan_id)
            .where(Evaluation.status == EVALUATION_DONE, Evaluation.plan_id <= up_to)
            .distinct()
            .order_by(Evaluation.plan_id)
        )
        return list(self._tx.scalars(query))

    def before(self) -> int:
        """The highest plan id from before the outcome facts that still needs them (0: none)."""
        found = self._tx.scalar(select(Meta.value).where(Meta.key == OUTCOMES_BEFORE))
        return int(found) if found and found.isdigit() else 0

    def all_filled_in(self) -> None:
        self._tx.execute(update(Meta).where(Meta.key == OUTCOMES_BEFORE).values(value="0"))


def _dated() -> Any:
    """(plan, due, status, when it was last marked done, last change) of each dated action
    that is in its plan."""
    done = (
        select(ActionEvent.action_id, func.max(ActionEvent.at).label("done_at"))
        .where(ActionEvent.change == _STATUS_CHANGE, ActionEvent.status == ACTION_DONE)
        .group_by(ActionEvent.action_id)
        .subquery()
    )
    return (
        select(Action.plan_id, Action.due, Action.status, done.c.done_at, Action.updated_at)
        .outerjoin(done, done.c.action_id == Action.id)
        .where(Action.removed_at.is_(None), Action.due.is_not(None))
    )


def _count(rows: Iterable[Any]) -> dict[int, tuple[int, int]]:
    counted: dict[int, tuple[int, int]] = {}
    for plan_id, due, status, done_at, updated_at in rows:
        dated, on_time = counted.get(plan_id, (0, 0))
        done = status == ACTION_DONE and _day(done_at or updated_at) <= due
        counted[plan_id] = (dated + 1, on_time + int(done))
    return counted


def _day(moment: datetime) -> date:
    if moment.tzinfo is None:  # func.max over SQLite: the stored UTC time, naive
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(_DUTCH).date()


class OutcomeReader:
    """What the report reads of the outcomes; every row is the database's."""

    def __init__(self, tx: Any) -> None:
        self._tx = Tx.of(tx)

    def evaluated(self, scope: FactFilter) -> list[tuple[Any, ...]]:
        """(quarter realised, team, *OUTCOME_MONEY, *experience) of every plan whose last
        evaluation was completed in scope."""
        table = PlanFactsRow.__table__.c
        columns = [table[name] for name in (*OUTCOME_MONEY, *EXPERIENCE_COLUMNS.values())]
        query = select(PlanFactsRow.realised_quarter, PlanFactsRow.team, *columns)
        return list(self._tx.execute(scope.where(query, PlanFactsRow.realised_on)).all())

    def actions(self, scope: FactFilter) -> list[tuple[Any, ...]]:
        """(finish quarter, team, plans with dated actions, dated actions, done on time) of
        the plans finished in scope."""
        query = (
            select(
                PlanFactsRow.finished_quarter,
                PlanFactsRow.team,
                func.count(),
                func.sum(PlanFactsRow.actions_dated),
                func.sum(PlanFactsRow.actions_on_time),
            )
            .where(PlanFactsRow.actions_dated > 0)
            .group_by(PlanFactsRow.finished_quarter, PlanFactsRow.team)
        )
        return list(self._tx.execute(scope.where(query, PlanFactsRow.finished_on)).all())
