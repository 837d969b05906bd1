"""The plan as views for documents and overviews, with number formatting supplied by the caller."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from dialogs.actions import split_point
from dialogs.events import Question
from dialogs.groups import group_item_text, group_rows
from dialogs.kinds import Formatter, Layout, present, rules
from dialogs.rendement import (
    DEFAULT_PERIOD_MONTHS,
    ONCE,
    PERIOD_FIELD,
    WHOLE_PERIOD,
    CostLine,
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
    """Every step with its applicable fields, answers formatted; the input of all documents.
    A choice like "Anders, namelijk" gives way to what was typed in the field it opens
    ("Participatiewet, Huisvestingswet"), which then is not shown apart."""
    steps = []
    named = _named_others(spec, answers)
    for step in spec.steps:
        sections: list[SectionView] = []
        for spec_field in step.fields:
            if spec_field.when is not None and not spec_field.when.holds(answers):
                continue
            if spec_field.key in named.values():
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
                    view = replace(view, rows=action_rows(spec, view.rows))
                if spec_field.key in named:
                    view = _other_named(spec, view, named[spec_field.key], answers)
            if sections and sections[-1].key == group:
                last = sections[-1]
                sections[-1] = SectionView(last.key, last.title, (*last.fields, view))
            else:
                title = spec.sections.get(group, "") if group != step.key else ""
                sections.append(SectionView(group, title, (view,)))
        steps.append(StepView(step.number, step.key, step.name, step.question, tuple(sections)))
    return tuple(steps)


def _named_others(spec: Interview, answers: Mapping[str, Any]) -> dict[str, str]:
    """Multiple choice -> the answered text field its "Anders, namelijk" opens."""
    found: dict[str, str] = {}
    for spec_field in spec.fields:
        when = spec_field.when
        if (
            when is not None
            and when.includes is not None
            and spec_field.kind is Kind.TEXT
            and when.holds(answers)
            and str(answers.get(spec_field.key) or "").strip()
        ):
            found[when.field] = spec_field.key
    return found


def answer_text(spec: Interview, key: str, answers: Mapping[str, Any], fmt: Formatter) -> str:
    """One answer as the documents show it ("Anders, namelijk" given way to what was typed),
    or "" when there is none."""
    if key not in answers or not spec.has_field(key):
        return ""
    view = field_view(spec.field(key), answers[key], fmt)
    other = _named_others(spec, answers).get(key)
    return (view if other is None else _other_named(spec, view, other, answers)).text


def _other_named(
    spec: Interview, view: FieldView, other_key: str, answers: Mapping[str, Any]
) -> FieldView:
    when = spec.field(other_key).when
    assert when is not None and when.includes is not None
    typed = " ".join(str(answers[other_key]).split())
    items = tuple(typed if item == when.includes else item for item in view.items)
    return replace(view, items=items, text=view.text.replace(when.includes, typed, 1))


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


# An empty cell of a table in a document: never blank, so it cannot look forgotten.
EMPTY_CELL = "—"


def action_rows(spec: Interview, rows: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """Action points for a table: a point that was not split is all `wat`, a wanneer not
    given is open (the canvas asks it "indien bekend"), any other empty cell reads `—`."""
    still = spec.message("actiepunt_open")
    shown = []
    for row in rows:
        cells = list(row)
        if len(cells) >= 3 and cells[0] and not any(cells[1:]):
            cells = ["", cells[0], *cells[2:]]
        last = len(cells) - 1
        shown.append(tuple(c or (still if i == last else EMPTY_CELL) for i, c in enumerate(cells)))
    return tuple(shown)


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


def progress(spec: Interview, q: Question) -> str:
    """Where a question is: "Stap 2 van 6: Toekomstperspectief"; a dialog of one step (the
    evaluation) names only its step."""
    if q.steps <= 1:
        return q.step_name
    return spec.message("voortgang", stap=q.step, stappen=q.steps, naam=q.step_name)


def period_text(spec: Interview, fmt: Formatter, months: Decimal) -> str:
    """`per jaar` for the default period, otherwise `in 4 maanden` (`in 1 maand`)."""
    if months == 12:
        return spec.message("kosten_per_jaar")
    return spec.message("kosten_in_maanden", maanden=months_text(spec, fmt, months))


def months_text(spec: Interview, fmt: Formatter, months: Decimal) -> str:
    """`1 maand`, `3 maanden`, `1,5 maanden`."""
    if months == 1:
        return spec.message("maanden_een")
    return spec.message("maanden_aantal", aantal=fmt.number(months))


def scenario_name(spec: Interview, scenario: str) -> str:
    return spec.message(f"scenario_{scenario}")


@dataclass(frozen=True)
class ScenarioView:
    key: str
    name: str
    total: Decimal
    shown: str
    # The total to the cent, as every table shows it.
    exact: str = ""


@dataclass(frozen=True)
class ComparisonView:
    label: str
    explanation: str
    amount: Decimal
    shown: str
    # The doorbraakscenario minus the other scenario, signed (`− € 54.050`), and the index of
    # that other scenario in RendementView.scenarios: what the chart draws.
    difference: str = ""
    against: int = 0
    # The amount to the cent, as tables show it.
    exact: str = ""


@dataclass(frozen=True)
class CostRowView:
    """One cost item of the cost table: its price with the unit, and per scenario the
    quantity with its unit and the line total (`—` where the scenario has no such line)."""

    item: str
    price: str
    cells: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CostTableView:
    """The rendement's cost lines as one table like the book's: a row per cost item."""

    scenarios: tuple[str, ...]
    # Omschrijving, Prijs, Aantal; a scenario's totals column is headed by `total_label`.
    columns: tuple[str, ...]
    total_label: str
    rows: tuple[CostRowView, ...]
    totals: tuple[str, ...]


@dataclass(frozen=True)
class RendementView:
    """The three totals and the book's two comparisons, recomputed from the lines."""

    complete: bool
    period: str
    scenarios: tuple[ScenarioView, ...]
    comparisons: tuple[ComparisonView, ...]
    # Whether there are figures to show: every scenario entered and at least one cost line.
    # Otherwise documents show `reason` (rendement.geen_kosten, or `niet ingevuld`), never € 0.
    figures: bool = False
    reason: str = ""
    table: CostTableView | None = None


