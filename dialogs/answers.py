"""Turning typed text into a stored answer per field type, or into the reason it was refused.

The parsers of the kinds registry (dialogs.kinds), which adds the checks common to all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from dialogs import readings
from dialogs.money import AmountError, parse_money, to_cents
from dialogs.spec import Field, Kind

# Stored forms are JSON-compatible so that storage never sees Decimal, date or float:
# text/choice -> str, multichoice/list -> list[str], money -> int cents,
# number -> str (a Decimal literal), date -> ISO 8601 str.

MAX_ITEM = 500
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


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
    """A choice by its label, number, synonym or a label with a small typo; None if unsure."""
    return readings.match_choice(spec_field, text).label


def by_number(spec_field: Field, text: str) -> bool:
    """Whether a choice answer names an option by its number rather than by its label."""
    if spec_field.kind not in (Kind.CHOICE, Kind.MULTICHOICE):
        return False
    return any(
        part.strip().isdigit() and part.strip() not in spec_field.choices
        for part in _parts(spec_field, text)
    )


# Between the choices of a multiple choice typed in one line: `wonen, werk`, `pw en wmo`,
# `wonen + werk`, `wonen/werk`, `wmo & zvw`.
_BETWEEN = re.compile(r",|\s+(?:en|\+|&)\s+|\s*[+&/]\s*", re.IGNORECASE)


def _parts(spec_field: Field, text: str) -> list[str]:
    """A multiple choice typed as `1;3`, one option per line, or `1, 3`, `pw en wmo`: split
    unless the whole is a label that holds such a separator itself ("Anders, namelijk")."""
    parts = [p for p in re.split(r"[;\n]", text) if p.strip()]
    if len(parts) == 1 and _BETWEEN.search(parts[0]):
        whole = readings.match_choice(spec_field, parts[0]).label
        if whole is None or not _BETWEEN.search(whole):
            parts = [p for p in _BETWEEN.split(parts[0]) if p.strip()]
    return parts


def _choice(spec_field: Field, text: str) -> str | Refusal:
    found = readings.match_choice(spec_field, text)
    if found.label is not None:
        return found.label
    if found.candidates:
        return Refusal(
            "keuze_twijfel", {"antwoord": text.strip(), "keuzes": " of ".join(found.candidates)}
        )
    other = next((c for c in spec_field.choices if c.lower().startswith("anders")), None)
    if other is not None and spec_field.kind is Kind.MULTICHOICE:
        # E.g. a law that is not in the canvas's list: say how to name it anyway.
        return Refusal("geen_keuze_anders", {"antwoord": text.strip(), "anders": other})
    return Refusal(
        "geen_keuze_van", {"antwoord": text.strip(), "keuzes": ", ".join(spec_field.choices)}
    )


def split_others(spec_field: Field, other: str, text: str) -> tuple[list[str], list[str]] | None:
    """A multiple choice with names typed that are not in its list (a law, say): the choices
    with `other` ("Anders, namelijk") for those names, and the names as typed. None when there
    are no such names, or a part is unclear."""
    chosen: list[str] = []
    names: list[str] = []
    for part in _parts(spec_field, text):
        label = _choice(spec_field, part)
        if isinstance(label, Refusal):
            if label.reason != "geen_keuze_anders":
                return None
            name = " ".join(part.split())
            names.append(name[:1].upper() + name[1:])  # a law's name: "Huisvestingswet"
            label = other
        if label not in chosen:
            chosen.append(label)
    if not names:
        return None
    return [c for c in spec_field.choices if c in chosen], names


def parse_choice(spec_field: Field, text: str) -> Accepted | Refusal:
    label = _choice(spec_field, text)
    if isinstance(label, Refusal):
        if label.reason == "geen_keuze_van":
            return Refusal("geen_keuze", {"keuzes": ", ".join(spec_field.choices)})
        return label
    return Accepted(label)


def parse_multichoice(spec_field: Field, text: str) -> Accepted | Refusal:
    chosen: list[str] = []
    for part in _parts(spec_field, text):
        label = _choice(spec_field, part)
        if isinstance(label, Refusal):
            return label
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
        value, ambiguous = readings.read_quantity(text, spec_field.unit)
    except readings.UnitError as exc:
        return Refusal("eenheid_onbekend", {"eenheid": exc.args[0], "in": spec_field.unit})
    except AmountError as exc:
        return Refusal("geen_getal" if exc.reason != "bedrag_negatief" else "getal_negatief")
    if spec_field.min_value is not None and value < Decimal(spec_field.min_value):
        return Refusal("getal_te_klein", {"min": spec_field.min_value})
    if spec_field.max_value is not None and value > Decimal(spec_field.max_value):
        return Refusal("getal_te_groot", {"max": spec_field.max_value})
    if value != value.quantize(Decimal("0.0001")):
        return Refusal("geen_getal")  # e.g. minutes that are no whole ten-thousandth of an hour
    # `f` keeps 30 from reading as `3E+1` after normalize().
    return Accepted(format(value.normalize(), "f"), confirm=ambiguous)


def parse_money_answer(text: str) -> Accepted | Refusal:
    try:
        reading = parse_money(text)
    except AmountError as exc:
        return Refusal(exc.reason)
    return Accepted(to_cents(reading.value), confirm=reading.ambiguous)


def parse_date(text: str, today: date | None = None) -> date | None:
    lowered = " ".join(text.lower().split())
    try:
        if m := _NUMERIC_DATE.match(lowered):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := _ISO_DATE.match(lowered):
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    return readings.read_date(lowered, today or date.today())


def parse_date_answer(
    spec_field: Field, text: str, today: date | None = None
) -> Accepted | Refusal:
    today = today or date.today()
    parsed = parse_date(text, today)
    if parsed is None:
        return Refusal("geen_datum")
    if spec_field.future and parsed < today:
        return Refusal("datum_verleden", {"datum": parsed.strftime("%d-%m-%Y")})
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
