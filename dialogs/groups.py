"""A group's stored items (e.g. the rules in the way): their parts, cells and text."""

from __future__ import annotations

from typing import Any

from dialogs.spec import Field


def part_name(column: str) -> str:
    """A column as the `part` of its question: `Wie beslist` -> `wie_beslist`."""
    return "_".join(column.lower().split())


def group_rows(spec_field: Field, stored: Any) -> list[list[str]]:
    """The items stored so far as cells in column order; an answer from before the field
    was a group is one item."""
    names = [part_name(c) for c in spec_field.columns]
    if isinstance(stored, str):
        return [[stored, *[""] * (len(names) - 1)]]
    return [[row.get(name, "") for name in names] for row in stored or ()]


def group_item_text(parts: list[tuple[str, str]]) -> str:
    """One item of a group from its (part, text) pairs, the first part unnamed."""
    (_, first), *rest = parts
    named = "; ".join(f"{name.replace('_', ' ')}: {text or '—'}" for name, text in rest)
    return f"{first} ({named})" if named else first