def signed(fmt: Formatter, amount: Decimal) -> str:
    """`+ € 3.600`, `− € 54.050` (a real minus sign), `€ 0`."""
    if amount == 0:
        return fmt.money(amount)
    return ("+ " if amount > 0 else "\u2212 ") + fmt.money(abs(amount))


def rendement_view(spec: Interview, answers: Mapping[str, Any], fmt: Formatter) -> RendementView:
    months = period_months(answers.get(PERIOD_FIELD))
    period = period_text(spec, fmt, months)
    totals: dict[str, Decimal] = {}
    scenarios = []
    costs_fields = [f for f in spec.fields if f.kind is Kind.COSTS]
    for spec_field in costs_fields:
        total = scenario_total(spec.costs, lines_of(answers.get(spec_field.key)), months)
        if spec_field.key in answers:
            totals[spec_field.scenario] = total
        scenarios.append(
            ScenarioView(
                spec_field.scenario,
                scenario_name(spec, spec_field.scenario),
                total,
                fmt.money(total),
                fmt.money(total, exact=True),
            )
        )
    complete = all(s in totals for s in ("huidig", "dreigend", "doorbraak"))
    any_lines = any(lines_of(answers.get(f.key)) for f in costs_fields)
    comparisons: tuple[ComparisonView, ...] = ()
    if complete:
        direct, real = compare(totals["huidig"], totals["dreigend"], totals["doorbraak"])
        order = [s.key for s in scenarios]
        comparisons = (
            ComparisonView(
                spec.message(f"rendement_{direct.key}"),
                spec.message("rendement_directe_uitleg"),
                direct.amount,
                fmt.money(direct.amount),
                signed(fmt, totals["doorbraak"] - totals["huidig"]),
                order.index("huidig"),
                fmt.money(direct.amount, exact=True),
            ),
            ComparisonView(
                spec.message(f"rendement_{real.key}"),
                spec.message("rendement_reele_uitleg"),
                real.amount,
                fmt.money(real.amount),
                signed(fmt, totals["doorbraak"] - totals["dreigend"]),
                order.index("dreigend"),
                fmt.money(real.amount, exact=True),
            ),
        )
    figures = complete and any_lines
    reason = ""
    if not figures:
        given = answers.get("rendement.geen_kosten")
        reason = str(given) if given else spec.message("niet_ingevuld")
    table = cost_table(spec, answers, fmt, months) if any_lines else None
    return RendementView(complete, period, tuple(scenarios), comparisons, figures, reason, table)


