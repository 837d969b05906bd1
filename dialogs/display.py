"""The plan as views for documents and overviews, with number formatting supplied by the caller."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from dialogs.actions import split_point
from dialogs.groups import group_item_text, group_rows
from dialogs.kinds import Formatter, Layout, present, rules
from dialogs.rendement import (
    DEFAULT_PERIOD_MONTHS,
    ONCE,
    PERIOD_FIELD,
    WHOLE_PERIOD,
    compare,
    lines_of,
    period_months,
    scenario_total,
)
from dialogs.spec import Field, Interview, Kind


@dataclass(frozen=True)
class FieldView:
    """One field of the finished plan, ready for any template."""

    key: str
    label: str
    kind: str
    filled: bool
    text: str = ""
    # How templates show it (dialogs.kinds.Layout): text, items (list or table rows), costs.
    layout: str = Layout.TEXT.value
    items: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    # For a costs field: the scenario's total, formatted.
    total: str = ""
    # Not filled because it is not known yet (`weet ik nog niet`): shown as an open point.
    open: bool = False


@dataclass(frozen=True)
class SectionView:
    """Consecutive fields of a step that share a heading (e.g. legitimiteit in step 5)."""

    key: str
    title: str
    fields: tuple[FieldView, ...]


@dataclass(frozen=True)
class StepView:
    number: int
    key: str
    name: str
    question: str
    sections: tuple[SectionView, ...]


def plan_view(
    spec: Interview, answers: Mapping[str, Any], fmt: Formatter, open_points: Collection[str] = ()
) -> tuple[StepView, ...]:
    """Every step with its applicable fields, answers formatted; the input of all documents."""
    steps = []
    for step in spec.steps:
        sections: list[SectionView] = []
        for spec_field in step.fields:
            if spec_field.when is not None and not spec_field.when.holds(answers):
                continue
            group = spec_field.key.split(".", 1)[0]
            if rules(spec_field.kind).layout is Layout.COSTS:
                view = costs_view(spec, spec_field, answers, fmt)
            elif spec_field.key == PERIOD_FIELD and spec_field.key not in answers:
                shown = spec.message(
                    "periode_standaard", maanden=fmt.number(DEFAULT_PERIOD_MONTHS)
                )
                view = FieldView(spec_field.key, spec_field.title, Kind.NUMBER.value, True, shown)
            else:
                view = field_view(spec_field, answers.get(spec_field.key), fmt)
                if not view.filled and spec_field.key in open_points:
                    view = replace(view, open=True)
                if view.rows:
                    # An action point whose wanneer was not given is shown as open.
                    still = spec.message("actiepunt_open")
                    rows = tuple(tuple(c or still for c in row) for row in view.rows)
                    view = replace(view, rows=rows)
            if sections and sections[-1].key == group:
                last = sections[-1]
                sections[-1] = SectionView(last.key, last.title, (*last.fields, view))
            else:
                title = spec.sections.get(group, "") if group != step.key else ""
                sections.append(SectionView(group, title, (view,)))
        steps.append(StepView(step.number, step.key, step.name, step.question, tuple(sections)))
    return tuple(steps)


def field_view(spec_field: Field, stored: Any, fmt: Formatter) -> FieldView:
    key, label, kind = spec_field.key, spec_field.title, spec_field.kind.value
    layout = rules(spec_field.kind).layout
    if stored is None:
        return FieldView(
            key, label, kind, filled=False, columns=spec_field.columns, layout=layout.value
        )
    text = present(spec_field, stored, fmt)
    if layout is not Layout.ITEMS:
        return FieldView(key, label, kind, filled=True, text=text, layout=layout.value)
    if isinstance(stored, str):  # a group's answer from before it was a group: free text
        return FieldView(key, label, kind, filled=True, text=text, layout=Layout.TEXT.value)
    rows: tuple[tuple[str, ...], ...] = ()
    if spec_field.kind is Kind.GROUP:
        rows = tuple(tuple(cells) for cells in group_rows(spec_field, stored))
        items = tuple(group_item_text(list(row.items())) for row in stored)
    else:
        items = tuple(stored)
        if spec_field.columns:
            rows = tuple(tuple(split_point(i, len(spec_field.columns))) for i in items)
    return FieldView(
        key,
        label,
        kind,
        filled=True,
        text=text,
        items=items,
        columns=spec_field.columns,
        rows=rows,
        layout=layout.value,
    )


COST_COLUMNS = ("Omschrijving", "Aantal", "Prijs", "Eenheid", "Totaal")


def costs_view(
    spec: Interview, spec_field: Field, answers: Mapping[str, Any], fmt: Formatter
) -> FieldView:
    """A scenario's cost lines as table rows, recomputed from the stored lines."""
    key, label, kind = spec_field.key, spec_field.title, spec_field.kind.value
    stored = answers.get(key)
    if stored is None:
        return FieldView(
            key, label, kind, filled=False, columns=COST_COLUMNS, layout=Layout.COSTS.value
        )
    months = period_months(answers.get(PERIOD_FIELD))
    model = spec.costs
    rows = []
    for line in lines_of(stored):
        quantity = fmt.number(line.aantal)
        if line.frequentie not in (ONCE, WHOLE_PERIOD):
            quantity = f"{quantity} {model.frequency(line.frequentie).per}"
        elif line.frequentie == WHOLE_PERIOD:
            quantity = f"{quantity} ({model.frequency(WHOLE_PERIOD).label})"
        rows.append(
            (
                line.omschrijving,
                quantity,
                fmt.money(line.prijs, exact=True),
                line.eenheid,
                fmt.money(model.total(line, months)),
            )
        )
    total = fmt.money(scenario_total(model, lines_of(stored), months))
    return FieldView(
        key,
        label,
        kind,
        filled=True,
        text=total,
        columns=COST_COLUMNS,
        rows=tuple(rows),
        total=total,
        layout=Layout.COSTS.value,
    )


