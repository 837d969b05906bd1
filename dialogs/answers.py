"""Turning typed text into a stored answer per field type, or into the reason it was refused.

The parsers of the kinds registry (dialogs.kinds), which adds the checks common to all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from dialogs.money import AmountError, parse_decimal, parse_money, to_cents
from dialogs.spec import Field

# Stored forms are JSON-compatible so that storage never sees Decimal, date or float:
# text/choice -> str, multichoice/list -> list[str], money -> int cents,
# number -> str (a Decimal literal), date -> ISO 8601 str.

MAX_ITEM = 500
_MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "maart": 3, "mrt": 3, "april": 4,
    "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augustus": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORD_DATE = re.compile(r"^(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})$")


@dataclass(frozen=True)
class Refusal:
    """Why an answer was refused: a message key of the wording and its parameters."""

    reason: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    value: Any
    # Set when the reading should be confirmed before it is stored (e.g. `1.500`).
    confirm: bool = False


def match_choice(spec_field: Field, text: str) -> str | None:
    """A choice by its exact label (any case) or its number in the list."""
    wanted = _normal(text)
    for label in spec_field.choices:
        # Labels may hold a no-break space (`€ 100,00` from the money format): compare both
        # sides with their white space folded, so a pressed button matches its own label.
        if _normal(label) == wanted:
            return label
    if wanted.isdigit() and 1 <= int(wanted) <= len(spec_field.choices):
        return spec_field.choices[int(wanted) - 1]
    return None


def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


def parse_choice(spec_field: Field, text: str) -> Accepted | Refusal:
    label = match_choice(spec_field, text)
    if label is None:
        return Refusal("geen_keuze", {"keuzes": ", ".join(spec_field.choices)})
    return Accepted(label)


def parse_multichoice(spec_field: Field, text: str) -> Accepted | Refusal:
    parts = [p for p in re.split(r"[;\n]", text) if p.strip()]
    if len(parts) == 1 and "," in parts[0] and match_choice(spec_field, parts[0]) is None:
        # Numbered options are often typed as `1, 3`.
        parts = [p for p in parts[0].split(",") if p.strip()]
    chosen: list[str] = []
    for part in parts:
        label = match_choice(spec_field, part)
        if label is None:
            return Refusal(
                "geen_keuze_van",
                {"antwoord": part.strip(), "keuzes": ", ".join(spec_field.choices)},
            )
        if label not in chosen:
            chosen.append(label)
    if not chosen:
        return Refusal("leeg")
    if spec_field.max is not None and len(chosen) > spec_field.max:
        return Refusal("te_veel_keuzes", {"max": spec_field.max, "aantal": len(chosen)})
    # Keep the order of the list, so the same selection is always stored the same way.
    return Accepted([c for c in spec_field.choices if c in chosen])


def parse_number(spec_field: Field, text: str) -> Accepted | Refusal:
    try:
        reading = parse_decimal(text, max_places=4)
    except AmountError as exc:
        return Refusal("geen_getal" if exc.reason != "bedrag_negatief" else "getal_negatief")
    value = reading.value
    if spec_field.min_value is not None and value < Decimal(spec_field.min_value):
        return Refusal("getal_te_klein", {"min": spec_field.min_value})
    if spec_field.max_value is not None and value > Decimal(spec_field.max_value):
        return Refusal("getal_te_groot", {"max": spec_field.max_value})
    return Accepted(
        str(value.normalize() if value == value.to_integral() else value),
        confirm=reading.ambiguous,
    )


def parse_money_answer(text: str) -> Accepted | Refusal:
    try:
        reading = parse_money(text)
    except AmountError as exc:
        return Refusal(exc.reason)
    return Accepted(to_cents(reading.value), confirm=reading.ambiguous)


def parse_date(text: str) -> date | None:
    lowered = " ".join(text.lower().split())
    try:
        if m := _NUMERIC_DATE.match(lowered):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := _ISO_DATE.match(lowered):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if (m := _WORD_DATE.match(lowered)) and m[2] in _MONTHS:
            return date(int(m[3]), _MONTHS[m[2]], int(m[1]))
    except ValueError:
        return None
    return None


def parse_date_answer(text: str) -> Accepted | Refusal:
    parsed = parse_date(text)
    if parsed is None:
        return Refusal("geen_datum")
    return Accepted(parsed.isoformat())


def parse_list(text: str) -> Accepted | Refusal:
    items = [" ".join(p.split()) for p in re.split(r"[;\n]", text)]
    items = [i.lstrip("-•* ").strip() for i in items]
    items = [i for i in items if i]
    if not items:
        return Refusal("leeg")
    too_long = next((i for i in items if len(i) > MAX_ITEM), None)
    if too_long is not None:
        return Refusal("item_te_lang", {"max": MAX_ITEM})
    return Accepted(items)
