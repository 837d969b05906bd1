"""The escalatieladder as data: the rungs of `escalatieladder` in prompts/opvolging.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialogs.spec import SpecError
from prompts import PACKAGE_DIR, _load_yaml

FILE = "opvolging.yaml"
SECTION = "escalatieladder"


@dataclass(frozen=True)
class Rung:
    """One rung: its name, who it is (role and organisation), what they can decide."""

    name: str
    who: str
    decides: str


@dataclass(frozen=True)
class Ladder:
    """The rungs from low to high, and how many days an action may be overdue before
    escalating is proposed."""

    rungs: tuple[Rung, ...]
    overdue_days: int

    def rung(self, index: int) -> Rung | None:
        """The rung at `index` (0 is the lowest); None above the top."""
        return self.rungs[index] if 0 <= index < len(self.rungs) else None


def parse_ladder(data: Any, where: str = FILE) -> Ladder:
    """The ladder from the loaded YAML of opvolging.yaml; other sections are ignored.
    Raises SpecError naming the first problem."""
    if not isinstance(data, dict) or not isinstance(data.get(SECTION), dict):
        raise SpecError(f"{where}: '{SECTION}' is missing or not a mapping")
    section = data[SECTION]
    days = section.get("dagen_te_laat")
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise SpecError(f"{where}: {SECTION}.dagen_te_laat must be a whole number from 1")
    items = section.get("treden")
    if not isinstance(items, list) or not items:
        raise SpecError(f"{where}: {SECTION}.treden must be a list of at least one rung")
    rungs = []
    for n, item in enumerate(items):
        at = f"{where}: {SECTION}.treden[{n}]"
        if not isinstance(item, dict):
            raise SpecError(f"{at} must be a mapping with naam, wie and beslist")
        values = []
        for key in ("naam", "wie", "beslist"):
            value = item.get(key)
            if not isinstance(value, str) or not value.strip():
                raise SpecError(f"{at}: '{key}' must be a text")
            values.append(value.strip())
        rungs.append(Rung(*values))
    names = [rung.name.casefold() for rung in rungs]
    if len(set(names)) != len(names):
        raise SpecError(f"{where}: {SECTION}.treden: two rungs have the same name")
    return Ladder(tuple(rungs), days)


def load_ladder(directory: Path | None = None) -> Ladder:
    """The ladder from `directory`'s opvolging.yaml, else from the shipped one: every section
    of the file is optional, and a file of the municipality's own without this section (the
    Doorbraakteam only, say) keeps the shipped ladder."""
    path = PACKAGE_DIR / FILE
    if directory is not None and (directory / FILE).exists():
        own = _load_yaml(directory / FILE)
        if not isinstance(own, dict) or SECTION in own:
            return parse_ladder(own, str(directory / FILE))
    return parse_ladder(_load_yaml(path), str(path))
