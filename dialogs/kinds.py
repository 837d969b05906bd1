"""The question kinds, one entry each: how an answer is parsed, checked, presented and screened.

Every place that treats answers by kind asks this registry: the dialog (parse, screen), the
import of a plan (check), the overview and the documents (present, layout). A kind without an
entry is an error wherever it is met, so a new kind cannot silently pass for another one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from dialogs import actions, answers
from dialogs.answers import Accepted, Refusal
from dialogs.groups import group_item_text
from dialogs.money import from_cents
from dialogs.spec import Field, Kind

MAX_TEXT = 50_000


class Formatter(Protocol):
    """Locale-aware formatting, injected so the core stays free of locale libraries."""

    def money(self, amount: Decimal, *, exact: bool = False) -> str: ...

    def number(self, value: Decimal) -> str: ...

    def date(self, value: date) -> str: ...


class Layout(StrEnum):
    """How documents show an answer (the templates and the Word renderer switch on this)."""

    TEXT = "text"  # one block of text
    ITEMS = "items"  # a bulleted list, or table rows when the field names columns
    COSTS = "costs"  # cost lines as a table with the scenario's total


class UnknownKind(LookupError):
    """A kind with no entry in the registry: a programming error, never user input."""


@dataclass(frozen=True)
class KindRules:
    # Typed text (stripped, not empty, within length) to the stored form, or why not.
    parse: Callable[[Field, str], Accepted | Refusal]
    # Whether a value has this kind's stored form (JSON-compatible; used on import).
    check: Callable[[Any], bool]
    # The stored form as one readable string; `exact` shows money to the cent.
    present: Callable[[Any, Formatter, bool], str]
    # Free text is screened for personal data before it is stored: a plan stays anonymous.
    screen: bool
    layout: Layout


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_cents(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def is_decimal(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


def _is_iso_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def is_cost_line(line: Any) -> bool:
    return (
        isinstance(line, dict)
        and isinstance(line.get("omschrijving"), str)
        and isinstance(line.get("prijs"), int)
        and not isinstance(line.get("prijs"), bool)
        and isinstance(line.get("eenheid"), str)
        and is_decimal(line.get("aantal"))
        and isinstance(line.get("frequentie"), str)
        and (line.get("per_periode") is None or isinstance(line["per_periode"], str))
    )


def _is_cost_lines(value: Any) -> bool:
    return isinstance(value, list) and all(is_cost_line(line) for line in value)


def _is_rows(value: Any) -> bool:
    """A group's items, each a mapping of its parts to text; or the text of a plan from
    before the field became a group (`legitimiteit.andere_regels` was free text)."""
    return isinstance(value, str) or (
        isinstance(value, list)
        and all(
            isinstance(row, dict)
            and row
            and all(isinstance(k, str) and isinstance(v, str) for k, v in row.items())
            for row in value
        )
    )


def _rows_as_text(stored: Any, fmt: Formatter, exact: bool) -> str:
    """Items as `regel (bedoeling: …; wie beslist: …)`, a part not given as `—`."""
    if isinstance(stored, str):
        return stored
    return "; ".join(group_item_text(list(row.items())) for row in stored)


def _group_by_parts(spec_field: Field, text: str) -> Accepted | Refusal:
    return Refusal("groep_per_deel")  # the group flow asks part by part


def _as_text(stored: Any, fmt: Formatter, exact: bool) -> str:
    return str(stored)


def _costs_by_lines(spec_field: Field, text: str) -> Accepted | Refusal:
    return Refusal("kosten_via_regels")  # the costs flow asks line by line


def _joined(separator: str) -> Callable[[Any, Formatter, bool], str]:
    return lambda stored, fmt, exact: separator.join(stored)


def _parse_list(spec_field: Field, text: str) -> Accepted | Refusal:
    if spec_field.columns:
        return actions.parse_points(text, spec_field.columns)  # wie, wat, wanneer
    return answers.parse_list(text)


# fmt: off
KINDS: Mapping[Kind, KindRules] = {
    # kind:          parse, check, present, screen (free text), layout
    Kind.TEXT: KindRules(lambda f, text: Accepted(text), _is_text, _as_text, True, Layout.TEXT),
    Kind.CHOICE: KindRules(answers.parse_choice, _is_text, _as_text, False, Layout.TEXT),
    Kind.MULTICHOICE: KindRules(
        answers.parse_multichoice, _is_texts, _joined(", "), False, Layout.ITEMS
    ),
    Kind.NUMBER: KindRules(
        answers.parse_number, is_decimal,
        lambda stored, fmt, exact: fmt.number(Decimal(stored)), False, Layout.TEXT,
    ),
    Kind.MONEY: KindRules(
        lambda f, text: answers.parse_money_answer(text), _is_cents,
        lambda stored, fmt, exact: fmt.money(from_cents(stored), exact=exact), False, Layout.TEXT,
    ),
    Kind.DATE: KindRules(
        lambda f, text: answers.parse_date_answer(f, text), _is_iso_date,
        lambda stored, fmt, exact: fmt.date(date.fromisoformat(stored)), False, Layout.TEXT,
    ),
    Kind.LIST: KindRules(
        _parse_list, _is_texts, _joined("; "), True, Layout.ITEMS
    ),
    Kind.COSTS: KindRules(
        _costs_by_lines, _is_cost_lines,
        lambda stored, fmt, exact: f"{len(stored)} kostenposten", False, Layout.COSTS,
    ),
    Kind.GROUP: KindRules(_group_by_parts, _is_rows, _rows_as_text, False, Layout.ITEMS),
}
# fmt: on


def rules(kind: Kind | str) -> KindRules:
    """The registry entry of a kind; UnknownKind when there is none."""
    try:
        return KINDS[Kind(kind)]
    except (ValueError, KeyError):
        raise UnknownKind(f"question kind {kind!r} has no entry in dialogs.kinds") from None


def parse_answer(spec_field: Field, text: str) -> Accepted | Refusal:
    """Parse one answer; never raises on user input."""
    stripped = text.strip()
    if not stripped:
        return Refusal("leeg")
    if len(stripped) > MAX_TEXT:
        return Refusal("te_lang", {"max": f"{MAX_TEXT:,}".replace(",", ".")})
    if spec_field.max_length is not None and len(stripped) > spec_field.max_length:
        return Refusal("te_lang", {"max": spec_field.max_length})
    return rules(spec_field.kind).parse(spec_field, stripped)


def present(spec_field: Field, stored: Any, fmt: Formatter, *, exact: bool = False) -> str:
    """One stored answer as a single readable string."""
    return rules(spec_field.kind).present(stored, fmt, exact)
