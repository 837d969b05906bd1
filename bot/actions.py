"""Opvolging: the actieplan's points as actions with an owner, a date and a status, kept in
step with the answers; listed, done and moved by every front end."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.clock import AMSTERDAM, Clock, SystemClock, day_off
from bot.config import Settings
from bot.formatting import DutchFormatter
from dialogs import Interview, Kind
from dialogs.actions import split_point
from dialogs.readings import read_date
from storage import UnitOfWork, UnitOfWorkFactory
from storage.access import Colleague, ProfessionalRecord
from storage.actions import ActionRecord, EventRecord, Wanted
from storage.models import ACTION_DONE, ACTION_STATUSES
from storage.reminders import ReminderRecord

# The plan's first evaluation: a reminder on that day.
EVALUATION_FIELD = "actieplan.evaluatie"
# The audit actions for a change to an action and for reminders switched on or off
# (bot.access names the others).
ACTION_CHANGED = "actie"
REMINDERS = "herinneringen"
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
            return self._audited(uow, action_id, actor, status)

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
        """Give the action a new date, `days` from today (a weekend day or a public holiday
        moves to the next working day)."""
        with self.units() as uow:
            if not self._may(uow, action_id, professional):
                return None
            due = working_day(self.today() + timedelta(days=days))
            if not uow.actions.move(action_id, due, author=actor, now=self.now()):
                return None
            return self._audited(uow, action_id, actor, "datum")

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

    # --- a registered colleague as owner -------------------------------------------------

    def colleagues(self, professional: ProfessionalRecord) -> list[Colleague]:
        """The registered professionals of the professional's team, themselves included."""
        with self.units(read_only=True) as uow:
            return uow.access.colleagues(professional.team)

    def set_owner(
        self,
        action_id: int,
        owner_id: int | None,
        *,
        actor: str,
        professional: ProfessionalRecord,
    ) -> ActionRecord | None:
        """Make a colleague of the same team the action's owner (None: nobody but the wie as
        typed); None if the action is not the professional's or the colleague not theirs."""
        with self.units() as uow:
            if not self._may(uow, action_id, professional):
                return None
            if owner_id is not None:
                found = uow.access.colleague(owner_id)
                if found is None or found[1] != professional.team:
                    return None
            if not uow.actions.set_owner(action_id, owner_id, author=actor, now=self.now()):
                return None
            return self._audited(uow, action_id, actor, "eigenaar")

    def owner_of(self, action: ActionRecord) -> tuple[Colleague, int] | None:
        """The action's registered owner and their Telegram user id, if it has one."""
        if action.owner_id is None:
            return None
        with self.units(read_only=True) as uow:
            found = uow.access.colleague(action.owner_id)
            user_id = uow.access.telegram_id(action.owner_id)
        return None if found is None or user_id is None else (found[0], user_id)

    def may_open(self, action: ActionRecord, professional_id: int) -> bool:
        """Whether the professional works on the action's plan (not only owns the action)."""
        with self.units(read_only=True) as uow:
            return uow.access.role(action.plan_id, professional_id) is not None

    def plan_ids(self, professional: ProfessionalRecord) -> list[int]:
        """The plans the professional works on (owns, or were shared with them)."""
        with self.units(read_only=True) as uow:
            return uow.access.plan_ids(professional.id)

    # --- reminders on or off -------------------------------------------------------------

    def rename(self, professional: ProfessionalRecord, name: str) -> None:
        """Keep the name colleagues see (Telegram's first_name) up to date."""
        with self.units(claim=False) as uow:
            uow.access.rename(professional.id, name)

    def reminders_off_since(self, professional: ProfessionalRecord) -> datetime | None:
        with self.units(read_only=True) as uow:
            return uow.reminders.professional_off_since(professional.id)

    def switch_reminders(self, professional: ProfessionalRecord, *, on: bool) -> None:
        with self.units() as uow:
            uow.reminders.switch_professional(professional.id, on=on, now=self.now())
            uow.access.audit(professional.actor, REMINDERS, None, "aan" if on else "uit")

    def plan_reminders_off_since(self, plan_id: int) -> datetime | None:
        with self.units(read_only=True) as uow:
            return uow.reminders.plan_off_since(plan_id)

    def switch_plan_reminders(self, plan_id: int, *, on: bool, actor: str) -> None:
        """Reminders about one plan on or off (the terminal, which has no professional)."""
        with self.units() as uow:
            uow.reminders.switch_plan(plan_id, on=on, now=self.now())
            uow.access.audit(actor, REMINDERS, plan_id, "aan" if on else "uit")

    def overdue(self, actions: Sequence[ActionRecord]) -> int:
        """How many of `actions` are past their date."""
        today = self.today()
        return sum(1 for a in actions if a.due is not None and a.due < today)

    def reminders(self, plan_id: int) -> list[ReminderRecord]:
        """The plan's reminders with what became of them (exports)."""
        with self.units(read_only=True) as uow:
            return uow.reminders.of_plan(plan_id)

    @staticmethod
    def _audited(uow: UnitOfWork, action_id: int, actor: str, detail: str) -> ActionRecord:
        """The action just changed, with the change in the audit log."""
        found = uow.actions.get(action_id)
        assert found is not None
        uow.access.audit(actor, ACTION_CHANGED, found.plan_id, detail)
        return found

    @staticmethod
    def _may(uow: UnitOfWork, action_id: int, professional: ProfessionalRecord | None) -> bool:
        return professional is None or uow.actions.may_change(action_id, professional.id)


def read_when(when: str, today: date) -> date | None:
    """A point's wanneer as a date, read by the interview's date reader; None if unreadable."""
    if not when:
        return None
    return read_date(_BY.sub("", _WITHIN.sub("over ", when)), today)


def working_day(day: date) -> date:
    """The day itself, or the first working day after it if it falls in a weekend or on a
    public holiday."""
    while day_off(day):
        day += timedelta(days=1)
    return day


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


def reminder_state(
    spec: Interview, settings: Settings, off_since: datetime | None, *, slash: bool
) -> str:
    """Whether the professional's reminders are on, when they come, and how to switch them
    (`slash`: as a Telegram command, else as the terminal's word)."""
    if off_since is None:
        state = spec.message("herinneringen_staan_aan")
    else:
        state = spec.message("herinneringen_staan_uit", datum=day_text(off_since))
    return "\n".join((state, reminder_times(spec, settings, slash=slash)))


def reminder_times(spec: Interview, settings: Settings, *, slash: bool) -> str:
    """When reminders come (the hours and quiet times set), and how to switch them."""
    key = (
        "herinneringen_tijden_ook_weekend" if settings.reminder_weekend else "herinneringen_tijden"
    )
    when = spec.message(key, van=settings.reminder_hour, tot=settings.reminder_until)
    how = spec.message("herinneringen_gebruik_telegram" if slash else "herinneringen_gebruik")
    return "\n".join((when, how))


def day_text(at: datetime) -> str:
    """The Dutch day of a moment, as the professional reads it."""
    return _FORMAT.date(at.astimezone(AMSTERDAM).date())


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
