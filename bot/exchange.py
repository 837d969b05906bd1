"""Plans as JSON (docs/plan.schema.json): lossless export and import, for backups and analysis."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dialogs import Interview, Kind
from dialogs.evaluation import figures_json, result
from dialogs.household import normalise_household
from dialogs.kinds import rules
from dialogs.money import CENT
from dialogs.rendement import PERIOD_FIELD, compare, lines_of, period_months, scenario_total
from dialogs.status import RECORDED, PlanStatus, Stage
from storage import AnswerRecord, PlanRecord
from storage.actions import ActionRecord, EventRecord
from storage.course import ClaimRecord, StepRecord
from storage.escalations import CAUSES, OUTCOMES, STATES, EscalationRecord
from storage.evaluations import EVALUATION_STATUSES, EvaluationRecord
from storage.models import ACTION_STATUSES, REMIND_ACTION, REMIND_EVALUATION
from storage.reminders import ReminderRecord

FORMAT = "doorbraakplan"
# Version 2 adds the plan's actions (opvolging); a version 1 file still imports, and its
# actions are made from its answers. Version 3 adds the plan's life after the interview: its
# course (status history and budget claims, under "course"), the escalations
# (escalatieladder), the evaluations, and the reminders with what became of them, so an
# import never sends one again.
VERSION = 3
VERSIONS = (1, 2, 3)


class PlanFileError(ValueError):
    """The file is not a valid plan export; the message says where."""


def export_plan(
    spec: Interview,
    record: PlanRecord,
    history: list[AnswerRecord],
    actions: list[tuple[ActionRecord, list[EventRecord]]] | None = None,
    *,
    course: tuple[list[StepRecord], list[ClaimRecord]] | None = None,
    escalations: list[EscalationRecord] | None = None,
    evaluations: list[EvaluationRecord] | None = None,
    reminders: list[ReminderRecord] | None = None,
) -> dict[str, Any]:
    """The whole plan: current answers, the full history, the actions with their history,
    the rendement figures, and its life after the interview (course, escalations,
    evaluations with their realised figures, reminders)."""
    places = {action.id: n for n, (action, _) in enumerate(actions or [])}
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
        "actions": [_action(action, events) for action, events in actions or []],
        "course": _course(*(course or ([], []))),
        "escalations": [_escalation(e, places) for e in escalations or []],
        "evaluations": [_evaluation(spec, e) for e in evaluations or []],
        "reminders": [_reminder(reminder, places) for reminder in reminders or []],
    }


def _escalation(record: EscalationRecord, places: dict[int, int]) -> dict[str, Any]:
    """An escalation; `action` is the place of its action in `actions` (or null)."""

    def at(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "action": None if record.action_id is None else places.get(record.action_id),
        "due_on": None if record.due_on is None else record.due_on.isoformat(),
        "cause": record.cause,
        "rung": record.rung,
        "rung_name": record.rung_name,
        "state": record.state,
        "proposed_at": record.proposed_at.isoformat(),
        "sent_at": at(record.sent_at),
        "decided_at": at(record.decided_at),
        "author": record.author,
        "reason": record.reason,
        "outcome": record.outcome,
        "outcome_at": at(record.outcome_at),
        "outcome_by": record.outcome_by,
    }


def _course(steps: list[StepRecord], claims: list[ClaimRecord]) -> dict[str, Any]:
    """The plan's course: every step, and its claim on a doorbraakbudget (exact euros)."""
    return {
        "steps": [
            {
                "stage": step.stage.value,
                "at": step.at.isoformat(),
                "author": step.author,
                "who": step.who,
                "day": step.day.isoformat(),
            }
            for step in steps
        ],
        "claims": [
            {
                "team": claim.team,
                "amount": str(claim.amount),
                "day": claim.day.isoformat(),
                "at": claim.at.isoformat(),
                "author": claim.author,
            }
            for claim in claims
        ],
    }


def _evaluation(spec: Interview, evaluation: EvaluationRecord) -> dict[str, Any]:
    finished = evaluation.finished_at
    return {
        "status": evaluation.status,
        "state": evaluation.state,
        "months": evaluation.months,
        "author": evaluation.author,
        "created_at": evaluation.created_at.isoformat(),
        "updated_at": evaluation.updated_at.isoformat(),
        "finished_at": None if finished is None else finished.isoformat(),
        "given": evaluation.given,
        "answers": evaluation.answers,
        "dialog": evaluation.data,
        # Derived on export, for analysis; ignored on import.
        "figures": figures_json(result(spec.costs, evaluation.given, evaluation.answers)),
    }


