"""Opvolging: the actieplan's points as actions with an owner, a date and a status, kept in
step with the answers; listed, done and moved by every front end."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.clock import AMSTERDAM, Clock, SystemClock
from bot.formatting import DutchFormatter
from dialogs import Interview, Kind
from dialogs.actions import split_point
from dialogs.readings import read_date
from storage import UnitOfWork, UnitOfWorkFactory
from storage.access import ProfessionalRecord
from storage.actions import ActionRecord, EventRecord, Wanted
from storage.models import ACTION_DONE, ACTION_STATUSES

# The plan's first evaluation: a reminder on that day.
EVALUATION_FIELD = "actieplan.evaluatie"
# The audit action for a change to an action (bot.access names the others).
ACTION_CHANGED = "actie"
_FORMAT = DutchFormatter()
# A wanneer is often a deadline: `binnen een week` is due over een week, `uiterlijk 1 april`
# on 1 april.
_WITHIN = re.compile(r"^\s*binnen\s+", re.IGNORECASE)
_BY = re.compile(r"^\s*(uiterlijk|voor|vóór|ten laatste|op)\s+", re.IGNORECASE)


def action_fields(spec: Interview) -> tuple[str, ...]:
    """The list fields whose items are points with a wie, a wat and a wanneer."""
    return tuple(
        field.key for field in spec.fields if field.kind is Kind.LIST and len(field.columns) >= 3
    )


@dataclass(frozen=True)
class Cells:
    """An action's point as its parts; an empty part was not given."""

    who: str
    what: str
    when: str


def cells(point: str) -> Cells:
    who, what, when = split_point(point, 3)[:3]
    return Cells(who, what, when)


class Actions:
    """The use cases of actions; each is one unit of work, except `on_saved`, which runs in
    the unit of work of the turn that stored the answers."""

    def __init__(
        self, spec: Interview, units: UnitOfWorkFactory, clock: Clock | None = None
    ) -> None:
        self.spec = spec
        self.units = units
        self.clock = clock or SystemClock()
        self.fields = action_fields(spec)
        self._watched = frozenset((*self.fields, EVALUATION_FIELD))

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.now().astimezone(AMSTERDAM).date()

    # --- from the answers ----------------------------------------------------------------

    def on_saved(
        self, uow: UnitOfWork, plan_id: int, answers: Sequence[tuple[str, Any]], author: str
    ) -> None:
        """The turn stored `answers`: bring the plan's actions and its evaluation reminder
        in step with those of them that hold points or the evaluation date."""
        latest = {field: value for field, value in answers if field in self._watched}
        if not latest:
            return
        now, today = self.now(), self.today()
        for field, value in latest.items():
            if field == EVALUATION_FIELD:
                due = _iso_date(value)
                uow.reminders.schedule_evaluation(plan_id, due, now)
            else:
                wanted = self.wanted(value, today)
                uow.actions.sync(plan_id, field, wanted, author=author, now=now)

    def wanted(self, value: Any, today: date) -> list[Wanted]:
        """The points of a list answer, each with its wanneer read as a date from `today`."""
        items = value if isinstance(value, list) else []
        found = []
        for item in items:
            if not isinstance(item, str):
                continue
            when = cells(item).when
            found.append(Wanted(item, read_when(when, today)))
        return found

    def derive(self, uow: UnitOfWork, plan_id: int, answers: dict[str, Any], author: str) -> None:
        """Actions and reminders for a plan that has answers but no actions yet (an import
        of a file from before actions were exported)."""
        self.on_saved(uow, plan_id, [(k, v) for k, v in answers.items()], author)

    # --- lists ---------------------------------------------------------------------------

    def open_for(self, professional: ProfessionalRecord) -> list[ActionRecord]:
        """The professional's open actions over all their plans, soonest first."""
        with self.units(read_only=True) as uow:
            plan_ids = uow.access.plan_ids(professional.id)
            return uow.actions.open_actions(plan_ids=plan_ids, owner_id=professional.id)

    def all_open(self) -> list[ActionRecord]:
        """Every open action of every plan (the terminal sees all), soonest first."""
        with self.units(read_only=True) as uow:
            return uow.actions.open_actions()

    def of_plan(self, plan_id: int) -> list[ActionRecord]:
        with self.units(read_only=True) as uow:
            return uow.actions.of_plan(plan_id)

    def history(self, plan_id: int) -> list[tuple[ActionRecord, list[EventRecord]]]:
        """Every action of the plan, those taken out of it too, with its events (exports)."""
        with self.units(read_only=True) as uow:
            return [
                (action, uow.actions.events(action.id))
                for action in uow.actions.of_plan(plan_id, removed=True)
            ]

    def get(
        self, action_id: int, professional: ProfessionalRecord | None = None
    ) -> ActionRecord | None:
        """The action, if it is in its plan still and (for a `professional`) theirs."""
        with self.units(read_only=True) as uow:
            if not self._may(uow, action_id, professional):
                return None
            found = uow.actions.get(action_id)
            return None if found is None or found.removed else found

    def household(self, plan_id: int, professional: ProfessionalRecord) -> str | None:
        """The household number of a plan the professional may work on."""
        with self.units(read_only=True) as uow:
            if uow.access.role(plan_id, professional.id) is None:
                return None
            record = uow.plans.get(plan_id)
            return None if record is None else record.household

    # --- changes -------------------------------------------------------------------------

    def set_status(
        self, action_id: int, status: str, *, actor: str, professional: ProfessionalRecord | None
    ) -> ActionRecord | None:
        """Mark an action gedaan, vervallen or open again; None if it is gone or, for a
        `professional`, neither theirs nor on a plan of theirs."""
        if status not in ACTION_STATUSES:
            raise ValueError(f"unknown action status {status!r}")
        with self.units() as uow:
            if not self._may(uow, action_id, professional):
                return None
            if not uow.actions.set_status(action_id, status, author=actor, now=self.now()):
                return None
            found = uow.actions.get(action_id)
            assert found is not None
            uow.access.audit(actor, ACTION_CHANGED, found.plan_id, status)
            return found

    def done(
        self, action_id: int, *, actor: str, professional: ProfessionalRecord | None = None
    ) -> ActionRecord | None:
        return self.set_status(action_id, ACTION_DONE, actor=actor, professional=professional)

    def move(
        self,
        action_id: int,
        days: int,
        *,
        actor: str,
        professional: ProfessionalRecord | None = None,
    ) -> ActionRecord | None:
        """Give the action a new date, `days` from today (a weekend day moves to Monday)."""
        with self.units() as uow:
            if not self._may(uow, action_id, professional):
                return None
            due = working_day(self.today() + timedelta(days=days))
            if not uow.actions.move(action_id, due, author=actor, now=self.now()):
                return None
            found = uow.actions.get(action_id)
            assert found is not None
            uow.access.audit(actor, ACTION_CHANGED, found.plan_id, "datum")
            return found

    def move_evaluation(
        self, plan_id: int, days: int, *, actor: str, professional: ProfessionalRecord | None
    ) -> date | None:
        """A new reminder for the plan's evaluation, `days` from today; None if not allowed."""
        with self.units() as uow:
            if professional is not None and uow.access.role(plan_id, professional.id) is None:
                return None
            if uow.plans.get(plan_id) is None:
                return None
            due = working_day(self.today() + timedelta(days=days))
            uow.reminders.later(plan_id, due, self.now())
            uow.access.audit(actor, ACTION_CHANGED, plan_id, "evaluatie")
            return due

    @staticmethod
    def _may(uow: UnitOfWork, action_id: int, professional: ProfessionalRecord | None) -> bool:
        return professional is None or uow.actions.may_change(action_id, professional.id)


