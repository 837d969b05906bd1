"""Dutch amounts to Decimal: the readings professionals type, and what is refused."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.formatting import DutchFormatter
from dialogs.money import AmountError, from_cents, parse_decimal, parse_money, to_cents


@pytest.mark.parametrize(
    ("text", "value", "ambiguous"),
    [
        ("€ 1.052,32", "1052.32", False),
        ("1052,32", "1052.32", False),
        ("1052.32", "1052.32", False),
        ("€65,-", "65", False),
        ("65", "65", False),
        ("1.500", "1500", True),
        ("2,5", "2.5", False),
        ("1.000.000", "1000000", False),
        ("EUR 12,50", "12.50", False),
        # A euro sign, `euro` or `,-` marks the Dutch form: the dot groups thousands.
        ("  € 7.000 ", "7000", False),
        ("€ 1.250,-", "1250", False),
        ("€1.250,00", "1250.00", False),
        ("1.250 euro", "1250", False),
        ("1.250,-", "1250", False),
        ("1,250 euro", "1250", True),
        ("1,052.32", "1052.32", False),
    ],
)
def test_dutch_amounts(text: str, value: str, ambiguous: bool) -> None:
    reading = parse_money(text)
    assert reading.value == Decimal(value)
    assert reading.ambiguous is ambiguous


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "bedrag_onleesbaar"),
        ("1,2,3", "bedrag_onleesbaar"),
        ("", "bedrag_leeg"),
        ("€", "bedrag_leeg"),
        ("-5", "bedrag_negatief"),
        ("10^12", "bedrag_onleesbaar"),
        ("10000000,01", "bedrag_te_hoog"),
        ("1,555", None),
        ("12,345", None),
        ("1.05.2", "bedrag_onleesbaar"),
        ("3,333333", "bedrag_te_precies"),
    ],
)
def test_refused_amounts(text: str, reason: str | None) -> None:
    if reason is None:
        # Three digits after a comma are read as thousands and must be confirmed.
        assert parse_money(text).ambiguous
        return
    with pytest.raises(AmountError) as caught:
        parse_money(text)
    assert caught.value.reason == reason


def test_quantities_take_more_places() -> None:
    assert parse_decimal("0,25", max_places=4).value == Decimal("0.25")
    assert parse_decimal("1,5", max_places=4).value == Decimal("1.5")


def test_cents_are_exact_integers() -> None:
    assert to_cents(Decimal("1052.32")) == 105232
    assert from_cents(105232) == Decimal("1052.32")
    with pytest.raises(TypeError):
        from_cents(1052.32)  # type: ignore[arg-type]


amounts = st.decimals(
    min_value=Decimal("0"), max_value=Decimal("10000000"), places=2, allow_nan=False
)


@given(amounts)
def test_dutch_formatting_parses_back(value: Decimal) -> None:
    fmt = DutchFormatter()
    for shown in (fmt.money(value, exact=True), fmt.money(value)):
        assert parse_money(shown).value == value


@given(amounts)
def test_cents_round_trip(value: Decimal) -> None:
    assert from_cents(to_cents(value)) == value


def test_formatter_refuses_floats() -> None:
    with pytest.raises(TypeError):
        DutchFormatter().money(6760.0)  # type: ignore[arg-type]