def period_text(spec: Interview, fmt: Formatter, months: Decimal) -> str:
    """`per jaar` for the default period, otherwise `in 4 maanden`."""
    if months == 12:
        return spec.message("kosten_per_jaar")
    return spec.message("kosten_in_maanden", maanden=fmt.number(months))


def scenario_name(spec: Interview, scenario: str) -> str:
    return spec.message(f"scenario_{scenario}")


@dataclass(frozen=True)
class ScenarioView:
    key: str
    name: str
    total: Decimal
    shown: str


@dataclass(frozen=True)
class ComparisonView:
    label: str
    explanation: str
    amount: Decimal
    shown: str


@dataclass(frozen=True)
class RendementView:
    """The three totals and the book's two comparisons, recomputed from the lines."""

    complete: bool
    period: str
    scenarios: tuple[ScenarioView, ...]
    comparisons: tuple[ComparisonView, ...]


def rendement_view(spec: Interview, answers: Mapping[str, Any], fmt: Formatter) -> RendementView:
    months = period_months(answers.get(PERIOD_FIELD))
    period = period_text(spec, fmt, months)
    totals: dict[str, Decimal] = {}
    scenarios = []
    for spec_field in spec.fields:
        if spec_field.kind is not Kind.COSTS:
            continue
        total = scenario_total(spec.costs, lines_of(answers.get(spec_field.key)), months)
        if spec_field.key in answers:
            totals[spec_field.scenario] = total
        scenarios.append(
            ScenarioView(
                spec_field.scenario,
                scenario_name(spec, spec_field.scenario),
                total,
                fmt.money(total),
            )
        )
    complete = all(s in totals for s in ("huidig", "dreigend", "doorbraak"))
    comparisons: tuple[ComparisonView, ...] = ()
    if complete:
        direct, real = compare(totals["huidig"], totals["dreigend"], totals["doorbraak"])
        comparisons = (
            ComparisonView(
                spec.message(f"rendement_{direct.key}"),
                spec.message("rendement_directe_uitleg"),
                direct.amount,
                fmt.money(direct.amount),
            ),
            ComparisonView(
                spec.message(f"rendement_{real.key}"),
                spec.message("rendement_reele_uitleg"),
                real.amount,
                fmt.money(real.amount),
            ),
        )
    return RendementView(complete, period, tuple(scenarios), comparisons)
