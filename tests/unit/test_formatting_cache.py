"""Dutch numbers as documents and messages write them: remembered values as written before,
and a month counted right."""

from __future__ import annotations

from decimal import Decimal

from bot.documents import _CachedFormatter
from bot.formatting import DutchFormatter
from dialogs import Interview
from dialogs.display import months_text, period_text


def test_remembered_numbers_keep_their_written_precision() -> None:
    plain, cached = DutchFormatter(), _CachedFormatter(DutchFormatter())
    for text in ("12", "12.0", "12", "1250.5", "1250.50", "0.25", "12.0"):
        value = Decimal(text)
        assert cached.number(value) == plain.number(value), text
    assert cached.number(Decimal("12")) == "12"


def test_remembered_amounts_match_babel() -> None:
    plain, cached = DutchFormatter(), _CachedFormatter(DutchFormatter())
    for text in ("1250", "1250.00", "1250.5", "0.01"):
        for exact in (False, True):
            value = Decimal(text)
            assert cached.money(value, exact=exact) == plain.money(value, exact=exact)


def test_one_month_is_written_singular(spec: Interview) -> None:
    """A plan or an evaluation of one month reads `1 maand`, not `1 maanden`."""
    fmt = DutchFormatter()
    assert months_text(spec, fmt, Decimal(1)) == "1 maand"
    assert months_text(spec, fmt, Decimal(3)) == "3 maanden"
    assert period_text(spec, fmt, Decimal(1)) == "in 1 maand"
    assert period_text(spec, fmt, Decimal("1.5")) == "in 1,5 maanden"
    assert period_text(spec, fmt, Decimal(12)) == "per jaar"
