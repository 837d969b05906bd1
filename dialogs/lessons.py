"""A lesson of the reflectiesessie as typed: its text, where it came from, its owner and its
day, each read and checked here (no storage, no Telegram). A check returns the key of the
message that says what is wrong, or the value read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from dialogs.household import normalise_household
from dialogs.pii import find_pii
from dialogs.readings import normal, read_date

TEXT_MAX: Final = 500
SOURCE_MAX: Final = 100
# The roles that may own a lesson, as typed (and their usual short forms).
ROLE_WORDS: Final = {
    "teamleider": "teamleider",
    "teamleiders": "teamleider",
    "tl": "teamleider",
    "beleidsmedewerker": "beleidsmedewerker",
    "beleidsmedewerkers": "beleidsmedewerker",
    "beleid": "beleidsmedewerker",
}
# No source: `-`, `geen`.
NO_SOURCE: Final = ("-", "geen", "geen bron")
# What may look like a household number but is a quarter, a year or a day: `2026-K1`, `Q3`,
# `2026`, `2026-03-31`, `31-3-2026`.
_NOT_A_HOUSEHOLD = re.compile(
    r"(19|20)\d\d|[kq][1-4]|(19|20)\d\d-?[kq][1-4]|[kq][1-4]-?(19|20)\d\d"
    r"|(19|20)\d\d-\d{1,2}(-\d{1,2})?|\d{1,2}-\d{1,2}(-(19|20)?\d\d)?",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")


class Refused(ValueError):
    """The answer cannot be taken; `key` is the message that says why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Owner:
    """A lesson's owner: a registered professional, or a role."""

    professional_id: int | None = None
    role: str | None = None


def read_text(text: str) -> str:
    """The lesson itself: not empty, not long, no personal data."""
    text = " ".join(text.split())
    if not text:
        raise Refused("les_tekst_leeg")
    if len(text) > TEXT_MAX:
        raise Refused("les_tekst_lang")
    if find_pii(text):
        raise Refused("les_persoonsgegevens")
    return text


def read_source(text: str) -> str | None:
    """Where it came from (a group, a quarter), or None: short, and never a household
    number or other personal data."""
    text = " ".join(text.split())
    if not text or normal(text) in NO_SOURCE:
        return None
    if len(text) > SOURCE_MAX:
        raise Refused("les_bron_lang")
    if find_pii(text):
        raise Refused("les_persoonsgegevens")
    if any(looks_like_household(token) for token in _TOKEN.findall(text)):
        raise Refused("les_bron_huishouden")
    return text


def looks_like_household(token: str) -> bool:
    """A word that is shaped like a household number (`3012`, `WT-3012`) and is not a year,
    a quarter or a day. One or two digits (`groep 2`) are no household number."""
    if normalise_household(token) is None or _NOT_A_HOUSEHOLD.fullmatch(token):
        return False
    return sum(ch.isdigit() for ch in token) >= 3


# The one recording the lesson names themself.
SELF_WORDS: Final = frozenset({"ik", "ikzelf", "ik zelf", "mij", "mijzelf", "mezelf", "zelf"})


def read_owner(text: str, colleagues: Sequence[tuple[int, str]], me: int | None = None) -> Owner:
    """A role (`teamleider`, `beleidsmedewerker`), `ik` (`me`, who records it), or a
    colleague of the team by name (a unique start of it will do) or by number."""
    said = normal(text).strip(" .")
    if said in ROLE_WORDS:
        return Owner(role=ROLE_WORDS[said])
    if said in SELF_WORDS and me is not None:
        return Owner(professional_id=me)
    if said.lstrip("#").isdigit():
        wanted = int(said.lstrip("#"))
        if any(pid == wanted for pid, _ in colleagues):
            return Owner(professional_id=wanted)
        raise Refused("les_eigenaar_onbekend")
    exact = [pid for pid, name in colleagues if name and normal(name) == said]
    starts = [pid for pid, name in colleagues if name and said and normal(name).startswith(said)]
    found = exact or starts
    if len(found) == 1:
        return Owner(professional_id=found[0])
    if len(found) > 1:
        raise Refused("les_eigenaar_meerdere")
    raise Refused("les_eigenaar_onbekend")


def read_due(text: str, today: date) -> date:
    """The day the lesson should be acted on, the Dutch way (`1 april`, `over 3 maanden`);
    not in the past."""
    day = read_date(text, today)
    if day is None:
        raise Refused("les_datum_onleesbaar")
    if day < today:
        raise Refused("les_datum_verleden")
    return day


def split_line(text: str) -> list[str] | None:
    """`tekst | bron | eigenaar | datum` as its four parts, or None if it is not that."""
    if "|" not in text:
        return None
    parts = [part.strip() for part in text.split("|")]
    return parts if len(parts) == 4 else None
