"""One turn of a plan in one transaction: load, let the dialog decide, store, then reply."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.exchange import ImportedPlan
from dialogs import Dialog, Error, Event, Outcome, Snapshot
from storage import AnswerRecord, PlanRecord, PlanRepository, StaleRevision

log = logging.getLogger(__name__)

# A concurrent writer to the same plan makes us reload and decide again.
MAX_ATTEMPTS = 3


class StorageUnavailable(Exception):
    """The database cannot be read or written (locked, read-only, gone)."""


@contextmanager
def _available() -> Iterator[None]:
    """Turn the driver's error for an unusable database into StorageUnavailable."""
    try:
        yield
    except OperationalError as exc:
        raise StorageUnavailable(str(exc.orig)) from exc


@dataclass(frozen=True)
class Turn:
    """The dialog's outcome and the plan as stored after it."""

    plan_id: int
    household: str
    outcome: Outcome
    answers: dict[str, Any]
    saved: bool


def snapshot_of(record: PlanRecord) -> Snapshot:
    return Snapshot(
        state=record.state,
        status=record.status,
        answers=record.answers,
        data=record.data,
        revision=record.revision,
    )


class PlanService:
    """The use cases every front end shares; the front end only converts input and output."""

    def __init__(self, dialog: Dialog, sessions: sessionmaker[Session]) -> None:
        self.dialog = dialog
        self.sessions = sessions

    def open(self, household: str, *, owner: str, new: bool = False) -> Turn:
        """Resume the household's current plan, or start one; returns the first replies."""
        with _available(), self.sessions.begin() as session:
            repo = PlanRepository(session)
            record = None if new else repo.current_plan(household)
            if record is None:
                record = repo.start_plan(household, state=self.dialog.initial_state(), owner=owner)
                log.info("plan %s started", record.id)
            outcome = self.dialog.start(snapshot_of(record))
            # Resuming can move the position (a question removed from the YAML, or a
            # required one still open at the end); store it so the next answer lands there.
            saved = self._save(repo, record, outcome, owner)
            return Turn(record.id, household, outcome, dict(record.answers), saved)

    def handle(self, plan_id: int, event: Event, *, author: str) -> Turn:
        """Apply one event; on a storage failure nothing is stored and the question is repeated."""
        for _ in range(MAX_ATTEMPTS):
            try:
                return self._handle_once(plan_id, event, author)
            except StaleRevision:
                log.info("plan %s changed concurrently; deciding again", plan_id)
            except OperationalError as exc:
                log.warning("plan %s not saved: %s", plan_id, type(exc.orig).__name__)
                return self._unsaved(plan_id)
        return self._unsaved(plan_id)

    def _handle_once(self, plan_id: int, event: Event, author: str) -> Turn:
        with self.sessions.begin() as session:
            repo = PlanRepository(session)
            record = repo.get(plan_id)
            if record is None:
                raise LookupError(f"plan {plan_id} does not exist")
            outcome = self.dialog.handle(snapshot_of(record), event)
            saved = self._save(repo, record, outcome, author)
            answers = dict(record.answers)
            for key, value in outcome.answers:
                answers[key] = value
            return Turn(plan_id, record.household, outcome, answers, saved)

    @staticmethod
    def _save(repo: PlanRepository, record: PlanRecord, outcome: Outcome, author: str) -> bool:
        changed = (
            bool(outcome.answers)
            or outcome.state != record.state
            or outcome.status != record.status
            or outcome.data != record.data
        )
        if changed:
            repo.save_turn(
                record.id,
                expected_revision=record.revision,
                state=outcome.state,
                data=outcome.data,
                status=outcome.status,
                answers=outcome.answers,
                author=author,
            )
        return changed

    def _unsaved(self, plan_id: int) -> Turn:
        """Tell the user nothing was stored and ask the same question again, if we can read."""
        error = Error(self.dialog.spec.message("opslaan_mislukt"))
        try:
            with self.sessions() as session:
                record = PlanRepository(session).get(plan_id)
        except OperationalError:
            record = None
        if record is None:
            outcome = Outcome(replies=(error,), state="", status="")
            return Turn(plan_id, "", outcome, {}, saved=False)
        again = self.dialog.start(snapshot_of(record))
        outcome = Outcome(
            replies=(error, *again.replies),
            state=record.state,
            status=record.status,
            data=record.data,
        )
        return Turn(plan_id, record.household, outcome, dict(record.answers), saved=False)

    def current(self, household: str) -> tuple[PlanRecord, list[AnswerRecord]] | None:
        """The household's current plan with its full answer history (for exports)."""
        with _available(), self.sessions() as session:
            repo = PlanRepository(session)
            record = repo.current_plan(household)
            if record is None:
                return None
            return record, repo.history(record.id)

    def restore(self, plan: ImportedPlan) -> PlanRecord:
        """Store an imported plan as the household's current one; the old one is archived."""
        with _available(), self.sessions.begin() as session:
            record = PlanRepository(session).import_plan(
                plan.household,
                status=plan.status,
                state=plan.state,
                data=plan.data,
                owner=plan.owner,
                created_at=plan.created_at,
                updated_at=plan.updated_at,
                history=plan.history,
            )
            log.info("plan %s imported", record.id)
            return record

    def plans(self) -> list[PlanRecord]:
        with _available(), self.sessions() as session:
            return PlanRepository(session).list_plans()
