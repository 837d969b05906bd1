"""What the plan repository hands out, and the pure rules it applies to stored values."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


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


class StaleRevision(Exception):
    """Another writer saved this plan first (or the plan does not exist)."""


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


def distinct_times(answers: Sequence[tuple[str, datetime]]) -> list[datetime]:
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


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def reject_floats(value: Any, where: str) -> None:
    # A float would silently round money; amounts arrive as integer cents. The message names
    # the field only: answer values are personal data and must not reach logs.
    if isinstance(value, float):
        raise TypeError(f"{where} contains a float; store amounts as integer cents")
    if isinstance(value, dict):
        for item in value.values():
            reject_floats(item, where)
    elif isinstance(value, list | tuple):
        for item in value:
            reject_floats(item, where)