def _reminder(reminder: ReminderRecord, places: dict[int, int]) -> dict[str, Any]:
    def moment(at: datetime | None) -> str | None:
        return None if at is None else at.isoformat()

    return {
        "kind": reminder.kind,
        # Its action's place in "actions"; null for the evaluation's.
        "action": None if reminder.action_id is None else places.get(reminder.action_id),
        "due": reminder.due_on.isoformat(),
        "sent_at": moment(reminder.sent_at),
        "skipped_at": moment(reminder.skipped_at),
        "failed_at": moment(reminder.failed_at),
    }


def _action(action: ActionRecord, events: list[EventRecord]) -> dict[str, Any]:
    return {
        "field": action.field,
        "position": action.position,
        "point": action.point,
        "owner": action.owner_key,
        "due": None if action.due is None else action.due.isoformat(),
        "status": action.status,
        "removed": action.removed,
        "created_at": action.created_at.isoformat(),
        "updated_at": action.updated_at.isoformat(),
        "history": [
            {
                "at": event.at.isoformat(),
                "author": event.author,
                "change": event.change,
                "status": event.status,
                "due": None if event.due is None else event.due.isoformat(),
            }
            for event in events
        ],
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

    def __init__(
        self,
        document: dict[str, Any],
        history: list[AnswerRecord],
        actions: list[dict[str, Any]] | None = None,
        *,
        course: Course | None = None,
        escalations: list[dict[str, Any]] | None = None,
        evaluations: list[dict[str, Any]] | None = None,
        reminders: list[ReminderRecord] | None = None,
    ) -> None:
        self.household: str = document["household"]
        self.status: str = document["status"]
        self.state: str = document["state"]
        self.data: dict[str, Any] = document["dialog"]
        self.owner: str | None = document["owner"]
        self.created_at = _time(document["created_at"], "created_at")
        self.updated_at = _time(document["updated_at"], "updated_at")
        self.history = history
        # Keyword arguments of ActionRepository.restore per action; None for a version 1
        # file, whose actions are made from its answers.
        self.actions = actions
        # The steps and claims of the plan's course (empty before version 3).
        self.course = course or Course()
        # Keyword arguments of EscalationRepository.restore, `action` the place of its
        # action in `actions`; none before version 3.
        self.escalations = escalations or []
        # Keyword arguments of EvaluationRepository.add per evaluation (none before version 3).
        self.evaluations = evaluations or []
        # Reminders with their action_id as the action's place in `actions`; None for a file
        # without them, whose reminders are scheduled from its actions.
        self.reminders = reminders


def parse_plan(spec: Interview, text: str) -> ImportedPlan:
    """Validate an export; raises PlanFileError naming the first problem."""
    try:
        document = json.loads(text, parse_float=_no_float)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise PlanFileError("the top level must be an object")
    if document.get("format") != FORMAT or document.get("version") not in VERSIONS:
        versions = " or ".join(str(v) for v in VERSIONS)
        raise PlanFileError(f"expected format {FORMAT!r} version {versions}")
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
    actions = None if document["version"] == 1 else _actions(document.get("actions"))
    if document["version"] < 3:
        return ImportedPlan(document, history, actions)
    return ImportedPlan(
        document,
        history,
        actions,
        course=_read_course(document.get("course")),
        escalations=_escalations(document.get("escalations"), len(actions or [])),
        evaluations=_evaluations(document.get("evaluations")),
        # A file without them has its reminders scheduled from its actions.
        reminders=(
            _reminders(document["reminders"], len(actions or []))
            if "reminders" in document
            else None
        ),
    )


@dataclass(frozen=True)
class Course:
    """An imported plan's course: steps, and claims as (team, amount, day, at, author)."""

    steps: tuple[StepRecord, ...] = ()
    claims: tuple[tuple[str, Decimal, date, datetime, str], ...] = ()


def _read_course(item: Any) -> Course:
    if not isinstance(item, dict) or not all(
        isinstance(item.get(k), list) for k in ("steps", "claims")
    ):
        raise PlanFileError("'course' needs 'steps' and 'claims'")
    steps = []
    for n, step in enumerate(item["steps"]):
        where = f"course.steps[{n}]"
        if not isinstance(step, dict) or step.get("stage") not in set(RECORDED):
            stages = ", ".join(RECORDED)
            raise PlanFileError(f"{where}: 'stage' must be one of {stages}")
        if not all(isinstance(step.get(k), str) for k in ("author", "who")):
            raise PlanFileError(f"{where}: needs 'stage', 'at', 'author', 'who' and 'day'")
        day = _date(step.get("day"), where)
        if day is None:
            raise PlanFileError(f"{where}: 'day' is missing")
        at = _time(step.get("at"), where)
        steps.append(StepRecord(Stage(step["stage"]), at, step["author"], step["who"], day))
    claims = []
    for n, claim in enumerate(item["claims"]):
        where = f"course.claims[{n}]"
        if not isinstance(claim, dict) or not all(
            isinstance(claim.get(k), str) for k in ("team", "amount", "author")
        ):
            raise PlanFileError(f"{where}: needs 'team', 'amount', 'day', 'at' and 'author'")
        try:
            amount = Decimal(claim["amount"])
        except ArithmeticError:
            amount = Decimal(-1)
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
            raise PlanFileError(f"{where}: 'amount' must be euros with at most two decimals")
        day = _date(claim.get("day"), where)
        if day is None:
            raise PlanFileError(f"{where}: 'day' is missing")
        claims.append((claim["team"], amount, day, _time(claim.get("at"), where), claim["author"]))
    return Course(tuple(steps), tuple(claims))


def _escalations(items: Any, actions: int) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise PlanFileError("'escalations' is missing or has the wrong type")
    found = []
    for n, item in enumerate(items):
        where = f"escalations[{n}]"
        if not isinstance(item, dict):
            raise PlanFileError(f"{where}: must be an object")
        for key, allowed in (("cause", CAUSES), ("state", STATES)):
            if item.get(key) not in allowed:
                raise PlanFileError(f"{where}: '{key}' must be one of {', '.join(allowed)}")
        if item.get("outcome") is not None and item["outcome"] not in OUTCOMES:
            raise PlanFileError(f"{where}: 'outcome' must be null or one of {', '.join(OUTCOMES)}")
        place, rung = item.get("action"), item.get("rung")
        if place is not None and (
            not isinstance(place, int) or isinstance(place, bool) or not 0 <= place < actions
        ):
            raise PlanFileError(f"{where}: 'action' must be null or the place of an action")
        if not isinstance(rung, int) or isinstance(rung, bool) or rung < 0:
            raise PlanFileError(f"{where}: 'rung' must be a whole number from 0")
        if not isinstance(item.get("rung_name"), str):
            raise PlanFileError(f"{where}: 'rung_name' must be a string")
        for key in ("author", "reason", "outcome_by"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise PlanFileError(f"{where}: '{key}' must be a string or null")

        found.append(
            {
                "action": place,
                "due_on": _date(item.get("due_on"), where),
                "cause": item["cause"],
                "rung": rung,
                "rung_name": item["rung_name"],
                "state": item["state"],
                "proposed_at": _time(item.get("proposed_at"), f"{where}.proposed_at"),
                "sent_at": _moment(item, "sent_at", where),
                "decided_at": _moment(item, "decided_at", where),
                "author": item.get("author"),
                "reason": item.get("reason"),
                "outcome": item.get("outcome"),
                "outcome_at": _moment(item, "outcome_at", where),
                "outcome_by": item.get("outcome_by"),
            }
        )
    return found


def _evaluations(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise PlanFileError("'evaluations' is missing or has the wrong type")
    evaluations = []
    for n, item in enumerate(items):
        where = f"evaluations[{n}]"
        if not isinstance(item, dict):
            raise PlanFileError(f"{where}: must be an object")
        for key, typ in (
            ("status", str),
            ("state", str),
            ("author", str),
            ("given", dict),
            ("answers", dict),
            ("dialog", dict),
        ):
            if not isinstance(item.get(key), typ):
                raise PlanFileError(f"{where}: '{key}' is missing or has the wrong type")
        if item["status"] not in EVALUATION_STATUSES:
            raise PlanFileError(
                f"{where}: 'status' must be one of {', '.join(EVALUATION_STATUSES)}"
            )
        months = item.get("months")
        if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 120:
            raise PlanFileError(f"{where}: 'months' must be a whole number from 1 to 120")
        finished = item.get("finished_at")
        evaluations.append(
            {
                "status": item["status"],
                "state": item["state"],
                "months": months,
                "author": item["author"],
                "given": item["given"],
                "answers": item["answers"],
                "data": item["dialog"],
                "now": _time(item.get("created_at"), where),
                "updated_at": _time(item.get("updated_at"), where),
                "finished_at": None if finished is None else _time(finished, where),
            }
        )
    return evaluations


def _reminders(items: Any, actions: int) -> list[ReminderRecord]:
    if not isinstance(items, list):
        raise PlanFileError("'reminders' has the wrong type")
    found = []
    for n, item in enumerate(items):
        where = f"reminders[{n}]"
        if not isinstance(item, dict):
            raise PlanFileError(f"{where}: must be an object")
        kind, place = item.get("kind"), item.get("action")
        if kind == REMIND_EVALUATION:
            if place is not None:
                raise PlanFileError(f"{where}: an evaluation reminder has no 'action'")
        elif kind == REMIND_ACTION:
            if not isinstance(place, int) or isinstance(place, bool) or not 0 <= place < actions:
                raise PlanFileError(f"{where}: 'action' must be a place in 'actions'")
        else:
            raise PlanFileError(f"{where}: 'kind' must be {REMIND_ACTION} or {REMIND_EVALUATION}")
        due = _date(item.get("due"), where)
        if due is None:
            raise PlanFileError(f"{where}: 'due' is missing")
        sent, skipped, failed = (
            None if item.get(key) is None else _time(item[key], where)
            for key in ("sent_at", "skipped_at", "failed_at")
        )
        found.append(ReminderRecord(place, kind, due, sent, skipped, failed))
    return found


def _actions(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise PlanFileError("'actions' is missing or has the wrong type")
    actions = []
    for n, item in enumerate(items):
        where = f"actions[{n}]"
        if not isinstance(item, dict):
            raise PlanFileError(f"{where}: must be an object")
        for key, typ in (("field", str), ("point", str), ("status", str), ("history", list)):
            if not isinstance(item.get(key), typ):
                raise PlanFileError(f"{where}: '{key}' is missing or has the wrong type")
        position = item.get("position")
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            raise PlanFileError(f"{where}: 'position' must be a whole number from 0")
        if item["status"] not in ACTION_STATUSES:
            raise PlanFileError(f"{where}: 'status' must be one of {', '.join(ACTION_STATUSES)}")
        if not isinstance(item.get("removed"), bool):
            raise PlanFileError(f"{where}: 'removed' must be true or false")
        updated_at = _time(item.get("updated_at"), where)
        owner = item.get("owner")
        if owner is not None and not isinstance(owner, str):
            raise PlanFileError(f"{where}: 'owner' must be a string or null")
        events = []
        for m, event in enumerate(item["history"]):
            at = f"{where}.history[{m}]"
            if not isinstance(event, dict) or not all(
                isinstance(event.get(k), str) for k in ("author", "change", "status")
            ):
                raise PlanFileError(f"{at}: needs 'at', 'author', 'change', 'status' and 'due'")
            events.append(
                EventRecord(
                    _time(event.get("at"), at),
                    event["author"],
                    event["change"],
                    event["status"],
                    _date(event.get("due"), at),
                )
            )
        actions.append(
            {
                "field": item["field"],
                "position": position,
                "point": item["point"],
                "due": _date(item.get("due"), where),
                "status": item["status"],
                # When it was taken out is not kept apart from its last change.
                "removed_at": updated_at if item["removed"] else None,
                "created_at": _time(item.get("created_at"), where),
                "updated_at": updated_at,
                "events": events,
                "owner_key": owner,
            }
        )
    return actions


def _moment(item: dict[str, Any], key: str, where: str) -> datetime | None:
    return None if item.get(key) is None else _time(item[key], f"{where}.{key}")


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PlanFileError(f"{where}: a date must be an ISO 8601 string or null")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise PlanFileError(f"{where}: '{value}' is not an ISO 8601 date") from exc


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
