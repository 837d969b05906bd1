"""Dutch number, currency and date formatting (Babel), injected into the dialog core."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, parse_pattern

# Parsed once: cost questions format several amounts per turn.
LOCALE = Locale.parse("nl_NL")
WHOLE_EUROS = parse_pattern("¤ #,##0")


class DutchFormatter:
    """`€ 10.057` for whole amounts, `€ 1.052,32` otherwise; `15 maart 2027`."""

    def money(self, amount: Decimal, *, exact: bool = False) -> str:
        if not isinstance(amount, Decimal):
            raise TypeError("money is formatted from Decimal only")
        if not exact and amount == amount.to_integral_value():
            return format_currency(
                amount, "EUR", format=WHOLE_EUROS, locale=LOCALE, currency_digits=False
            )
        return format_currency(amount, "EUR", locale=LOCALE)

    def number(self, value: Decimal) -> str:
        return format_decimal(value, locale=LOCALE, decimal_quantization=False)

    def date(self, value: date) -> str:
        return format_date(value, format="long", locale=LOCALE)
