"""One turn of a plan in one transaction: load, let the dialog decide, store, then reply."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dialogs import Dialog, Error, Event, Outcome, Snapshot
from storage import PlanRecord, PlanRepository, StaleRevision

log = logging.getLogger(__name__)

# A concurrent writer to the same plan makes us reload and decide again.
MAX_ATTEMPTS = 3


class StorageUnavailable(Exception):
    """The database cannot be read or written (locked, read-only, gone)."""


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
        try:
            with self.sessions.begin() as session:
                repo = PlanRepository(session)
                record = None if new else repo.current_plan(household)
                if record is None:
                    record = repo.start_plan(
                        household, state=self.dialog.initial_state(), owner=owner
                    )
                    log.info("plan %s started", record.id)
                outcome = self.dialog.start(snapshot_of(record))
                # Resuming can move the position (a question removed from the YAML, or a
                # required one still open at the end); store it so the next answer lands there.
                saved = self._save(repo, record, outcome, owner)
                return Turn(record.id, household, outcome, dict(record.answers), saved)
        except OperationalError as exc:
            raise StorageUnavailable(str(exc.orig)) from exc

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

    def plans(self) -> list[PlanRecord]:
        try:
            with self.sessions() as session:
                return PlanRepository(session).list_plans()
        except OperationalError as exc:
            raise StorageUnavailable(str(exc.orig)) from exc

    def history(self, plan_id: int, field: str | None = None) -> list[Any]:
        with self.sessions() as session:
            return list(PlanRepository(session).history(plan_id, field))
