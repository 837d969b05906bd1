"""The documents' formatter remembers what it wrote; it must write each value as before."""

from __future__ import annotations

from decimal import Decimal

from bot.documents import _CachedFormatter
from bot.formatting import DutchFormatter


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
