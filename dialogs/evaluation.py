"""The evaluation's figures: the doorbraakscenario as realised against the plan, both counted
over the months since the plan, exactly (Decimal), in the book's words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dialogs.rendement import (
    PERIOD_FIELD,
    WHOLE_PERIOD,
    Comparison,
    CostModel,
    compare,
    lines_of,
    period_months,
    scenario_total,
)
from dialogs.spec import Interview, Kind

# The answers an evaluation is given (prompts/evaluatie.yaml, `given`), and those it asks.
GIVEN_ACTIONS = "evaluatie.acties_open"
GIVEN_ACTION_IDS = "evaluatie.acties_ids"
GIVEN_LINES = "evaluatie.gepland"
# The plan's other two scenarios over the same months: what the doorbraak is compared with.
GIVEN_SCENARIOS = {"huidig": "evaluatie.huidig", "dreigend": "evaluatie.dreigend"}
DOORBRAAK = "evaluatie.doorbraak"
CHANGED = "evaluatie.verandering"
# The professional's own experience, as the handreiking asks: meer, sneller, zinvoller.
EXPERIENCE = ("evaluatie.meer", "evaluatie.sneller", "evaluatie.zinvoller")
DONE_ACTIONS = "evaluatie.acties"
REALISED = "evaluatie.kosten"
# The longest period a cost line can be counted over (the analysis period's bound).
MAX_MONTHS = 120


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (1 March to 1 June: 3), at least 1."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return min(max(months, 1), MAX_MONTHS)


def prorated(stored: Sequence[Mapping[str, Any]], plan_months: Decimal, months: int) -> list[Any]:
    """The lines counted over `months` instead of the plan's period. A line per week, month
    or year, or for the whole period in units of time, follows the period by itself; a line
    for the whole period in units of its own gets the same share of them; a one-off stays."""
    lines = []
    for line in stored:
        line = dict(line)
        if line.get("frequentie") == WHOLE_PERIOD and line.get("per_periode") is not None:
            share = Fraction(line["per_periode"]) * months / Fraction(plan_months)
            line["per_periode"] = str(_decimal(share))
        lines.append(line)
    return lines


def _decimal(value: Fraction) -> Decimal:
    """A share of units to four places (quantities are typed with at most four)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"))


def given_answers(
    spec: Interview,
    plan_answers: Mapping[str, Any],
    actions: Sequence[tuple[int, str]],
    months: int,
) -> dict[str, Any]:
    """What an evaluation `months` after the plan is given: the plan's open actions as
    choices, and its scenarios' cost lines pro rata."""
    plan_months = period_months(plan_answers.get(PERIOD_FIELD))
    scenarios = {f.scenario: f.key for f in spec.fields if f.kind is Kind.COSTS and f.scenario}
    labels = unique([label for _, label in actions])
    given: dict[str, Any] = {
        GIVEN_ACTIONS: labels,
        GIVEN_ACTION_IDS: [action_id for action_id, _ in actions],
        PERIOD_FIELD: str(months),
        GIVEN_LINES: prorated(
            plan_answers.get(scenarios.get("doorbraak", "")) or [], plan_months, months
        ),
    }
    for scenario, key in GIVEN_SCENARIOS.items():
        given[key] = prorated(
            plan_answers.get(scenarios.get(scenario, "")) or [], plan_months, months
        )
    return given


def unique(labels: Sequence[str]) -> list[str]:
    """Labels that differ (a second `Wijkteam: bellen` becomes `Wijkteam: bellen (2)`), with
    no `;`, which separates choices."""
    seen: dict[str, int] = {}
    found = []
    for label in labels:
        label = " ".join(label.replace(";", ",").split())
        seen[label] = seen.get(label, 0) + 1
        found.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return found


def done_action_ids(given: Mapping[str, Any], answers: Mapping[str, Any]) -> list[int]:
    """The ids of the actions ticked as done."""
    labels = list(given.get(GIVEN_ACTIONS) or [])
    ids = list(given.get(GIVEN_ACTION_IDS) or [])
    ticked = answers.get(DONE_ACTIONS) or []
    return [ids[labels.index(label)] for label in ticked if label in labels]


@dataclass(frozen=True)
class Figures:
    """The three scenarios over the evaluation's months, and the two comparisons."""

    huidig: Decimal
    dreigend: Decimal
    doorbraak: Decimal

    @property
    def direct(self) -> Comparison:
        return compare(self.huidig, self.dreigend, self.doorbraak)[0]

    @property
    def real(self) -> Comparison:
        return compare(self.huidig, self.dreigend, self.doorbraak)[1]


@dataclass(frozen=True)
class Result:
    """Projected against realised; `realised` is None while the costs are not answered."""

    months: int
    projected: Figures
    realised: Figures | None


def result(model: CostModel, given: Mapping[str, Any], answers: Mapping[str, Any]) -> Result:
    months = period_months(given.get(PERIOD_FIELD))

    def total(key: str, source: Mapping[str, Any]) -> Decimal:
        return scenario_total(model, lines_of(source.get(key)), months)

    huidig = total(GIVEN_SCENARIOS["huidig"], given)
    dreigend = total(GIVEN_SCENARIOS["dreigend"], given)
    projected = Figures(huidig, dreigend, total(GIVEN_LINES, given))
    realised = None
    if REALISED in answers:
        realised = Figures(huidig, dreigend, total(REALISED, answers))
    return Result(int(months), projected, realised)


def figures_json(result: Result) -> dict[str, Any]:
    """The figures as exact decimal strings (exports)."""

    def of(figures: Figures | None) -> dict[str, str] | None:
        if figures is None:
            return None
        return {
            "huidig": str(figures.huidig),
            "dreigend": str(figures.dreigend),
            "doorbraak": str(figures.doorbraak),
            figures.direct.key: str(figures.direct.amount),
            figures.real.key: str(figures.real.amount),
        }

    return {
        "periode_maanden": str(result.months),
        "gepland": of(result.projected),
        "gerealiseerd": of(result.realised),
    }
