"""prompts/opvolging.yaml: read into typed data, checked with the place of a mistake named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

import prompts
from dialogs.opvolging import Opvolging
from dialogs.spec import SpecError


def test_the_shipped_file_reads() -> None:
    config = prompts.load_opvolging()
    assert config.team is not None and config.team.name == "Doorbraakteam"
    assert config.team.group is None
    assert config.contacts[0].role == "Teamleider Werk en Inkomen"
    budget = config.budget_for("Doorbraakteam", date(2027, 6, 1))
    assert budget is not None and budget.amount == Decimal("50000")
    assert config.budget_for("Doorbraakteam", date(2030, 1, 1)) is None


def test_a_period_and_a_group_and_sections_it_does_not_know() -> None:
    config = Opvolging.from_data(
        {
            "doorbraakteam": {"naam": "Team Zuid", "groep": -1001234567890},
            "budget": [
                {"team": "Team Zuid", "bedrag": "€ 12.500,50", "van": date(2027, 7, 1),
                 "tot": date(2028, 6, 30)},
            ],
            "escalatieladder": [{"trede": "teamleider"}],
        }
    )  # fmt: skip
    assert config.team is not None and config.team.group == -1001234567890
    [budget] = config.budgets
    assert (budget.amount, budget.start, budget.end) == (
        Decimal("12500.50"),
        date(2027, 7, 1),
        date(2028, 6, 30),
    )
    assert Opvolging.from_data(None) == Opvolging()


@pytest.mark.parametrize(
    ("data", "place"),
    [
        ([], "opvolging.yaml: expected a mapping"),
        ({"doorbraakteam": {"groep": 5}}, "doorbraakteam.naam"),
        ({"doorbraakteam": {"naam": "X", "groep": "groep"}}, "doorbraakteam.groep"),
        ({"contactpersonen": [{"rol": "Wmo"}]}, r"contactpersonen\[0\].organisatie"),
        ({"contactpersonen": {"rol": "Wmo"}}, "contactpersonen: expected a list"),
        ({"budget": [{"team": "X", "jaar": 2027, "bedrag": 1.5}]}, r"budget\[0\].bedrag"),
        ({"budget": [{"team": "X", "jaar": 2027, "bedrag": "veel"}]}, "geen bedrag"),
        ({"budget": [{"team": "X", "bedrag": "100"}]}, r"budget\[0\]: give jaar"),
        (
            {
                "budget": [
                    {"team": "X", "bedrag": "9", "van": date(2028, 1, 1), "tot": date(2027, 1, 1)}
                ]
            },
            "van before tot",
        ),
    ],
)
def test_a_mistake_is_named(data: Any, place: str) -> None:
    with pytest.raises(SpecError, match=place):
        Opvolging.from_data(data)
