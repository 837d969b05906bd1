"""Keeps what came true of each plan in its report facts (storage.outcomes): when an
evaluation is completed, its day, the two comparisons projected and realised in whole euros
and the professional's fixed-choice answers; fills them in for plans evaluated before."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import prompts
from bot.clock import AMSTERDAM
from dialogs import Interview
from dialogs.evaluation import DOORBRAAK, EXPERIENCE, Figures, result
from dialogs.facts import whole_euros
from dialogs.rendement import signed_comparisons
from storage import UnitOfWork, UnitOfWorkFactory
from storage.evaluations import EvaluationRecord
from storage.outcomes import EXPERIENCE_COLUMNS, OutcomeRepository, OutcomeValues

log = logging.getLogger(__name__)

# The evaluation's questions the report counts, by their key in storage.outcomes: whether the
# doorbraak came true, and the professional's experience (meer, sneller, zinvoller).
QUESTIONS = dict(zip(EXPERIENCE_COLUMNS, (DOORBRAAK, *EXPERIENCE), strict=True))


def outcome_values(
    plan_spec: Interview,
    evaluation_spec: Interview,
    given: Mapping[str, Any],
    answers: Mapping[str, Any],
    at: datetime,
) -> OutcomeValues:
    """A completed evaluation as the report keeps it: nothing but a day, four round amounts
    and choices of the evaluation's own lists (a free-text answer is never kept)."""
    found = result(plan_spec.costs, given, answers)
    figures: dict[str, int | None] = {
        "projected_directe": None,
        "projected_reele": None,
        "realised_directe": None,
        "realised_reele": None,
    }
    for prefix, scenario in (("projected", found.projected), ("realised", found.realised)):
        if scenario is not None:
            figures.update(_comparisons(prefix, scenario))
    experience = {
        key: _choice(evaluation_spec, field, answers) for key, field in QUESTIONS.items()
    }
    return OutcomeValues(at.astimezone(AMSTERDAM).date(), figures, experience)


def _comparisons(prefix: str, figures: Figures) -> dict[str, int]:
    # Signed as the plan's facts (dialogs.facts).
    directe, reele = signed_comparisons(figures.huidig, figures.dreigend, figures.doorbraak)
    return {f"{prefix}_directe": whole_euros(directe), f"{prefix}_reele": whole_euros(reele)}


def _choice(spec: Interview, key: str, answers: Mapping[str, Any]) -> str | None:
    value = answers.get(key)
    if not spec.has_field(key) or not isinstance(value, str):
        return None
    return value if value in spec.field(key).choices else None


class OutcomeKeeper:
    """Writes the outcome facts where the evaluation and the actions are written."""

    def __init__(
        self, plan_spec: Interview, units: UnitOfWorkFactory, evaluation: Interview | None = None
    ) -> None:
        self.plan_spec = plan_spec
        self.units = units
        self._evaluation = evaluation

    @property
    def evaluation(self) -> Interview:
        if self._evaluation is None:
            self._evaluation = prompts.load_evaluation()
        return self._evaluation

    def on_evaluated(
        self,
        uow: UnitOfWork,
        plan_id: int,
        given: Mapping[str, Any],
        answers: Mapping[str, Any],
        at: datetime,
    ) -> None:
        """An evaluation of the plan was completed in this unit of work (its last one)."""
        values = outcome_values(self.plan_spec, self.evaluation, given, answers, at)
        OutcomeRepository(uow.tx).set_outcome(plan_id, values)

    def fill_in(self, uow: UnitOfWork, plan_id: int) -> None:
        """A plan's facts made anew (imported, or from before the report): its last completed
        evaluation and its actions, as they are."""
        self._from_evaluations(uow, plan_id)
        OutcomeRepository(uow.tx).count_actions(plan_id)

    def backfill(self) -> int:
        """The outcome facts of the plans from before they were kept (migration 0016): the
        actions of all of them at once, the evaluations of those evaluated. The number of
        plans with an evaluation filled in."""
        with self.units(claim=False) as uow:
            outcomes = OutcomeRepository(uow.tx)
            before = outcomes.before()
            if not before:
                return 0
            outcomes.count_all_actions(before)
            evaluated = outcomes.evaluated_plans(before)
            for plan_id in evaluated:
                self._from_evaluations(uow, plan_id)
            outcomes.all_filled_in()
        if evaluated:
            log.info("report outcomes filled in for %d plans", len(evaluated))
        return len(evaluated)

    def _from_evaluations(self, uow: UnitOfWork, plan_id: int) -> None:
        done = [e for e in uow.evaluations.of_plan(plan_id) if e.done]
        if done:
            last: EvaluationRecord = done[-1]
            at = last.finished_at or last.updated_at
            values = outcome_values(self.plan_spec, self.evaluation, last.given, last.answers, at)
            OutcomeRepository(uow.tx).set_outcome(plan_id, values)
