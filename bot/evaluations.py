"""The evaluation of a finished plan: a short interview (prompts/evaluatie.yaml) run by a
second Dialog in the plan's turn, kept per evaluation, with realised against projected
rendement as its result."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import prompts
from bot.actions import Actions, cells
from bot.clock import AMSTERDAM
from bot.formatting import DutchFormatter
from dialogs import (
    END,
    Command,
    Dialog,
    Document,
    Done,
    Event,
    Formatter,
    Interview,
    Message,
    Outcome,
    PlanStatus,
    Question,
    Snapshot,
    Text,
)
from dialogs.commands import parse_command
from dialogs.display import months_text, period_text
from dialogs.evaluation import (
    CHANGED,
    DOORBRAAK,
    EXPERIENCE,
    Result,
    done_action_ids,
    given_answers,
    months_between,
    result,
)
from dialogs.rendement import Comparison
from storage import PlanRecord, UnitOfWork
from storage.evaluations import EVALUATION_DONE, EVALUATION_OPEN, EvaluationRecord
from storage.models import ACTION_DONE, ACTION_OPEN

# Keys in the plan's dialog data: the evaluation in progress (its id; the plan's text goes
# there while it is set), and when the plan was first finished (by the bot's clock), which
# the months of an evaluation count from.
EVALUATING = "evaluatie"
FINISHED_AT = "klaar_sinds"
# And how many evaluations it has that are done: a document reads them only when there are.
EVALUATED = "evaluaties"
COMMAND = "evaluatie"


def is_evaluation(spec: Interview, event: Event | None) -> bool:
    """`evaluatie` (or `/evaluatie`), typed or as a command."""
    if isinstance(event, Text):
        command = parse_command(spec, event.text)
        return command is not None and command.name == COMMAND
    return isinstance(event, Command) and event.name == COMMAND


class Evaluations:
    """Built once per process; the plan service calls it in the unit of work of a turn on a
    finished plan that is being evaluated, or that hears `evaluatie`."""

    def __init__(
        self, plan_spec: Interview, spec: Interview, fmt: Formatter, actions: Actions
    ) -> None:
        self.plan_spec = plan_spec
        self.spec = spec
        self.fmt = fmt
        self.dialog = Dialog(spec, fmt)
        self.actions = actions
        # Called with (unit of work, plan id, author) when an evaluation is completed, in its
        # transaction: the plan's course records geëvalueerd (bot.bootstrap wires it).
        self.on_finished: list[Callable[[UnitOfWork, int, str], object]] = []
        # Called with (unit of work, plan id, given, answers, when) once a completed
        # evaluation is saved: the report's outcome facts (bot.outcomes) are kept there.
        self.on_done: list[
            Callable[[UnitOfWork, int, dict[str, Any], dict[str, Any], datetime], object]
        ] = []

    @classmethod
    def default(cls, plan_spec: Interview, actions: Actions) -> Evaluations:
        return cls(plan_spec, prompts.load_evaluation(), DutchFormatter(), actions)

    def applies(self, record: PlanRecord, event: Event | None) -> bool:
        """Whether this turn on the plan (None: opening it) is the evaluation's."""
        if record.status != PlanStatus.FINISHED:
            return False
        return EVALUATING in record.data or is_evaluation(self.plan_spec, event)

    def turn(
        self, uow: UnitOfWork, record: PlanRecord, event: Event | None, author: str
    ) -> Outcome:
        """One turn of the evaluation; the Outcome is the plan's (its data says whether an
        evaluation is in progress), with the evaluation's replies."""
        now = self.actions.now()
        data = dict(record.data)
        evaluation = self._current(uow, record, data)
        before: list[Any] = []
        if evaluation is None or event is None or is_evaluation(self.plan_spec, event):
            if evaluation is None:
                evaluation = self._start(uow, record, data, author, now)
                number = len(uow.evaluations.of_plan(record.id))
                key = "evaluatie_start"
            else:
                number = 0
                key = "evaluatie_hervat"
            months = evaluation.months
            before.append(
                Message(
                    self.spec.message(
                        key,
                        huishouden=record.household,
                        maanden=months_text(self.spec, self.fmt, Decimal(months)),
                        nummer=number,
                    )
                )
            )
            outcome = self.dialog.start(self._snapshot(evaluation, record.revision))
        else:
            outcome = self.dialog.handle(self._snapshot(evaluation, record.revision), event)
        answers = dict(evaluation.answers)
        answers.update(outcome.answers)
        # At its end, open points and all: what is not known yet stays unanswered.
        finished = outcome.state == END
        replies = [r for r in outcome.replies if not isinstance(r, Document | Done)]
        if finished:
            done = done_action_ids(evaluation.given, answers)
            for action_id in done:
                uow.actions.set_status(action_id, ACTION_DONE, author=author, now=now)
            replies.append(Message(self.summary(evaluation.given, answers, now)))
            for hook in self.on_finished:
                hook(uow, record.id, author)
            data.pop(EVALUATING, None)
            done_before = [e for e in uow.evaluations.of_plan(record.id) if e.done]
            data[EVALUATED] = len(done_before) + 1
        elif outcome.stopped:
            data.pop(EVALUATING, None)
        else:
            data[EVALUATING] = evaluation.id
        uow.evaluations.save(
            evaluation.id,
            state=outcome.state,
            status=EVALUATION_DONE if finished else EVALUATION_OPEN,
            answers={k: v for k, v in answers.items() if k not in evaluation.given},
            data=dict(outcome.data),
            now=now,
        )
        if finished:
            for done_hook in self.on_done:
                done_hook(uow, record.id, evaluation.given, answers, now)
        revision = record.revision + 1
        return Outcome(
            replies=tuple(
                replace(r, revision=revision) if isinstance(r, Question) else r
                for r in (*before, *replies)
            ),
            state=record.state,
            status=record.status,
            data=data,
            answers=(),
            stopped=outcome.stopped,
            persist=True,
        )

    def _current(
        self, uow: UnitOfWork, record: PlanRecord, data: dict[str, Any]
    ) -> EvaluationRecord | None:
        """The evaluation in progress: the one the plan points at, or an open one paused."""
        pointed = data.get(EVALUATING)
        if isinstance(pointed, int):
            found = uow.evaluations.get(pointed)
            if found is not None and found.plan_id == record.id and not found.done:
                return found
        open_ones = [e for e in uow.evaluations.of_plan(record.id) if not e.done]
        return open_ones[-1] if open_ones else None

    def _start(
        self,
        uow: UnitOfWork,
        record: PlanRecord,
        data: dict[str, Any],
        author: str,
        now: datetime,
    ) -> EvaluationRecord:
        since = _finished_day(data, record)
        months = months_between(since, now.astimezone(AMSTERDAM).date())
        actions = [
            (a.id, _action_label(a.point))
            for a in uow.actions.of_plan(record.id)
            if a.status == ACTION_OPEN
        ]
        given = given_answers(self.plan_spec, record.answers, actions, months)
        evaluation_id = uow.evaluations.add(
            record.id,
            state=self.dialog.initial_state(),
            months=months,
            given=given,
            author=author,
            now=now,
        )
        found = uow.evaluations.get(evaluation_id)
        assert found is not None
        return found

    @staticmethod
    def _snapshot(evaluation: EvaluationRecord, revision: int) -> Snapshot:
        return Snapshot(
            state=evaluation.state,
            status=PlanStatus.FINISHED if evaluation.done else PlanStatus.OPEN,
            answers={**evaluation.given, **evaluation.answers},
            data=evaluation.data,
            revision=revision,
        )

    # --- the result, in words ------------------------------------------------------------

    def result(self, evaluation: EvaluationRecord) -> Result:
        return result(self.plan_spec.costs, evaluation.given, evaluation.answers)

    def summary(self, given: dict[str, Any], answers: dict[str, Any], at: datetime) -> str:
        """The result as a chat message: projected against realised rendement."""
        found = result(self.plan_spec.costs, given, answers)
        day = at.astimezone(AMSTERDAM).date()
        lines = [
            self.spec.message(
                "evaluatie_resultaat",
                maanden=months_text(self.spec, self.fmt, Decimal(found.months)),
                datum=self.fmt.date(day),
                doorbraak=answers.get(DOORBRAAK, "?"),
            )
        ]
        lines += self.figure_lines(found)
        return "\n".join(lines)

    def figure_lines(self, found: Result) -> list[str]:
        """The doorbraakscenario and the two comparisons, projected against realised."""
        period = period_text(self.spec, self.fmt, Decimal(found.months))
        rows = [self.spec.message("evaluatie_rendement_kop", periode=period)]
        realised = found.realised
        rows.append(
            self.spec.message(
                "evaluatie_scenario",
                gepland=self.fmt.money(found.projected.doorbraak),
                gerealiseerd=self._money(None if realised is None else realised.doorbraak),
            )
        )
        for planned, real in (
            (found.projected.direct, None if realised is None else realised.direct),
            (found.projected.real, None if realised is None else realised.real),
        ):
            rows.append(
                self.spec.message(
                    "evaluatie_vergelijking",
                    gepland=f"{self.spec.message(f'rendement_{planned.key}')} "
                    f"{self.fmt.money(planned.amount)}",
                    gerealiseerd=self._comparison(real),
                )
            )
        return rows

    def _money(self, amount: Decimal | None, *, exact: bool = False) -> str:
        if amount is None:
            return self.spec.message("evaluatie_geen_kosten")
        return self.fmt.money(amount, exact=exact)

    def _comparison(self, comparison: Comparison | None, *, exact: bool = False) -> str:
        if comparison is None:
            return self.spec.message("evaluatie_geen_kosten")
        name = self.spec.message(f"rendement_{comparison.key}")
        return f"{name} {self.fmt.money(comparison.amount, exact=exact)}"

    def rows(self, evaluations: Sequence[EvaluationRecord]) -> list[dict[str, str]]:
        """The finished evaluations as rows of the documents' section "Evaluatie": plain
        text, one row per evaluation."""
        rows = []
        for evaluation in evaluations:
            if not evaluation.done:
                continue
            found = self.result(evaluation)
            realised = found.realised
            doorbraak, direct, real = (
                (None, None, None)
                if realised is None
                else (realised.doorbraak, realised.direct, realised.real)
            )
            answers = evaluation.answers
            day = (evaluation.finished_at or evaluation.updated_at).astimezone(AMSTERDAM).date()
            rows.append(
                {
                    "na": self.spec.message("document_evaluatie_maanden", maanden=found.months),
                    "datum": self.fmt.date(day),
                    "doorbraak": str(answers.get(DOORBRAAK, "")),
                    "ervaring": " / ".join(str(answers.get(key, "–")) for key in EXPERIENCE),
                    "verandering": str(answers.get(CHANGED, "")),
                    # In a table amounts have cents and "€" keeps to its amount (exact).
                    "scenario": f"{self._money(found.projected.doorbraak, exact=True)} → "
                    f"{self._money(doorbraak, exact=True)}",
                    "direct": f"{self._comparison(found.projected.direct, exact=True)} → "
                    f"{self._comparison(direct, exact=True)}",
                    "reeel": f"{self._comparison(found.projected.real, exact=True)} → "
                    f"{self._comparison(real, exact=True)}",
                }
            )
        return rows


def _action_label(point: str) -> str:
    parts = cells(point)
    return f"{parts.who}: {parts.what}" if parts.what else parts.who


def _finished_day(data: dict[str, Any], record: PlanRecord) -> date:
    stored = data.get(FINISHED_AT)
    if isinstance(stored, str):
        try:
            return datetime.fromisoformat(stored).astimezone(AMSTERDAM).date()
        except ValueError:
            pass
    return record.created_at.astimezone(AMSTERDAM).date()
