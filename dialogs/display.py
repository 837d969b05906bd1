"""Showing stored answers as text, with number formatting supplied by the caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from dialogs.answers import split_columns
from dialogs.money import from_cents
from dialogs.spec import Field, Interview, Kind


class Formatter(Protocol):
    """Locale-aware formatting, injected so the core stays free of locale libraries."""

    def money(self, amount: Decimal, *, exact: bool = False) -> str: ...

    def number(self, value: Decimal) -> str: ...

    def date(self, value: date) -> str: ...


def present(spec_field: Field, stored: Any, fmt: Formatter, *, exact: bool = False) -> str:
    """One stored answer as a single readable string."""
    match spec_field.kind:
        case Kind.MONEY:
            return fmt.money(from_cents(stored), exact=exact)
        case Kind.NUMBER:
            return fmt.number(Decimal(stored))
        case Kind.DATE:
            return fmt.date(date.fromisoformat(stored))
        case Kind.MULTICHOICE:
            return ", ".join(stored)
        case Kind.LIST:
            return "; ".join(stored)
        case _:
            return str(stored)


@dataclass(frozen=True)
class FieldView:
    """One field of the finished plan, ready for any template."""

    key: str
    label: str
    kind: str
    filled: bool
    text: str = ""
    items: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


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


def plan_view(spec: Interview, answers: Mapping[str, Any], fmt: Formatter) -> tuple[StepView, ...]:
    """Every step with its applicable fields, answers formatted; the input of all documents."""
    steps = []
    for step in spec.steps:
        sections: list[SectionView] = []
        for spec_field in step.fields:
            if spec_field.when is not None and not spec_field.when.holds(answers):
                continue
            group = spec_field.key.split(".", 1)[0]
            view = field_view(spec_field, answers.get(spec_field.key), fmt)
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
    if stored is None:
        return FieldView(key, label, kind, filled=False, columns=spec_field.columns)
    text = present(spec_field, stored, fmt)
    if spec_field.kind not in (Kind.LIST, Kind.MULTICHOICE):
        return FieldView(key, label, kind, filled=True, text=text)
    items = tuple(stored)
    rows: tuple[tuple[str, ...], ...] = ()
    if spec_field.columns:
        rows = tuple(tuple(split_columns(i, len(spec_field.columns))) for i in items)
    return FieldView(
        key,
        label,
        kind,
        filled=True,
        text=text,
        items=items,
        columns=spec_field.columns,
        rows=rows,
    )
