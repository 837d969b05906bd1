"""Action points (a list field with columns wie, wat, wanneer): read, stored, read back."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dialogs.answers import Accepted, Refusal, parse_list

# Between the parts of a point: `wie | wat | wanneer`, `wie - wat - wanneer` (also – and —).
_BAR = re.compile(r"\s*\|\s*")
_DASH = re.compile(r"\s+[-–—]\s+")
# The stored form: one separator, so a point reads back the same way it was understood.
STORED_SEPARATOR = " | "
# After `wie: wat` a last part after a comma is the wanneer only when it reads as a time;
# otherwise the comma belongs to the wat (`bel Wmo, CIZ en zorgkantoor`).
_TIME_WORDS = frozenset(
    [
        "dag",
        "dagen",
        "week",
        "weken",
        "maand",
        "maanden",
        "jaar",
        "jaren",
        "kwartaal",
        "morgen",
        "overmorgen",
        "vandaag",
        "direct",
        "meteen",
        "zsm",
        "z.s.m.",
        "binnenkort",
        "binnen",
        "uiterlijk",
        "eind",
        "begin",
        "medio",
        "half",
        "halverwege",
        "dagelijks",
        "wekelijks",
        "maandelijks",
        "doorlopend",
        "zodra",
        "maandag",
        "dinsdag",
        "woensdag",
        "donderdag",
        "vrijdag",
        "zaterdag",
        "zondag",
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
        "jan",
        "feb",
        "mrt",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "okt",
        "nov",
        "dec",
    ]
)


def split_point(item: str, columns: int = 3) -> list[str]:
    """A point as `columns` cells (wie, wat, wanneer); a cell not given is empty.

    Reads the stored form and every typed form: `wie | wat | wanneer`, `wie - wat - wanneer`,
    `wie: wat, wanneer`; a point with no separator is all wie (the caller refuses that).
    """
    for separator in (_BAR, _DASH):
        if separator.search(item):
            cells = [c.strip() for c in separator.split(item, maxsplit=columns - 1)]
            break
    else:
        who, colon, rest = item.partition(":")
        cells = [who.strip(), rest.strip()] if colon else [item.strip()]
    if len(cells) == 2 and columns >= 3:
        what, comma, when = cells[1].rpartition(",")
        if comma and _is_time(when):
            cells = [cells[0], what.strip(), when.strip()]
    return cells + [""] * (columns - len(cells))


def _is_time(text: str) -> bool:
    words = text.lower().split()
    return bool(words) and (any(c.isdigit() for c in text) or any(w in _TIME_WORDS for w in words))


def parse_points(text: str, columns: Sequence[str]) -> Accepted | Refusal:
    """Points one per line (or `;`), each with at least a wie and a wat; stored normalised."""
    reading = parse_list(text)
    if isinstance(reading, Refusal):
        return reading
    stored = []
    for item in reading.value:
        cells = split_point(item, len(columns))
        if not all(cells[:2]):
            return Refusal("actiepunt_onleesbaar", {"punt": item})
        stored.append(STORED_SEPARATOR.join(c for c in cells if c))
    return Accepted(stored)


def open_points(items: Sequence[str], columns: int) -> list[str]:
    """The wie of each point that leaves a part (in practice the wanneer) open."""
    cells = [split_point(item, columns) for item in items]
    return [c[0] for c in cells if not all(c)]


def table(items: Sequence[str], columns: Sequence[str], open_word: str) -> str:
    """The points as a small plain-text table, an open part shown as `open_word`."""
    rows = [" | ".join(columns)]
    for item in items:
        cells = split_point(item, len(columns))
        rows.append(" | ".join(c or open_word for c in cells))
    return "\n".join(rows)
