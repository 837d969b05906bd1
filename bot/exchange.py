"""Plans as JSON (docs/plan.schema.json): lossless export and import, for backups and analysis."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from dialogs import Interview, Kind
from dialogs.household import normalise_household
from dialogs.kinds import rules
from dialogs.rendement import PERIOD_FIELD, compare, lines_of, period_months, scenario_total
from dialogs.status import PlanStatus
from storage import AnswerRecord, PlanRecord

FORMAT = "doorbraakplan"
VERSION = 1


class PlanFileError(ValueError):
    """The file is not a valid plan export; the message says where."""


def export_plan(
    spec: Interview, record: PlanRecord, history: list[AnswerRecord]
) -> dict[str, Any]:
    """The whole plan: current answers, the full history, and the rendement figures."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "household": record.household,
        "status": record.status,
        "state": record.state,
        "dialog": record.data,
        "owner": record.owner,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "answers": record.answers,
        "history": [
            {
                "field": item.field,
                "value": item.value,
                "author": item.author,
                "at": item.created_at.isoformat(),
            }
            for item in history
        ],
        "rendement": rendement_figures(spec, record.answers),
    }


def rendement_figures(spec: Interview, answers: dict[str, Any]) -> dict[str, Any]:
    """Totals as exact decimal strings, derived from the lines (ignored on import)."""
    months = period_months(answers.get(PERIOD_FIELD))
    figures: dict[str, Any] = {"periode_maanden": str(months)}
    totals: dict[str, Decimal] = {}
    for field in spec.fields:
        if field.kind is Kind.COSTS and field.key in answers:
            total = scenario_total(spec.costs, lines_of(answers[field.key]), months)
            totals[field.scenario] = total
            figures[field.scenario] = str(total)
    if {"huidig", "dreigend", "doorbraak"} <= totals.keys():
        for comparison in compare(totals["huidig"], totals["dreigend"], totals["doorbraak"]):
            figures[comparison.key] = str(comparison.amount)
    return figures


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


class ImportedPlan:
    """A validated export, ready for PlanRepository.import_plan."""

    def __init__(self, document: dict[str, Any], history: list[AnswerRecord]) -> None:
        self.household: str = document["household"]
        self.status: str = document["status"]
        self.state: str = document["state"]
        self.data: dict[str, Any] = document["dialog"]
        self.owner: str | None = document["owner"]
        self.created_at = _time(document["created_at"], "created_at")
        self.updated_at = _time(document["updated_at"], "updated_at")
        self.history = history


def parse_plan(spec: Interview, text: str) -> ImportedPlan:
    """Validate an export; raises PlanFileError naming the first problem."""
    try:
        document = json.loads(text, parse_float=_no_float)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise PlanFileError("the top level must be an object")
    if document.get("format") != FORMAT or document.get("version") != VERSION:
        raise PlanFileError(f"expected format {FORMAT!r} version {VERSION}")
    for key, typ in (
        ("household", str),
        ("status", str),
        ("state", str),
        ("dialog", dict),
        ("answers", dict),
        ("history", list),
    ):
        if not isinstance(document.get(key), typ):
            raise PlanFileError(f"'{key}' is missing or has the wrong type")
    household = normalise_household(document["household"])
    if household is None or household != document["household"]:
        raise PlanFileError("'household' is not a valid household number")
    if document["status"] not in set(PlanStatus):
        raise PlanFileError(f"'status' must be one of {', '.join(PlanStatus)}")
    if document.get("owner") is not None and not isinstance(document["owner"], str):
        raise PlanFileError("'owner' must be a string or null")
    history = []
    for n, item in enumerate(document["history"]):
        where = f"history[{n}]"
        if not isinstance(item, dict) or not isinstance(item.get("field"), str):
            raise PlanFileError(f"{where}: needs 'field', 'value', 'author' and 'at'")
        if not isinstance(item.get("author"), str):
            raise PlanFileError(f"{where}: 'author' must be a string")
        if item.get("value") is not None:
            _check_value(spec, item["field"], item["value"], where)
        history.append(
            AnswerRecord(
                item["field"], item.get("value"), item["author"], _time(item.get("at"), where)
            )
        )
    current: dict[str, Any] = {}
    for record in history:
        if record.value is None:
            current.pop(record.field, None)
        else:
            current[record.field] = record.value
    if current != document["answers"]:
        raise PlanFileError("'answers' does not match the last value of each field in 'history'")
    return ImportedPlan(document, history)


def _no_float(text: str) -> Any:
    raise PlanFileError(f"numbers with a fraction ({text}) are not allowed; money is in cents")


def _time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise PlanFileError(f"{where}: a time must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PlanFileError(f"{where}: '{value}' is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        raise PlanFileError(f"{where}: a time needs a UTC offset")
    return parsed


def _check_value(spec: Interview, key: str, value: Any, where: str) -> None:
    """Values of known fields must have their kind's stored form; unknown fields are kept.

    The kinds registry decides; a kind missing from it raises UnknownKind rather than being
    read as some other kind.
    """
    if not spec.has_field(key):
        return
    kind = spec.field(key).kind
    if not rules(kind).check(value):
        raise PlanFileError(f"{where}: the value of '{key}' is not a valid {kind} answer")