def read_when(when: str, today: date) -> date | None:
    """A point's wanneer as a date, read by the interview's date reader; None if unreadable."""
    if not when:
        return None
    return read_date(_BY.sub("", _WITHIN.sub("over ", when)), today)


def working_day(day: date) -> date:
    """The day itself, or the Monday after it if it falls in a weekend."""
    return day + timedelta(days=max(0, 7 - day.weekday())) if day.weekday() >= 5 else day


def _iso_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# --- how an action reads, in every front end -----------------------------------------------


def due_text(spec: Interview, day: date | None) -> str:
    return spec.message("actie_geen_datum") if day is None else _FORMAT.date(day)


def line(spec: Interview, action: ActionRecord, *, in_plan: bool = False) -> str:
    """One action on one line: over all plans with its household, in a plan with its status."""
    parts = cells(action.point)
    values = {"datum": due_text(spec, action.due), "wie": parts.who, "wat": parts.what}
    if in_plan:
        status = spec.message(f"actie_status_{action.status}")
        return spec.message("actie_regel_plan", **values, status=status)
    return spec.message("actie_regel", **values, huishouden=action.household)


def listing(spec: Interview, actions: Sequence[ActionRecord], household: str | None) -> str:
    """The actions as a short text: a plan's actions, or the open ones over all plans."""
    if not actions:
        return spec.message("acties_geen" if household is None else "acties_geen_plan")
    head = (
        spec.message("acties_kop")
        if household is None
        else spec.message("acties_kop_plan", huishouden=household)
    )
    return "\n".join([head, *(line(spec, a, in_plan=household is not None) for a in actions)])


def as_json(action: ActionRecord) -> dict[str, Any]:
    """An action for the JSON-lines output of `doorbraakbot acties --jsonl`."""
    parts = cells(action.point)
    return {
        "type": "action",
        "household": action.household,
        "field": action.field,
        "position": action.position,
        "who": parts.who,
        "what": parts.what,
        "when": parts.when,
        "due": None if action.due is None else action.due.isoformat(),
        "status": action.status,
    }
