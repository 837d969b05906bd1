"""Repository for interview plans and their append-only answer log; the caller owns the session."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from storage.cache import PlanCache
from storage.crypto import Keyring, TamperedData
from storage.db import run
from storage.models import (
    ANSWER_VALUE,
    CHAT_ID,
    CHAT_PURPOSE,
    HOUSEHOLD_NUMBER,
    PLAN_DATA,
    STATUS_GEARCHIVEERD,
    STATUS_OPEN,
    STATUSES,
    SUGGESTION_TEXT,
    Answer,
    Chat,
    Household,
    Plan,
    Suggestion,
    utcnow,
)


@dataclass(frozen=True)
class PlanRecord:
    id: int
    household: str
    status: str
    state: str
    data: dict[str, Any]
    revision: int
    owner: str | None
    created_at: datetime
    updated_at: datetime
    # Current value per field: the latest answer wins, and a cleared field is absent.
    answers: dict[str, Any]


@dataclass(frozen=True)
class AnswerRecord:
    field: str
    value: Any
    author: str
    created_at: datetime


@dataclass(frozen=True)
class ChatRecord:
    chat_id: int
    plan_id: int
    kind: str
    facilitator: str | None
    first_message_id: int | None = None


@dataclass(frozen=True)
class SuggestionRecord:
    plan_id: int
    step: int
    field: str
    author: str
    text: str
    created_at: datetime


# The purpose of the household number's keyed hash.
HOUSEHOLD_PURPOSE = "household"


# The columns of _plans_query: a plan row with its household's keyed hash and encrypted number.
PlanColumns = tuple[int, str, str, str, int, str | None, datetime, datetime, str, str | None]


class StaleRevision(Exception):
    """Another writer saved this plan first (or the plan does not exist)."""


class PlanRepository:
    """Plans and answers of households; never commits, so the caller decides the transaction.

    Household numbers are stored as keyed hashes (with the number encrypted beside them) and
    answers, plan data and suggestions encrypted, all through the codec helpers at the end.
    """

    def __init__(self, session: Session, keyring: Keyring) -> None:
        self._session = session
        self._keyring = keyring

    def current_plan(self, household: str) -> PlanRecord | None:
        """Return the household's plan that is not archived, if there is one."""
        row = self._session.execute(
            _plans_query()
            .where(Household.number == self._household_key(household))
            .where(Plan.status != STATUS_GEARCHIVEERD)
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
        _reject_floats(data or {}, "plan data")
        now = utcnow()
        key = self._household_key(household)
        household_row = self._session.scalars(
            select(Household).where(Household.number == key)
        ).one_or_none()
        if household_row is None:
            household_row = Household(
                number=key, number_enc=self._encode_household(key, household), created_at=now
            )
            self._session.add(household_row)
            self._session.flush()
        # Bumping the revision makes a writer still holding the old plan fail with
        # StaleRevision instead of writing into an archived plan.
        self._session.execute(
            update(Plan)
            .where(Plan.household_id == household_row.id)
            .where(Plan.status != STATUS_GEARCHIVEERD)
            .values(status=STATUS_GEARCHIVEERD, revision=Plan.revision + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        # The data is bound to the plan's id, which the insert assigns: an empty object first,
        # the data once the id is known. Starting a plan is rare; a turn never does this.
        plan = Plan(
            household_id=household_row.id,
            status=STATUS_OPEN,
            state=state,
            data="",
            revision=0,
            owner=owner,
            created_at=now,
            updated_at=now,
        )
        self._session.add(plan)
        self._session.flush()
        plan.data = self._encode_data(plan.id, data or {})
        self._session.flush()
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
        times = _distinct_times([(record.field, record.created_at) for record in history])
        rows = [
            self._answer_row(started.id, record.field, record.value, record.author, at)
            for record, at in zip(history, times, strict=True)
        ]
        if rows:
            self._session.execute(insert(Answer), rows)
        self._session.execute(
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
        row = run(self._session, _PLAN_BY_ID, {"plan_id": plan_id}).one_or_none()
        if row is None:
            return None
        cached = None if cache is None else cache.get((row.id, row.revision, row.created_at))
        if cached is None:
            return self._record(row)
        household, answers = cached
        return self._to_record(row, answers, household=household)

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
        data_text = self._encode_data(plan_id, data)
        now = utcnow()
        times = _distinct_times([(field, now) for field, _ in answers])
        rows = [
            self._answer_row(plan_id, field, value, author, at)
            for (field, value), at in zip(answers, times, strict=True)
        ]
        # The revision guard and the change are one statement, so two workers cannot both
        # pass the check; this is the whole of the optimistic locking.
        result = run(
            self._session,
            _SAVE_TURN,
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
            run(self._session, _INSERT_ANSWERS, rows)
        return expected_revision + 1

    def history(self, plan_id: int, field: str | None = None) -> list[AnswerRecord]:
        """Return the plan's answers (optionally of one field) in the order they were given."""
        query = select(Answer).where(Answer.plan_id == plan_id).order_by(Answer.id)
        if field is not None:
            query = query.where(Answer.field == field)
        return [
            AnswerRecord(
                field=answer.field,
                value=self._decode_value(answer.value, plan_id, answer.field, answer.created_at),
                author=answer.author,
                created_at=answer.created_at,
            )
            for answer in self._session.scalars(query)
        ]

    def archived_plans(self, household: str) -> list[PlanRecord]:
        """The household's archived plans, most recently updated first."""
        ids = self._session.scalars(
            select(Plan.id)
            .join(Household, Household.id == Plan.household_id)
            .where(Household.number == self._household_key(household))
            .where(Plan.status == STATUS_GEARCHIVEERD)
            .order_by(Plan.updated_at.desc(), Plan.id.desc())
        )
        return [record for plan_id in ids.all() if (record := self.get(plan_id)) is not None]

    def list_plans(self, *, include_archived: bool = False) -> list[PlanRecord]:
        """Return plans, most recently updated first."""
        plans = _plans_query().order_by(Plan.updated_at.desc(), Plan.id.desc())
        answers = (
            select(Answer.plan_id, Answer.field, Answer.value, Answer.created_at)
            .join(Plan, Plan.id == Answer.plan_id)
            .order_by(Answer.plan_id, Answer.id)
        )
        if not include_archived:
            plans = plans.where(Plan.status != STATUS_GEARCHIVEERD)
            answers = answers.where(Plan.status != STATUS_GEARCHIVEERD)
        answer_rows: dict[int, list[tuple[str, str | None, datetime]]] = {}
        for plan_id, field, value, created_at in self._session.execute(answers):
            answer_rows.setdefault(plan_id, []).append((field, value, created_at))
        return [
            self._to_record(row, self._current_answers(row.id, answer_rows.get(row.id, [])))
            for row in self._session.execute(plans)
        ]

    def open_plans(self, plan_ids: Sequence[int], *, limit: int = 20) -> list[PlanRecord]:
        """Of these plans, those not finished, most recently updated first."""
        if not plan_ids:
            return []
        plans = (
            _plans_query()
            .where(Plan.id.in_(list(plan_ids)))
            .where(Plan.status == STATUS_OPEN)
            .order_by(Plan.updated_at.desc(), Plan.id.desc())
            .limit(limit)
        )
        return [self._record(row) for row in self._session.execute(plans)]

    # --- chats and group sessions ----------------------------------------------------------

    # A chat is stored under the keyed hash of its id (a private chat's id is its user's
    # Telegram id) and found by it, so a lookup decrypts nothing: the caller has the id.

    def chat(self, chat_id: int) -> ChatRecord | None:
        row = run(self._session, _CHAT_BY_KEY, {"chat_key": self._chat_key(chat_id)})
        found = row.one_or_none()
        return None if found is None else _chat_record(chat_id, found)

    def bind_chat(
        self,
        chat_id: int,
        plan_id: int,
        *,
        kind: str,
        facilitator: str | None = None,
        first_message_id: int | None = None,
    ) -> ChatRecord:
        """Point a chat at a plan (and, in a group, at its facilitator)."""
        key = self._chat_key(chat_id)
        row = self._session.get(Chat, key)
        if row is None:
            sealed = CHAT_ID.seal(self._keyring, str(chat_id), {"chat_key": key})
            row = Chat(chat_key=key, chat_enc=sealed, plan_id=plan_id, kind=kind)
            self._session.add(row)
        elif row.plan_id == plan_id and first_message_id is not None and row.first_message_id:
            # Reopening the same plan keeps where it began in this chat.
            first_message_id = row.first_message_id
        row.plan_id, row.kind, row.facilitator = plan_id, kind, facilitator
        row.first_message_id = first_message_id
        row.updated_at = utcnow()
        self._session.flush()
        return _chat_record(chat_id, row)

    def unbind_chat(self, chat_id: int) -> None:
        self._session.execute(delete(Chat).where(Chat.chat_key == self._chat_key(chat_id)))

    def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its binding follows the new chat id."""
        row = self._session.get(Chat, self._chat_key(old_chat_id))
        if row is None or self._session.get(Chat, self._chat_key(new_chat_id)) is not None:
            return
        binding = _chat_record(old_chat_id, row)
        self._session.delete(row)
        self._session.flush()
        self.bind_chat(
            new_chat_id,
            binding.plan_id,
            kind=binding.kind,
            facilitator=binding.facilitator,
            first_message_id=binding.first_message_id,
        )

    def add_suggestion(
        self, plan_id: int, *, step: int, field: str, author: str, text: str
    ) -> SuggestionRecord:
        now = utcnow()
        row = Suggestion(
            plan_id=plan_id,
            step=step,
            field=field,
            author=author,
            text=SUGGESTION_TEXT.seal(
                self._keyring, text, {"plan_id": plan_id, "field": field, "created_at": now}
            ),
            created_at=now,
        )
        self._session.add(row)
        self._session.flush()
        return self._suggestion_record(row)

    def suggestions(self, plan_id: int, *, step: int | None = None) -> list[SuggestionRecord]:
        query = select(Suggestion).where(Suggestion.plan_id == plan_id).order_by(Suggestion.id)
        if step is not None:
            query = query.where(Suggestion.step == step)
        return [self._suggestion_record(row) for row in self._session.scalars(query)]

    def _record(self, row: Row[*tuple[Any, ...]]) -> PlanRecord:
        rows = run(self._session, _ANSWERS_OF_PLAN, {"plan_id": row.id})
        return self._to_record(row, self._current_answers(row.id, rows.all()))

    def _suggestion_record(self, row: Suggestion) -> SuggestionRecord:
        values = {"plan_id": row.plan_id, "field": row.field, "created_at": row.created_at}
        text = SUGGESTION_TEXT.open(self._keyring, row.text, values)
        return SuggestionRecord(row.plan_id, row.step, row.field, row.author, text, row.created_at)

    def _to_record(
        self, row: Row[*tuple[Any, ...]], answers: dict[str, Any], *, household: str | None = None
    ) -> PlanRecord:
        """A row of _plans_query as a record (`household` when it is known already)."""
        return PlanRecord(
            id=row.id,
            household=(
                self._decode_household(row.number, row.number_enc)
                if household is None
                else household
            ),
            status=row.status,
            state=row.state,
            data=self._decode_data(row.id, row.data),
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
                (field, self._decode_value(encoded, plan_id, field, created_at))
                for field, encoded, created_at in rows
            ),
        )

    # The methods below are the only places that turn a household number or chat id into its
    # stored key and an answer value, plan data or suggestion into its stored text and back.
    # Each value is bound to its row (storage.models.Encrypted). Decrypting raises WrongKey or
    # TamperedData (storage.crypto) rather than returning anything else.

    def _household_key(self, number: str) -> str:
        return self._keyring.hash(number, purpose=HOUSEHOLD_PURPOSE)

    def _chat_key(self, chat_id: int) -> str:
        return self._keyring.hash(str(chat_id), purpose=CHAT_PURPOSE)

    def _encode_household(self, key: str, number: str) -> str:
        return HOUSEHOLD_NUMBER.seal(self._keyring, number, {"number": key})

    def _decode_household(self, key: str, token: str | None) -> str:
        if token is None:
            raise TamperedData("households.number: not encrypted; run storage.db.ensure_encrypted")
        return HOUSEHOLD_NUMBER.open(self._keyring, token, {"number": key})

    def _answer_row(
        self, plan_id: int, field: str, value: Any, author: str, at: datetime
    ) -> dict[str, Any]:
        row = {"plan_id": plan_id, "field": field, "author": author, "created_at": at}
        if value is None:
            return {**row, "value": None}
        _reject_floats(value, f"answer {field!r}")
        return {**row, "value": ANSWER_VALUE.seal(self._keyring, _dumps(value), row)}

    def _decode_value(self, token: str | None, plan_id: int, field: str, at: datetime) -> Any:
        if token is None:
            return None
        row = {"plan_id": plan_id, "field": field, "created_at": at}
        return json.loads(ANSWER_VALUE.open(self._keyring, token, row))

    def _encode_data(self, plan_id: int, data: dict[str, Any]) -> str:
        _reject_floats(data, "plan data")
        return PLAN_DATA.seal(self._keyring, _dumps(data), {"id": plan_id})

    def _decode_data(self, plan_id: int, token: str) -> dict[str, Any]:
        data = json.loads(PLAN_DATA.open(self._keyring, token, {"id": plan_id}))
        if not isinstance(data, dict):
            raise ValueError("plan data is not a JSON object")
        return data


def with_changes(answers: Mapping[str, Any], changes: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Current answers after answer rows in order: the latest value wins and a cleared field
    (None) is absent. How the log is read back, and how a turn's changes apply to a plan."""
    current = dict(answers)
    for field, value in changes:
        if value is None:
            current.pop(field, None)
        else:
            current[field] = value
    return current


def _plans_query() -> Select[*PlanColumns]:
    # Columns, not ORM objects: nothing is kept in the session's identity map, so a
    # long-lived session can never serve a plan another writer has changed since.
    return select(
        Plan.id,
        Plan.status,
        Plan.state,
        Plan.data,
        Plan.revision,
        Plan.owner,
        Plan.created_at,
        Plan.updated_at,
        Household.number,
        Household.number_enc,
    ).join(Household, Household.id == Plan.household_id)


# The statements every turn runs, built once (see storage.db.run).
_PLAN_BY_ID = _plans_query().where(Plan.id == bindparam("plan_id"))
_ANSWERS_OF_PLAN = (
    select(Answer.field, Answer.value, Answer.created_at)
    .where(Answer.plan_id == bindparam("plan_id"))
    .order_by(Answer.id)
)
_CHAT_BY_KEY = select(Chat.plan_id, Chat.kind, Chat.facilitator, Chat.first_message_id).where(
    Chat.chat_key == bindparam("chat_key")
)
_SAVE_TURN = (
    update(Plan)
    .where(Plan.id == bindparam("plan_id"))
    .where(Plan.revision == bindparam("expected_revision"))
    .values(
        state=bindparam("new_state"),
        data=bindparam("new_data"),
        status=bindparam("new_status"),
        revision=Plan.revision + 1,
        updated_at=bindparam("new_updated_at"),
    )
)
_INSERT_ANSWERS = insert(Answer)


def _chat_record(chat_id: int, row: Chat | Row[*tuple[Any, ...]]) -> ChatRecord:
    """A chat as a record, from its ORM object or a row of _CHAT_BY_KEY (same names)."""
    return ChatRecord(chat_id, row.plan_id, row.kind, row.facilitator, row.first_message_id)


def _distinct_times(answers: Sequence[tuple[str, datetime]]) -> list[datetime]:
    """The times of (field, time) answers, a microsecond later where a field was answered
    twice at one time: an answer is bound to its plan, field and time, and two answers with
    the same three could be swapped unnoticed."""
    seen: set[tuple[str, datetime]] = set()
    times = []
    for field, at in answers:
        while (field, at) in seen:
            at += timedelta(microseconds=1)
        seen.add((field, at))
        times.append(at)
    return times


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _reject_floats(value: Any, where: str) -> None:
    # A float would silently round money; amounts arrive as integer cents. The message names
    # the field only: answer values are personal data and must not reach logs.
    if isinstance(value, float):
        raise TypeError(f"{where} contains a float; store amounts as integer cents")
    if isinstance(value, dict):
        for item in value.values():
            _reject_floats(item, where)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_floats(item, where)