def quantity_text(spec: Interview, fmt: Formatter, line: CostLine) -> str:
    """`182 dagen`, `2 uur per week`, `1 jaar (de hele periode)`."""
    model = spec.costs
    shown = f"{fmt.number(line.aantal)} {model.plural(line.eenheid, line.aantal)}"
    if line.frequentie == WHOLE_PERIOD:
        return f"{shown} ({model.frequency(WHOLE_PERIOD).label})"
    if line.frequentie != ONCE:
        return f"{shown} {model.frequency(line.frequentie).per}"
    return shown


def cost_table(
    spec: Interview, answers: Mapping[str, Any], fmt: Formatter, months: Decimal
) -> CostTableView:
    """The three scenarios' lines side by side: a line of one scenario joins the row of the
    same item (description, price and unit) of an earlier scenario, or starts a new row."""
    fields = [f for f in spec.fields if f.kind is Kind.COSTS]
    count = len(fields)
    rows: list[tuple[tuple[str, Decimal, str], list[tuple[str, str] | None]]] = []
    for index, spec_field in enumerate(fields):
        for line in lines_of(answers.get(spec_field.key)):
            key = (line.omschrijving, line.prijs, line.eenheid)
            cell = (
                quantity_text(spec, fmt, line),
                fmt.money(spec.costs.total(line, months), exact=True),
            )
            for row_key, cells in rows:
                if row_key == key and cells[index] is None:
                    cells[index] = cell
                    break
            else:
                cells = [None] * count
                cells[index] = cell
                rows.append((key, cells))
    totals = []
    for spec_field in fields:
        if spec_field.key in answers:
            total = scenario_total(spec.costs, lines_of(answers[spec_field.key]), months)
            totals.append(fmt.money(total, exact=True))
        else:
            totals.append(spec.message("niet_ingevuld"))
    return CostTableView(
        scenarios=tuple(capitalized(scenario_name(spec, f.scenario)) for f in fields),
        columns=tuple(spec.message(f"document_{c}") for c in ("omschrijving", "prijs", "aantal")),
        total_label=spec.message(
            "document_totaal_periode", maanden=months_text(spec, fmt, months)
        ),
        rows=tuple(
            CostRowView(
                item=description,
                price=spec.message(
                    "document_prijs_per", prijs=fmt.money(price, exact=True), eenheid=unit
                ),
                cells=tuple(c or (EMPTY_CELL, EMPTY_CELL) for c in cells),
            )
            for (description, price, unit), cells in rows
        ),
        totals=tuple(totals),
    )


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


