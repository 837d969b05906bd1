"""prompts/opvolging.yaml as typed data: the Doorbraakteam, the vaste contactpersonen and the
doorbraakbudget. Sections this module does not know (the escalatieladder) are left alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from dialogs.money import AmountError, parse_money
from dialogs.spec import SpecError

FILE = "opvolging.yaml"


@dataclass(frozen=True)
class Team:
    """Who receives submitted plans: the registered professionals of team `name` in their
    private chats, or, with `group`, that Telegram group chat."""

    name: str
    group: int | None = None


@dataclass(frozen=True)
class Contact:
    role: str
    organisation: str
    decides: str


@dataclass(frozen=True)
class Budget:
    """A team's doorbraakbudget for one period (both days included)."""

    team: str
    amount: Decimal
    start: date
    end: date

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Opvolging:
    team: Team | None = None
    contacts: tuple[Contact, ...] = ()
    budgets: tuple[Budget, ...] = ()

    @classmethod
    def from_data(cls, data: Any) -> Opvolging:
        """Read and check the mapping of opvolging.yaml; SpecError names the bad place."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise SpecError(f"{FILE}: expected a mapping of sections (verwacht: secties)")
        return cls(
            _team(data.get("doorbraakteam")),
            tuple(_contact(item, n) for n, item in enumerate(_list(data, "contactpersonen"))),
            tuple(_budget(item, n) for n, item in enumerate(_list(data, "budget"))),
        )

    def budget_for(self, team: str, day: date) -> Budget | None:
        return next((b for b in self.budgets if b.team == team and b.holds(day)), None)


def _where(place: str) -> str:
    return f"{FILE}: {place}"


def _text(item: Mapping[str, Any], key: str, place: str, *, required: bool = True) -> str:
    value = item.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise SpecError(_where(f"{place}.{key}: required text missing (tekst ontbreekt)"))
    return value.strip()


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise SpecError(_where(f"{key}: expected a list (verwacht: een lijst)"))
    return value


def _mapping(item: Any, place: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise SpecError(_where(f"{place}: expected a mapping (verwacht: sleutels met waarden)"))
    return item


def _team(item: Any) -> Team | None:
    if item is None:
        return None
    item = _mapping(item, "doorbraakteam")
    group = item.get("groep")
    if group is not None and (isinstance(group, bool) or not isinstance(group, int)):
        raise SpecError(
            _where("doorbraakteam.groep: expected a Telegram chat id (verwacht: een getal)")
        )
    return Team(_text(item, "naam", "doorbraakteam")[:100], group)


def _contact(item: Any, n: int) -> Contact:
    place = f"contactpersonen[{n}]"
    item = _mapping(item, place)
    return Contact(
        _text(item, "rol", place),
        _text(item, "organisatie", place),
        _text(item, "beslist", place, required=False),
    )


def _budget(item: Any, n: int) -> Budget:
    place = f"budget[{n}]"
    item = _mapping(item, place)
    raw = item.get("bedrag")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise SpecError(
            _where(f"{place}.bedrag: write the amount as text, e.g. '€ 50.000' (als tekst)")
        )
    try:
        amount = parse_money(str(raw)).value
    except AmountError:
        amount = Decimal(0)
    if amount <= 0:
        raise SpecError(_where(f"{place}.bedrag: not an amount (geen bedrag): {raw!r}"))
    year = item.get("jaar")
    start, end = item.get("van"), item.get("tot")
    if isinstance(year, int) and not isinstance(year, bool) and start is None and end is None:
        start, end = date(year, 1, 1), date(year, 12, 31)
    if not isinstance(start, date) or not isinstance(end, date) or end < start:
        raise SpecError(
            _where(
                f"{place}: give jaar (2027) or van and tot as dates (2027-01-01), van before tot"
            )
        )
    return Budget(_text(item, "team", place)[:100], amount, start, end)
