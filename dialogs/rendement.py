"""Rendement arithmetic: cost lines, the analysis period, scenario totals and comparisons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dialogs.money import CENT, from_cents, to_cents

# Everything is Decimal or Fraction: a line's total is computed exactly and rounded once,
# to whole cents, half up. A scenario's total is the exact sum of its rounded lines.
DEFAULT_PERIOD_MONTHS = Decimal(12)
PERIOD_FIELD = "rendement.periode"
ONCE = "eenmalig"
WHOLE_PERIOD = "periode"


# How many line totals a CostModel keeps before it starts again.
_REMEMBERED_TOTALS = 4096


@dataclass(frozen=True)
class Unit:
    """A price unit (`dag`); `per_month` is set for units of time (a day: 365/12 a month)."""

    name: str
    plural: str
    per_month: Fraction | None = None
    # Abbreviations professionals type (`mnd`, `u`, `wk`).
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frequency:
    """How often the quantity recurs: `per_month` times a month, or once in the period."""

    key: str
    label: str
    per: str = ""
    per_month: Fraction | None = None
    # Other ways professionals type it in a line (`p/w`, `/mnd`, `wekelijks`).
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class CostLine:
    omschrijving: str
    prijs: Decimal
    eenheid: str
    aantal: Decimal
    frequentie: str
    # For a price unit typed as free text: how many of it make the analysis period.
    per_periode: Decimal | None = None

    def to_stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "omschrijving": self.omschrijving,
            "prijs": to_cents(self.prijs),
            "eenheid": self.eenheid,
            "aantal": str(self.aantal),
            "frequentie": self.frequentie,
        }
        if self.per_periode is not None:
            stored["per_periode"] = str(self.per_periode)
        return stored

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> CostLine:
        per_periode = stored.get("per_periode")
        return cls(
            omschrijving=str(stored["omschrijving"]),
            prijs=from_cents(stored["prijs"]),
            eenheid=str(stored["eenheid"]),
            aantal=Decimal(stored["aantal"]),
            frequentie=str(stored["frequentie"]),
            per_periode=None if per_periode is None else Decimal(per_periode),
        )


@dataclass(frozen=True)
class CostModel:
    """Units and frequencies from prompts/kosten.yaml."""

    units: tuple[Unit, ...]
    frequencies: tuple[Frequency, ...]
    # Line totals already worked out (see total): not part of the model's value.
    _totals: dict[tuple[CostLine, Decimal], Decimal] = field(
        default_factory=dict, init=False, compare=False, hash=False, repr=False
    )

    def unit(self, name: str) -> Unit | None:
        wanted = name.strip().lower()
        for unit in self.units:
            if wanted in (unit.name.lower(), unit.plural.lower(), *unit.words):
                return unit
        return None

    def frequency(self, key: str) -> Frequency:
        for frequency in self.frequencies:
            if frequency.key == key:
                return frequency
        raise KeyError(key)

    def plural(self, name: str, amount: Decimal) -> str:
        unit = self.unit(name)
        if unit is None or amount == 1:
            return name
        return unit.plural

    def per_period(self, line: CostLine, months: Decimal) -> Fraction | None:
        """How many price units make the period, for a line that runs the whole period."""
        if line.per_periode is not None:
            return Fraction(line.per_periode)
        unit = self.unit(line.eenheid)
        if unit is None or unit.per_month is None:
            return None
        return unit.per_month * Fraction(months)

    def occurrences(self, line: CostLine, months: Decimal) -> Fraction:
        """How many times the line's quantity is used in the period."""
        if line.frequentie == ONCE:
            return Fraction(1)
        if line.frequentie == WHOLE_PERIOD:
            count = self.per_period(line, months)
            if count is None:
                raise ValueError(f"unit {line.eenheid!r} has no length for the whole period")
            return count
        per_month = self.frequency(line.frequentie).per_month
        if per_month is None:
            raise ValueError(f"frequency {line.frequentie!r} has no rate")
        return per_month * Fraction(months)

    def per_occurrence(self, line: CostLine) -> Decimal:
        """The cost of one occurrence: `2 uur × € 65 = € 130` (per week), exact."""
        return line.aantal * line.prijs

    def total(self, line: CostLine, months: Decimal) -> Decimal:
        """The line's total in the period, exact. Remembered: a plan's documents and messages
        show each line's total several times (tables, totals, comparisons), and the exact
        product in Fractions is most of a document's own time."""
        key = (line, months)
        total = self._totals.get(key)
        if total is None:
            if len(self._totals) > _REMEMBERED_TOTALS:  # lines of many plans: start again
                self._totals.clear()
            exact = Fraction(line.aantal) * Fraction(line.prijs) * self.occurrences(line, months)
            total = self._totals[key] = round_cents(exact)
        return total


def round_cents(value: Fraction) -> Decimal:
    """Exact Fraction to Decimal cents, rounding half up (the README's rounding rule)."""
    cents = value * 100
    whole, rest = divmod(cents.numerator, cents.denominator)
    if rest * 2 >= cents.denominator:
        whole += 1
    # Rounded above, in whole cents: scaling them to euros is exact, nothing left to round.
    return Decimal(whole) * CENT


def lines_of(stored: Any) -> list[CostLine]:
    if not stored:
        return []
    return [CostLine.from_stored(item) for item in stored]


def period_months(stored: Any) -> Decimal:
    return DEFAULT_PERIOD_MONTHS if stored in (None, "") else Decimal(stored)


def scenario_total(model: CostModel, lines: Sequence[CostLine], months: Decimal) -> Decimal:
    return sum((model.total(line, months) for line in lines), Decimal("0.00"))


@dataclass(frozen=True)
class Comparison:
    """A difference named in the book's words: directe kosten/baten, reële kosten/baten."""

    key: str
    amount: Decimal


def signed_comparisons(
    huidig: Decimal, dreigend: Decimal, doorbraak: Decimal
) -> tuple[Decimal, Decimal]:
    """(directe, reële), signed as the book reads them: the doorbraakscenario minus the
    huidige situatie (above 0: directe kosten), the dreigende scenario minus the
    doorbraakscenario (above 0: reële baten)."""
    return doorbraak - huidig, dreigend - doorbraak


def compare(huidig: Decimal, dreigend: Decimal, doorbraak: Decimal) -> tuple[Comparison, ...]:
    direct, real = signed_comparisons(huidig, dreigend, doorbraak)
    return (
        Comparison("directe_kosten" if direct > 0 else "directe_baten", abs(direct)),
        Comparison("reele_baten" if real >= 0 else "reele_kosten", abs(real)),
    )


@dataclass(frozen=True)
class PriceEntry:
    """One entry of the maatschappelijke prijslijst."""

    omschrijving: str
    prijs: Decimal
    eenheid: str
    bron: str
    jaar: int | None = None
    trefwoorden: tuple[str, ...] = ()

    def matches(self, description: str) -> bool:
        text = " ".join(description.lower().split())
        words = (self.omschrijving.lower(), *(w.lower() for w in self.trefwoorden))
        return any(w in text or (len(text) >= 4 and text in w) for w in words)


def match_prices(
    prices: Sequence[PriceEntry], description: str, limit: int = 3
) -> list[PriceEntry]:
    return [p for p in prices if p.matches(description)][:limit]
