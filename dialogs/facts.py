"""The few structured facts of a plan that the report over all plans counts, read from its
answers: its domains, where it chafes, its laws and its projected totals in whole euros."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from dialogs.rendement import (
    PERIOD_FIELD,
    lines_of,
    period_months,
    scenario_total,
    signed_comparisons,
)
from dialogs.spec import Interview, Kind

# The multiple-choice fields the report counts, by the kind of name they hold. Only the
# choices of the interview are kept: free text (`Anders, namelijk`'s wetten_anders) never is.
DOMAINS: Final = "domein"
SCHUURT: Final = "schuurt"
LAWS: Final = "wet"
FACT_FIELDS: Final = {
    DOMAINS: "situatieschets.domeinen",
    SCHUURT: "problemen.domeinen",
    LAWS: "problemen.wetten",
}
# The rendement's figures the report sums: the three totals and the two comparisons.
TOTALS: Final = ("huidig", "dreigend", "doorbraak", "directe", "reele")
_EURO = Decimal(1)


@dataclass(frozen=True)
class PlanFacts:
    """What the report keeps of one plan's answers; nothing here can name a household.

    `names` maps DOMAINS, SCHUURT and LAWS to the choices picked. `totals` holds the
    rendement's figures in whole euros (half up), signed as the book reads them: `directe`
    is the doorbraakscenario minus the huidige situatie (above 0: directe kosten), `reele`
    the dreigende scenario minus the doorbraakscenario (above 0: reële baten). Empty when
    the plan has no figures (a scenario not entered, or no cost line at all).
    """

    names: Mapping[str, tuple[str, ...]]
    totals: Mapping[str, int]


def watched_fields(spec: Interview) -> frozenset[str]:
    """The answers whose change changes a plan's facts."""
    costs = {field.key for field in spec.fields if field.kind is Kind.COSTS}
    return frozenset({*FACT_FIELDS.values(), PERIOD_FIELD, *costs})


def plan_facts(spec: Interview, answers: Mapping[str, Any]) -> PlanFacts:
    names = {kind: _chosen(spec, key, answers.get(key)) for kind, key in FACT_FIELDS.items()}
    return PlanFacts(names, projected(spec, answers))


def projected(spec: Interview, answers: Mapping[str, Any]) -> dict[str, int]:
    """The rendement's totals and comparisons in whole euros, as the plan's documents show
    them rounded; empty when the documents show no figures."""
    months = period_months(answers.get(PERIOD_FIELD))
    exact: dict[str, Decimal] = {}
    any_lines = False
    for field in spec.fields:
        if field.kind is not Kind.COSTS or field.key not in answers:
            continue
        lines = lines_of(answers.get(field.key))
        any_lines = any_lines or bool(lines)
        exact[field.scenario] = scenario_total(spec.costs, lines, months)
    if not any_lines or not all(s in exact for s in TOTALS[:3]):
        return {}
    exact["directe"], exact["reele"] = signed_comparisons(
        exact["huidig"], exact["dreigend"], exact["doorbraak"]
    )
    return {key: whole_euros(exact[key]) for key in TOTALS}


def whole_euros(amount: Decimal) -> int:
    return int(amount.quantize(_EURO, rounding=ROUND_HALF_UP))


def _chosen(spec: Interview, key: str, value: Any) -> tuple[str, ...]:
    if not spec.has_field(key) or not isinstance(value, list):
        return ()
    choices = spec.field(key).choices
    return tuple(choice for choice in choices if choice in value)