# Page 1 of every document: the canvas with the result. Which answers it shows, by key; a
# long answer is shortened there and shown in full in its step.
CANVAS_SHORT = 280
CANVAS_SITUATION = "situatieschets.wat_speelt"
CANVAS_DOMAINS = "situatieschets.domeinen"
CANVAS_DOORBRAAK = ("doorbraak.doorbraak", "doorbraak.nodig")
CANVAS_LEGITIMITEIT = ("legitimiteit.wetten", "legitimiteit.wetten_anders", "legitimiteit.regel")
CANVAS_BETROKKENHEID = "betrokkenheid.regie"
CANVAS_WEGING = "waardendriehoek.weging"
CANVAS_ACTIONS = "actieplan.voor_doorbraak"
CANVAS_EVALUATION = "actieplan.evaluatie"
CANVAS_FIRST_ACTIONS = 3
# The most characters of an action point's wie, wat and wanneer on page 1.
CANVAS_CELL = (40, 90, 40)


@dataclass(frozen=True)
class CanvasItem:
    """One answer on page 1: `text` is what is shown (shortened where long, the wording for
    an open or empty field otherwise); `step` is the step that has it in full."""

    key: str
    label: str
    text: str
    filled: bool
    shortened: bool
    step: int


@dataclass(frozen=True)
class CanvasView:
    werkgebied: str
    situation: CanvasItem
    domains: tuple[tuple[str, bool], ...]
    doorbraak: tuple[CanvasItem, ...]
    legitimiteit: tuple[CanvasItem, ...]
    betrokkenheid: CanvasItem
    weging: CanvasItem
    action_columns: tuple[str, ...]
    actions: tuple[tuple[str, ...], ...]
    more_actions: bool
    evaluation: CanvasItem


def shorten(text: str, limit: int = CANVAS_SHORT) -> tuple[str, bool]:
    """At most `limit` characters, cut at a space where there is one, with `…`."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat, False
    cut = flat[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + " …", True


def canvas_view(
    spec: Interview, steps: tuple[StepView, ...], answers: Mapping[str, Any]
) -> CanvasView:
    """Page 1 from the plan's views (plan_view), so it shows every answer as the steps do."""
    found: dict[str, tuple[FieldView, int]] = {}
    for step in steps:
        for section in step.sections:
            for view in section.fields:
                found[view.key] = (view, step.number)

    def item(key: str, limit: int = CANVAS_SHORT) -> CanvasItem:
        view, number = found.get(key, (None, 0))
        if view is None:
            label = spec.field(key).title if spec.has_field(key) else key
            return CanvasItem(key, label, spec.message("niet_ingevuld"), False, False, number)
        if not view.filled:
            wording = "document_open_punt" if view.open else "niet_ingevuld"
            return CanvasItem(key, view.label, spec.message(wording), False, False, number)
        text, shortened = shorten(view.text, limit)
        return CanvasItem(key, view.label, text, True, shortened, number)

    chosen = answers.get(CANVAS_DOMAINS) or ()
    domain_field = spec.field(CANVAS_DOMAINS) if spec.has_field(CANVAS_DOMAINS) else None
    domains = tuple((c, c in chosen) for c in (domain_field.choices if domain_field else ()))
    legitimiteit = tuple(
        item(key, 160)
        for key in CANVAS_LEGITIMITEIT
        if key in found and (found[key][0].filled or spec.field(key).required)
    )
    actions_view = found.get(CANVAS_ACTIONS, (None, 0))[0]
    rows = actions_view.rows if actions_view is not None else ()
    return CanvasView(
        werkgebied=str(answers.get("plan.werkgebied") or spec.message("niet_ingevuld")),
        situation=item(CANVAS_SITUATION),
        domains=domains,
        doorbraak=tuple(item(key, 220) for key in CANVAS_DOORBRAAK),
        legitimiteit=legitimiteit,
        betrokkenheid=item(CANVAS_BETROKKENHEID, 160),
        weging=item(CANVAS_WEGING, 200),
        action_columns=actions_view.columns if actions_view is not None else (),
        actions=tuple(
            tuple(shorten(c, CANVAS_CELL[min(i, 2)])[0] for i, c in enumerate(row))
            for row in rows[:CANVAS_FIRST_ACTIONS]
        ),
        more_actions=len(rows) > CANVAS_FIRST_ACTIONS,
        evaluation=item(CANVAS_EVALUATION),
    )
