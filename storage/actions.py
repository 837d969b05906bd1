"""Actions of plans: kept in step with the actieplan answers, listed, done, moved; the caller
owns the transaction. What a point means (wie, wat, wanneer) is read by the caller."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, insert, or_, select, update
from sqlalchemy.orm import Session

from dialogs.status import PlanStatus
from storage.access import PlanAccess, Professional
from storage.codec import Codec
from storage.crypto import Keyring
from storage.models import (
    ACTION_OPEN,
    ACTION_POINT,
    Action,
    ActionEvent,
    Household,
    Plan,
)
from storage.outcomes import OutcomeRepository
from storage.reminders import ReminderRepository
from storage.tx import Tx

# The changes an event records (ActionEvent.change).
CREATED, CHANGED, STATUS, MOVED, REMOVED, RETURNED, OWNER = (
    "aangemaakt",
    "gewijzigd",
    "status",
    "datum",
    "weg",
    "terug",
    "eigenaar",
)


@dataclass(frozen=True)
class Wanted:
    """A point as the answer holds it now (`wie | wat | wanneer`), and its wanneer read as a
    date (None: not readable, or not given)."""

    point: str
    due: date | None


@dataclass(frozen=True)
class ActionRecord:
    id: int
    plan_id: int
    household: str
    plan_status: str
    field: str
    position: int
    point: str
    owner_id: int | None
    # The registered owner's keyed hash of their Telegram id (storage.access): what an
    # export names them by, found again only where the same key knows them.
    owner_key: str | None
    due: date | None
    status: str
    removed: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EventRecord:
    at: datetime
    author: str
    change: str
    status: str
    due: date | None


_COLUMNS = (
    Action.id,
    Action.uid,
    Action.plan_id,
    Action.field,
    Action.position,
    Action.point,
    Action.owner_id,
    Action.due,
    Action.status,
    Action.removed_at,
    Action.created_at,
    Action.updated_at,
    Plan.status.label("plan_status"),
    Household.number,
    Household.number_enc,
    Professional.user_key.label("owner_key"),
)


def _query() -> Any:
    return (
        select(*_COLUMNS)
        .join(Plan, Plan.id == Action.plan_id)
        .join(Household, Household.id == Plan.household_id)
        .outerjoin(Professional, Professional.id == Action.owner_id)
    )


class ActionRepository:
    """Actions and their history; never commits."""

    def __init__(self, tx: Tx | Session | Connection, keyring: Keyring) -> None:
        self._tx = Tx.of(tx)
        self._keyring = keyring
        self._codec = Codec(keyring)
        self._reminders = ReminderRepository(self._tx, keyring)

    # --- keeping actions in step with the answer -----------------------------------------

    def sync(
        self, plan_id: int, field: str, wanted: Sequence[Wanted], *, author: str, now: datetime
    ) -> None:
        """Make the plan's actions of `field` the points `wanted`, in their order.

        A point stored before keeps its action (and so its status and any new date given
        since); a point whose wie and wat stayed but whose wanneer changed keeps it with the
        new date; a new point is a new open action; a point no longer in the answer is kept,
        marked removed, and comes back as it was if the point does.
        """
        existing = [
            row
            for row in self._tx.execute(
                _query()
                .where(Action.plan_id == plan_id, Action.field == field)
                .order_by(Action.position, Action.id)
            )
        ]
        texts = {row.id: self._open_point(row) for row in existing}
        unmatched = {row.id: row for row in existing}
        plan: list[tuple[int, Wanted, Row[Any] | None, bool]] = []
        for position, item in enumerate(wanted):
            found = next((r for r in unmatched.values() if texts[r.id] == item.point), None)
            plan.append((position, item, found, True))
            if found is not None:
                del unmatched[found.id]
        for n, (position, item, found, _) in enumerate(plan):
            if found is None:
                same = next(
                    (r for r in unmatched.values() if _key(texts[r.id]) == _key(item.point)), None
                )
                if same is not None:
                    del unmatched[same.id]
                    plan[n] = (position, item, same, False)
        # Whether a date, a removal or an action changed: what the report counts of them.
        counted = False
        for position, item, found, exact in plan:
            if found is None:
                self._create(plan_id, field, position, item, author, now)
                counted = True
                continue
            values: dict[str, Any] = {}
            change = None
            if found.position != position:
                values["position"] = position
            if found.removed_at is not None:
                values["removed_at"] = None
                change = RETURNED
            if not exact:
                values["point"] = ACTION_POINT.seal(self._keyring, item.point, {"uid": found.uid})
                values["due"] = item.due
                change = change or (MOVED if item.due != found.due else CHANGED)
            if values:
                self._update(found.id, values, now)
            if change is not None:
                counted = True
                due = item.due if not exact else found.due
                self._event(found.id, author, change, found.status, due, now)
                self._reminders.schedule_action(found.plan_id, found.id, due, found.status, now)
        for row in unmatched.values():
            if row.removed_at is None:
                counted = True
                self._update(row.id, {"removed_at": now}, now)
                self._event(row.id, author, REMOVED, row.status, row.due, now)
                self._reminders.unschedule_action(row.id)
        if counted:
            # The report's count of actions done on time (storage.outcomes), in this turn.
            OutcomeRepository(self._tx).count_actions(plan_id)

    def _create(
        self, plan_id: int, field: str, position: int, item: Wanted, author: str, now: datetime
    ) -> None:
        made = EventRecord(now, author, CREATED, ACTION_OPEN, item.due)
        self.restore(
            plan_id,
            field,
            position,
            item.point,
            due=item.due,
            status=ACTION_OPEN,
            removed_at=None,
            created_at=now,
            updated_at=now,
            events=[made],
        )

    def restore(
        self,
        plan_id: int,
        field: str,
        position: int,
        point: str,
        *,
        due: date | None,
        status: str,
        removed_at: datetime | None,
        created_at: datetime,
        updated_at: datetime,
        events: Sequence[EventRecord],
        owner_key: str | None = None,
    ) -> int:
        """An action with its history as given: a new one, or one from a backup; its id. An
        `owner_key` makes the professional it names the owner, if they are registered here."""
        uid = uuid.uuid4().hex
        owner_id = None
        if owner_key is not None:
            owner_id = self._tx.execute(
                select(Professional.id).where(Professional.user_key == owner_key)
            ).scalar_one_or_none()
        action_id = self._tx.execute(
            insert(Action)
            .values(
                uid=uid,
                plan_id=plan_id,
                field=field,
                position=position,
                point=ACTION_POINT.seal(self._keyring, point, {"uid": uid}),
                owner_id=owner_id,
                due=due,
                status=status,
                removed_at=removed_at,
                created_at=created_at,
                updated_at=updated_at,
            )
            .returning(Action.id)
        ).scalar_one()
        for event in events:
            self._event(action_id, event.author, event.change, event.status, event.due, event.at)
        if removed_at is None:
            self._reminders.schedule_action(plan_id, action_id, due, status, updated_at)
        return int(action_id)

    # --- changing one action -------------------------------------------------------------

    def set_status(self, action_id: int, status: str, *, author: str, now: datetime) -> bool:
        """False if there is no such action (or it is out of its plan)."""
        row = self.get(action_id)
        if row is None or row.removed:
            return False
        if row.status != status:
            self._update(action_id, {"status": status}, now)
            self._touch(row.plan_id, now)
            self._event(action_id, author, STATUS, status, row.due, now)
            self._reminders.schedule_action(row.plan_id, action_id, row.due, status, now)
            OutcomeRepository(self._tx).count_actions(row.plan_id)
        return True

    def move(self, action_id: int, due: date, *, author: str, now: datetime) -> bool:
        """A new date for the action (the point's text keeps its wanneer as typed)."""
        row = self.get(action_id)
        if row is None or row.removed:
            return False
        if row.due != due:
            self._update(action_id, {"due": due}, now)
            self._touch(row.plan_id, now)
            self._event(action_id, author, MOVED, row.status, due, now)
            self._reminders.schedule_action(row.plan_id, action_id, due, row.status, now)
            OutcomeRepository(self._tx).count_actions(row.plan_id)
        return True

    def set_owner(
        self, action_id: int, owner_id: int | None, *, author: str, now: datetime
    ) -> bool:
        """A registered colleague as the action's owner (None: the wie as typed again); they
        see it in their /acties and get its reminders."""
        row = self.get(action_id)
        if row is None or row.removed:
            return False
        if row.owner_id != owner_id:
            self._update(action_id, {"owner_id": owner_id}, now)
            self._touch(row.plan_id, now)
            self._event(action_id, author, OWNER, row.status, row.due, now)
        return True

    def owns_in(self, plan_id: int, professional_id: int) -> bool:
        """Whether the professional owns an action of the plan (so may look at the plan)."""
        found = self._tx.execute(
            select(Action.id)
            .where(Action.plan_id == plan_id, Action.owner_id == professional_id)
            .where(Action.removed_at.is_(None))
            .limit(1)
        ).first()
        return found is not None

    def _update(self, action_id: int, values: dict[str, Any], now: datetime) -> None:
        self._tx.execute(
            update(Action).where(Action.id == action_id).values(**values, updated_at=now)
        )

    def _touch(self, plan_id: int, now: datetime) -> None:
        """Work on a plan's actions is work on the plan: retention counts from it."""
        self._tx.execute(update(Plan).where(Plan.id == plan_id).values(updated_at=now))

    def _event(
        self,
        action_id: int,
        author: str,
        change: str,
        status: str,
        due: date | None,
        now: datetime,
    ) -> None:
        self._tx.execute(
            insert(ActionEvent).values(
                action_id=action_id, at=now, author=author, change=change, status=status, due=due
            )
        )

    # --- reading -------------------------------------------------------------------------

    def get(self, action_id: int) -> ActionRecord | None:
        row = self._tx.execute(_query().where(Action.id == action_id)).one_or_none()
        return None if row is None else self._record(row)

    def of_plan(self, plan_id: int, *, removed: bool = False) -> list[ActionRecord]:
        """The plan's actions in the order of the answers (with those taken out, if asked)."""
        query = _query().where(Action.plan_id == plan_id)
        if not removed:
            query = query.where(Action.removed_at.is_(None))
        query = query.order_by(Action.field, Action.position, Action.id)
        return [self._record(row) for row in self._tx.execute(query)]

    def open_actions(
        self, *, plan_ids: Sequence[int] | None = None, owner_id: int | None = None
    ) -> list[ActionRecord]:
        """Open actions of plans that are not archived, soonest first (no date last): of
        `plan_ids` and those owned by `owner_id`, or of every plan when neither is given."""
        query = _query().where(
            Action.status == ACTION_OPEN,
            Action.removed_at.is_(None),
            Plan.status != PlanStatus.ARCHIVED,
        )
        if plan_ids is not None or owner_id is not None:
            mine: list[ColumnElement[bool]] = [Action.plan_id.in_(list(plan_ids or []))]
            if owner_id is not None:
                mine.append(Action.owner_id == owner_id)
            query = query.where(or_(*mine))
        query = query.order_by(
            Action.due.is_(None), Action.due, Action.plan_id, Action.field, Action.position
        )
        return [self._record(row) for row in self._tx.execute(query)]

    def may_change(self, action_id: int, professional_id: int) -> bool:
        """Whether the professional owns the action, or may work on its plan."""
        found = self._tx.execute(
            select(Action.id)
            .outerjoin(
                PlanAccess,
                and_(
                    PlanAccess.plan_id == Action.plan_id,
                    PlanAccess.professional_id == professional_id,
                ),
            )
            .where(Action.id == action_id)
            .where(or_(Action.owner_id == professional_id, PlanAccess.role.is_not(None)))
        ).first()
        return found is not None

    def events(self, action_id: int) -> list[EventRecord]:
        query = (
            select(ActionEvent.at, ActionEvent.author, ActionEvent.change)
            .add_columns(ActionEvent.status, ActionEvent.due)
            .where(ActionEvent.action_id == action_id)
            .order_by(ActionEvent.id)
        )
        return [EventRecord(*row) for row in self._tx.rows(query)]

    def _open_point(self, row: Row[Any]) -> str:
        return ACTION_POINT.open(self._keyring, row.point, {"uid": row.uid})

    def _record(self, row: Row[Any]) -> ActionRecord:
        return ActionRecord(
            id=row.id,
            plan_id=row.plan_id,
            household=self._codec.decode_household(row.number, row.number_enc),
            plan_status=row.plan_status,
            field=row.field,
            position=row.position,
            point=self._open_point(row),
            owner_id=row.owner_id,
            owner_key=row.owner_key,
            due=row.due,
            status=row.status,
            removed=row.removed_at is not None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def _key(point: str) -> str:
    """wie and wat of a stored point (`wie | wat | wanneer`), for matching a changed date."""
    return " | ".join(point.split(" | ")[:2]).casefold()
