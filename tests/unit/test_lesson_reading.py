"""A lesson as typed (dialogs.lessons): what is taken, and what is refused with which message."""

from __future__ import annotations

from datetime import date

import pytest

from dialogs.lessons import (
    Owner,
    Refused,
    looks_like_household,
    read_due,
    read_owner,
    read_source,
    read_text,
    split_line,
)

TEAM = [(3, "Fenna"), (4, "Femke"), (5, "")]


@pytest.mark.parametrize("token", ["3012", "WT-3012", "hh-12345", "A-123"])
def test_household_numbers_are_seen(token: str) -> None:
    assert looks_like_household(token)


@pytest.mark.parametrize(
    "token", ["2026", "2026-K1", "K1-2026", "Q3", "2026Q4", "31-3-2026", "2026-03-31", "12", "K4"]
)
def test_years_quarters_days_and_small_numbers_are_not(token: str) -> None:
    assert not looks_like_household(token)


def test_a_source_is_short_and_names_no_household() -> None:
    assert read_source("  reflectiesessie   2026-K1 ") == "reflectiesessie 2026-K1"
    assert read_source("-") is None and read_source("geen") is None and read_source("") is None
    for source, key in (
        ("gezin 3012", "les_bron_huishouden"),
        ("x" * 101, "les_bron_lang"),
        ("jan@example.nl", "les_persoonsgegevens"),
    ):
        with pytest.raises(Refused) as refused:
            read_source(source)
        assert refused.value.key == key


def test_an_owner_is_a_role_or_one_colleague() -> None:
    assert read_owner("Teamleider", TEAM) == Owner(role="teamleider")
    assert read_owner("beleid", TEAM) == Owner(role="beleidsmedewerker")
    assert read_owner("fenna", TEAM) == Owner(professional_id=3)
    assert read_owner("#4", TEAM) == Owner(professional_id=4)
    # Who records it may name themself.
    assert read_owner("ik", TEAM, me=3) == Owner(professional_id=3)
    assert read_owner("Mezelf.", TEAM, me=4) == Owner(professional_id=4)
    with pytest.raises(Refused):
        read_owner("ik", TEAM)  # the terminal's administrator is no professional
    for said, key in (
        ("Fe", "les_eigenaar_meerdere"),
        ("9", "les_eigenaar_onbekend"),
        ("", "les_eigenaar_onbekend"),
    ):
        with pytest.raises(Refused) as refused:
            read_owner(said, TEAM)
        assert refused.value.key == key


def test_text_day_and_one_line() -> None:
    assert read_text(" Eerder   bellen ") == "Eerder bellen"
    with pytest.raises(Refused):
        read_text("IBAN NL91ABNA0417164300")
    today = date(2026, 12, 3)
    assert read_due("1 april", today) == date(2027, 4, 1)
    assert read_due("vandaag", today) == today
    assert split_line("a | b | c | d") == ["a", "b", "c", "d"]
    assert split_line("a | b") is None and split_line("geen streep") is None
