"""Repository for interview plans, their append-only answer log and ideas; the caller owns the
transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.orm import Session

from dialogs.status import PlanStatus
from storage.cache import PlanCache
from storage.chats import ChatRepository
from storage.codec import Codec
from storage.crypto import Keyring
from storage.models import (
    STATUSES,
    Answer,
    Household,
    Plan,
    Suggestion,
    utcnow,
)
from storage.records import (
    AnswerRecord,
    ChatRecord,
    PlanRecord,
    StaleRevision,
    SuggestionRecord,
    distinct_times,
    reject_floats,
    with_changes,
)
from storage.statements import (
    ANSWERS_OF_PLAN,
    INSERT_ANSWERS,
    PLAN_BY_ID,
    SAVE_TURN,
    TURN,
    plans_query,
)
from storage.tx import Tx

__all__ = ["ChatRepository", "PlanRepository", "StaleRevision", "TurnContext", "with_changes"]


@dataclass(frozen=True)
class TurnContext:
    """What a turn needs to know before the dialog decides, read in one statement."""

    plan: PlanRecord | None
    # The chat's binding as stored now (None: not bound), when the turn was given a chat.
    chat: ChatRecord | None
    # The professional's role on the plan (None: none, or no professional given).
    role: str | None


class PlanRepository:
    """Plans and answers of households; never commits, so the caller decides the transaction.

    Household numbers are stored as keyed hashes (with the number encrypted beside them) and
    answers, plan data and suggestions encrypted, all through the codec helpers at the end.
    """

    def __init__(self, tx: Tx | Session | Connection, keyring: Keyring) -> None:
        self._tx = Tx.of(tx)
        self._codec = Codec(keyring)

    def current_plan(self, household: str) -> PlanRecord | None:
        """Return the household's plan that is not archived, if there is one."""
        row = self._tx.execute(
            plans_query()
            .where(Household.number == self._codec.household_key(household))
            .where(Plan.status != PlanStatus.ARCHIVED)
        ).one_or_none()
        return None if row is None else self._record(row)

    def start_plan(
        self,
        household: str,
        *,
        state: str,
        owner: str | None,
        data: dict[str, Any] | None = None,
    ) -> PlanRecord:
        """Start a new open plan, archiving the household's current one (which is kept)."""
        reject_floats(data or {}, "plan data")
        now = utcnow()
        key = self._codec.household_key(household)
        household_row = self._tx.session.scalars(
            select(Household).where(Household.number == key)
        ).one_or_none()
        if household_row is None:
            household_row = Household(
                number=key, number_enc=self._codec.encode_household(key, household), created_at=now
            )
            self._tx.session.add(household_row)
            self._tx.session.flush()
        # Bumping the revision makes a writer still holding the old plan fail with
        # StaleRevision instead of writing into an archived plan.
        self._tx.execute(
            update(Plan)
            .where(Plan.household_id == household_row.id)
            .where(Plan.status != PlanStatus.ARCHIVED)
            .values(status=PlanStatus.ARCHIVED, revision=Plan.revision + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        # The data is bound to the plan's id, which the insert assigns: an empty object first,
        # the data once the id is known. Starting a plan is rare; a turn never does this.
        plan = Plan(
            household_id=household_row.id,
            status=PlanStatus.OPEN,
            state=state,
            data="",
            revision=0,
            owner=owner,
            created_at=now,
            updated_at=now,
        )
        self._tx.session.add(plan)
        self._tx.session.flush()
        plan.data = self._codec.encode_data(plan.id, data or {})
        self._tx.session.flush()
        return PlanRecord(
            id=plan.id,
            household=household,
            status=plan.status,
            state=plan.state,
            data=dict(data or {}),
            revision=plan.revision,
            owner=plan.owner,
            created_at=plan.created_at,
            updated_at=plan.updated_at,
            answers={},
        )

    def import_plan(
        self,
        household: str,
        *,
        status: str,
        state: str,
        data: dict[str, Any],
        owner: str | None,
        created_at: datetime,
        updated_at: datetime,
        history: Sequence[AnswerRecord],
    ) -> PlanRecord:
        """Store a plan from a backup with its full answer history, authors and times kept.

        Like start_plan, the household's current plan is archived, never overwritten.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown plan status {status!r}")
        started = self.start_plan(household, state=state, owner=owner, data=data)
        times = distinct_times([(record.field, record.created_at) for record in history])
        rows = [
            self._codec.answer_row(started.id, record.field, record.value, record.author, at)
            for record, at in zip(history, times, strict=True)
        ]
        if rows:
            self._tx.execute(insert(Answer), rows)
        self._tx.execute(
            update(Plan)
            .where(Plan.id == started.id)
            .values(status=status, created_at=created_at, updated_at=updated_at)
            .execution_options(synchronize_session=False)
        )
        imported = self.get(started.id)
        assert imported is not None
        return imported

    def get(self, plan_id: int, *, cache: PlanCache | None = None) -> PlanRecord | None:
        """The plan as this transaction sees it. With `cache`, its household number and
        answers come from there when they were cached at exactly the plan's stored version;
        filling the cache is the caller's, after its transaction committed."""
        row = self._tx.execute(PLAN_BY_ID, {"plan_id": plan_id}).one_or_none()
        return None if row is None else self._from_row(row, cache)

    def _from_row(self, row: Row[Any], cache: PlanCache | None) -> PlanRecord:
        cached = None if cache is None else cache.get((row.id, row.revision, row.created_at))
        if cached is None:
            return self._record(row)
        household, answers = cached
        return self._to_record(row, answers, household=household)

    def turn(
        self,
        plan_id: int,
        *,
        chat_key: str | None = None,
        professional_id: int | None = None,
        cache: PlanCache | None = None,
    ) -> TurnContext:
        """The plan (as `get`), the chat's binding and the professional's role on the plan,
        in one statement: a turn's reads before the dialog decides. The chat's binding comes
        as a ChatRecord whose chat id is 0 (the caller has the id; nothing is decrypted)."""
        params = {"plan_id": plan_id, "chat_key": chat_key, "professional_id": professional_id}
        row = self._tx.execute(TURN, params).one_or_none()
        if row is None:
            # No such plan; a chat bound to it cannot exist (deleted with it).
            return TurnContext(None, None, None)
        binding = None
        if row.chat_plan_id is not None:
            binding = ChatRecord(
                0, row.chat_plan_id, row.chat_kind, row.chat_facilitator, row.chat_first_message_id
            )
        return TurnContext(self._from_row(row, cache), binding, row.role)

    def save_turn(
        self,
        plan_id: int,
        *,
        expected_revision: int,
        state: str,
        data: dict[str, Any],
        status: str,
        answers: Sequence[tuple[str, Any]],
        author: str,
    ) -> int:
        """Record one dialog turn and return the plan's new revision.

        Raises StaleRevision, having written nothing, when the plan is no longer at
        ``expected_revision``.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown plan status {status!r}")
        # Encode everything before writing, so a rejected value leaves no partial turn.
        data_text = self._codec.encode_data(plan_id, data)
        now = utcnow()
        times = distinct_times([(field, now) for field, _ in answers])
        rows = [
            self._codec.answer_row(plan_id, field, value, author, at)
            for (field, value), at in zip(answers, times, strict=True)
        ]
        # The revision guard and the change are one statement, so two workers cannot both
        # pass the check; this is the whole of the optimistic locking.
        result = self._tx.execute(
            SAVE_TURN,
            {
                "plan_id": plan_id,
                "expected_revision": expected_revision,
                "new_state": state,
                "new_data": data_text,
                "new_status": status,
                "new_updated_at": now,
            },
        )
        if result.rowcount != 1:
            raise StaleRevision(f"plan {plan_id} is no longer at revision {expected_revision}")
        if rows:
            self._tx.execute(INSERT_ANSWERS, rows)
        return expected_revision + 1

    def history(self, plan_id: int) -> list[AnswerRecord]:
        """Return the plan's answers in the order they were given."""
        query = (
            select(Answer.field, Answer.value, Answer.author, Answer.created_at)
            .where(Answer.plan_id == plan_id)
            .order_by(Answer.id)
        )
        decode = self._codec.decode_value
        return [
            AnswerRecord(field, decode(value, plan_id, field, at), author, at)
            for field, value, author, at in self._tx.rows(query)
        ]

    def archived_plans(self, household: str) -> list[PlanRecord]:
        """The household's archived plans, most recently updated first."""
        ids = self._tx.session.scalars(
            select(Plan.id)
            .join(Household, Household.id == Plan.household_id)
            .where(Household.number == self._codec.household_key(household))
            .where(Plan.status == PlanStatus.ARCHIVED)
            .order_by(Plan.updated_at.desc(), Plan.id.desc())
        )
        return [record for plan_id in ids.all() if (record := self.get(plan_id)) is not None]

    def list_plans(self) -> list[PlanRecord]:
        """Return the plans that are not archived, most recently updated first."""
        plans = (
            plans_query()
            .where(Plan.status != PlanStatus.ARCHIVED)
            .order_by(Plan.updated_at.desc(), Plan.id.desc())
        )
        answers = (
            select(Answer.plan_id, Answer.field, Answer.value, Answer.created_at)
            .join(Plan, Plan.id == Answer.plan_id)
            .where(Plan.status != PlanStatus.ARCHIVED)
            .order_by(Answer.plan_id, Answer.id)
        )
        answer_rows: dict[int, list[tuple[str, str | None, datetime]]] = {}
        for plan_id, field, value, created_at in self._tx.rows(answers):
            answer_rows.setdefault(plan_id, []).append((field, value, created_at))
        return [
            self._to_record(row, self._current_answers(row.id, answer_rows.get(row.id, [])))
            for row in self._tx.execute(plans)
        ]

    def open_plans(self, plan_ids: Sequence[int], *, limit: int = 20) -> list[PlanRecord]:
        """Of these plans, those not finished, most recently updated first."""
        if not plan_ids:
            return []
        plans = (
            plans_query()
            .where(Plan.id.in_(list(plan_ids)))
            .where(Plan.status == PlanStatus.OPEN)
            .order_by(Plan.updated_at.desc(), Plan.id.desc())
            .limit(limit)
        )
        return [self._record(row) for row in self._tx.execute(plans)]

    def add_suggestion(
        self, plan_id: int, *, step: int, field: str, author: str, text: str
    ) -> SuggestionRecord:
        now = utcnow()
        sealed = self._codec.seal_suggestion(text, plan_id, field, now)
        values = {"plan_id": plan_id, "step": step, "field": field, "author": author}
        self._tx.execute(insert(Suggestion).values(**values, text=sealed, created_at=now))
        return SuggestionRecord(plan_id, step, field, author, text, now)

    def suggestions(self, plan_id: int, *, step: int | None = None) -> list[SuggestionRecord]:
        query = (
            select(Suggestion.step, Suggestion.field, Suggestion.author, Suggestion.text)
            .add_columns(Suggestion.created_at)
            .where(Suggestion.plan_id == plan_id)
            .order_by(Suggestion.id)
        )
        if step is not None:
            query = query.where(Suggestion.step == step)
        return [
            SuggestionRecord(
                plan_id,
                number,
                field,
                author,
                self._codec.open_suggestion(text, plan_id, field, at),
                at,
            )
            for number, field, author, text, at in self._tx.rows(query)
        ]

    def _record(self, row: Row[*tuple[Any, ...]]) -> PlanRecord:
        rows = self._tx.execute(ANSWERS_OF_PLAN, {"plan_id": row.id})
        return self._to_record(row, self._current_answers(row.id, rows.all()))

    def _to_record(
        self, row: Row[*tuple[Any, ...]], answers: dict[str, Any], *, household: str | None = None
    ) -> PlanRecord:
        """A row of plans_query as a record (`household` when it is known already)."""
        return PlanRecord(
            id=row.id,
            household=(
                self._codec.decode_household(row.number, row.number_enc)
                if household is None
                else household
            ),
            status=row.status,
            state=row.state,
            data=self._codec.decode_data(row.id, row.data),
            revision=row.revision,
            owner=row.owner,
            created_at=row.created_at,
            updated_at=row.updated_at,
            answers=answers,
        )

    def _current_answers(self, plan_id: int, rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
        """Current answers from (field, stored value, created_at) rows of one plan."""
        return with_changes(
            {},
            (
                (field, self._codec.decode_value(encoded, plan_id, field, created_at))
                for field, encoded, created_at in rows
            ),
        )
