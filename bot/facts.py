"""Keeps each plan's report facts (storage.facts) in step with its answers and status, in the
unit of work of the turn that stores them; and fills them in for plans made before."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bot.clock import AMSTERDAM
from bot.outcomes import OutcomeKeeper
from bot.rules import RulesKeeper
from dialogs import END, Interview
from dialogs.facts import plan_facts, watched_fields
from dialogs.status import PlanStatus
from storage import PlanRecord, UnitOfWork, UnitOfWorkFactory
from storage.access import professional_id_of
from storage.facts import FactValues
from storage.models import utcnow

log = logging.getLogger(__name__)


def dutch_day(moment: datetime) -> date:
    return moment.astimezone(AMSTERDAM).date()


class FactsKeeper:
    """What the report counts of a plan, written where the plan's answers are written."""

    def __init__(self, spec: Interview, units: UnitOfWorkFactory) -> None:
        self.spec = spec
        self.units = units
        # The rules of legitimiteit per law (issue 16), kept with the facts.
        self.rules = RulesKeeper(spec)
        self._watched = watched_fields(spec) | self.rules.fields
        # What came true (evaluations, actions on time): PlanService gives it the
        # evaluation's interview.
        self.outcomes = OutcomeKeeper(spec, units)

    def on_started(self, uow: UnitOfWork, record: PlanRecord) -> None:
        team = self._team(uow, record.owner)
        uow.facts.start(record.id, team=team, started_on=dutch_day(record.created_at))

    def on_saved(
        self,
        uow: UnitOfWork,
        record: PlanRecord,
        answers: Sequence[tuple[str, Any]],
        status: str,
        after: Callable[[], Mapping[str, Any]],
    ) -> None:
        """A turn stored `answers` and `status` (the plan's answers are now `after()`): store
        the facts when what they are made of changed. A turn that changes neither costs
        nothing here."""
        finished_now = status == PlanStatus.FINISHED and record.status != PlanStatus.FINISHED
        reopened = status == PlanStatus.OPEN and record.status == PlanStatus.FINISHED
        if not (finished_now or reopened or any(f in self._watched for f, _ in answers)):
            return
        known, finished_on = uow.facts.finished_on(record.id)
        if finished_now:
            finished_on = dutch_day(utcnow())
        elif status != PlanStatus.FINISHED:
            finished_on = None
        elif not known:
            # A plan finished before the report existed, changed now: as backfill would.
            finished_on = dutch_day(record.updated_at)
        self._store(uow, record, after(), finished_on)

    def on_imported(self, uow: UnitOfWork, record: PlanRecord) -> None:
        """An imported plan: its facts from its answers (finished on its last change), and
        the same plan imported before no longer counted."""
        finished = dutch_day(record.updated_at) if record.status == PlanStatus.FINISHED else None
        self._store(uow, record, record.answers, finished)
        uow.facts.supersede(record.id)
        self.outcomes.fill_in(uow, record.id)

    def backfill(self) -> int:
        """Facts for every plan that has none: the plans made before the report existed
        (every plan since gets them in its turns). The number filled in. A finished plan
        counts as finished on its last change."""
        with self.units(claim=False) as uow:
            missing = uow.facts.missing()
            for plan_id in missing:
                record = uow.plans.get(plan_id)
                if record is None:
                    continue
                day = dutch_day(record.updated_at) if _finished(record) else None
                self._store(uow, record, record.answers, day)
                self.outcomes.fill_in(uow, record.id)
            uow.facts.all_filled_in()
            self.rules.backfill(uow)
        if missing:
            log.info("report facts filled in for %d plans", len(missing))
        self.outcomes.backfill()
        return len(missing)

    def _store(
        self,
        uow: UnitOfWork,
        record: PlanRecord,
        answers: Mapping[str, Any],
        finished_on: date | None,
    ) -> None:
        facts = plan_facts(self.spec, answers)
        uow.facts.store(
            record.id,
            FactValues(facts.names, facts.totals, finished_on),
            started_on=dutch_day(record.created_at),
            team=lambda: self._team(uow, record.owner),
        )
        self.rules.store(uow, record.id, answers)

    @staticmethod
    def _team(uow: UnitOfWork, owner: str | None) -> str | None:
        professional = professional_id_of(owner)
        return None if professional is None else uow.access.team_of(professional)


def _finished(record: PlanRecord) -> bool:
    # An archived plan counts as finished if it was: no status before archiving is kept,
    # but a finished plan is at the dialog's end.
    return record.status == PlanStatus.FINISHED or record.state == END
