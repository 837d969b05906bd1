"""Reading amounts and quantities the way Dutch professionals type them, straight into Decimal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Money never passes through float: everything here is str -> Decimal -> integer cents.
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000")

_CURRENCY = re.compile(r"^(?:€|eur(?:o)?)\s*|\s*(?:€|eur(?:o)?)$", re.IGNORECASE)
_DASH_CENTS = re.compile(r"[,.][-–]$")
_DIGITS = re.compile(r"^\d+$")
_GROUPED = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")


class AmountError(ValueError):
    """The text is not an amount; `reason` is a message key of the wording."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Reading:
    """A parsed amount; `ambiguous` when another reading was plausible (e.g. `1.500`)."""

    value: Decimal
    ambiguous: bool = False


def parse_decimal(text: str, *, max_places: int = 2) -> Reading:
    """Parse `€ 1.052,32`, `1052,32`, `1052.32`, `€65,-`, `65`, `1.500`, `2,5`.

    A single separator followed by exactly three digits (`1.500`, `1,500`) could be a
    thousands separator or a decimal point; it is read the Dutch way (thousands for a
    dot, decimals for a comma) and flagged as ambiguous so the caller can read it back,
    unless a euro sign, `euro` or `,-` marks the Dutch form (`€ 1.250,-`, `1.250 euro`).
    """
    raw = " ".join(text.split())
    # A euro sign, `euro` or `,-` marks a Dutch amount: there `1.250` can only be thousands.
    marked = bool(_CURRENCY.search(raw) or _DASH_CENTS.search(raw))
    raw = _CURRENCY.sub("", raw).strip()
    raw = _DASH_CENTS.sub("", raw)
    raw = raw.replace(" ", "").replace("\u00a0", "")
    if not raw:
        raise AmountError("bedrag_leeg")
    if raw.startswith("-") or raw.startswith("−"):
        raise AmountError("bedrag_negatief")
    if raw.startswith("+"):
        raw = raw[1:]
    ambiguous = False
    if _DIGITS.match(raw):
        number = raw
    elif "." in raw and "," in raw:
        # Both present: the last one is the decimal separator, the other groups thousands.
        decimal_sep = "," if raw.rfind(",") > raw.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        whole, _, frac = raw.rpartition(decimal_sep)
        if not _GROUPED.match(whole) or group_sep not in whole or not _DIGITS.match(frac):
            raise AmountError("bedrag_onleesbaar")
        number = whole.replace(group_sep, "") + "." + frac
    else:
        sep = "," if "," in raw else "."
        parts = raw.split(sep)
        if not all(_DIGITS.match(p) for p in parts):
            raise AmountError("bedrag_onleesbaar")
        if len(parts) > 2:
            if not _GROUPED.match(raw):
                raise AmountError("bedrag_onleesbaar")
            number = "".join(parts)
        elif len(parts[1]) == 3 and len(parts[0]) <= 3:
            ambiguous = not (marked and sep == ".")
            number = parts[0] + parts[1] if sep == "." else parts[0] + "." + parts[1]
        else:
            number = parts[0] + "." + parts[1]
    try:
        value = Decimal(number)
    except InvalidOperation as exc:  # pragma: no cover - the patterns above admit digits only
        raise AmountError("bedrag_onleesbaar") from exc
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_places:
        if ambiguous:
            # `1,500` read as 1.500 has three places; the thousands reading is the sensible one.
            return Reading(Decimal(number.replace(".", "")), ambiguous=True)
        raise AmountError("bedrag_te_precies")
    return Reading(value, ambiguous=ambiguous)


def parse_money(text: str) -> Reading:
    """An amount in euros, at most two decimals, not negative, at most MAX_AMOUNT."""
    reading = parse_decimal(text, max_places=2)
    if reading.value > MAX_AMOUNT:
        raise AmountError("bedrag_te_hoog")
    return reading


def to_cents(value: Decimal) -> int:
    """Exact integer cents; the value has at most two decimals by construction."""
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError("an amount in cents must be whole")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError("cents must be an int")
    return (Decimal(cents) * CENT).quantize(CENT)
