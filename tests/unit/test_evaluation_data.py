"""The evaluation's pure parts: its interview data, the months since the plan, cost lines pro
rata, and projected against realised figures in exact Decimal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import prompts
from dialogs import Kind, SpecError
from dialogs.evaluation import (
    GIVEN_ACTIONS,
    GIVEN_LINES,
    REALISED,
    done_action_ids,
    given_answers,
    months_between,
    prorated,
    result,
    unique,
)
from dialogs.spec import Interview

SPEC = prompts.load_interview()
EVALUATION = prompts.load_evaluation()
WEEKLY = {"omschrijving": "Inzet", "prijs": 6500, "eenheid": "uur", "aantal": "2",
          "frequentie": "week"}  # fmt: skip
ONCE = {"omschrijving": "Schuldhulp", "prijs": 90000, "eenheid": "traject", "aantal": "1",
        "frequentie": "eenmalig"}  # fmt: skip


def test_the_evaluation_interview_is_data() -> None:
    assert [f.key for f in EVALUATION.fields] == [
        "evaluatie.doorbraak",
        "evaluatie.acties",
        "evaluatie.verandering",
        "evaluatie.meer",
        "evaluatie.sneller",
        "evaluatie.zinvoller",
        "evaluatie.kosten",
    ]
    acties = EVALUATION.field("evaluatie.acties")
    assert (acties.kind, acties.choices_from) == (Kind.MULTICHOICE, GIVEN_ACTIONS)
    assert EVALUATION.field("evaluatie.kosten").earlier == GIVEN_LINES
    # Its own words where the interview's speak of the plan.
    assert EVALUATION.message("klaar") != SPEC.message("klaar")


def test_choices_from_must_name_a_given_answer() -> None:
    steps = [{"key": "s", "name": "S", "question": "?", "fields": [
        {"key": "a", "type": "multichoice", "text": "Welke?", "choices_from": "lijst"},
    ]}]  # fmt: skip
    messages = {"messages": {}, "commands": {}}
    with pytest.raises(SpecError, match="'lijst' must be an earlier field"):
        Interview.from_data({"steps": steps}, messages)
    spec = Interview.from_data({"steps": steps, "given": ["lijst"]}, messages)
    assert spec.given == ("lijst",)


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2027, 3, 1), date(2027, 6, 1), 3),
        (date(2027, 3, 15), date(2027, 6, 14), 2),
        (date(2027, 3, 1), date(2028, 3, 1), 12),
        (date(2027, 3, 1), date(2027, 3, 2), 1),  # at least one
        (date(2000, 1, 1), date(2027, 1, 1), 120),  # at most the longest period
    ],
)
def test_months_since_the_plan(start: date, end: date, months: int) -> None:
    assert months_between(start, end) == months


def test_a_line_for_the_whole_period_in_units_of_its_own_gets_its_share() -> None:
    line = {**WEEKLY, "eenheid": "sessie", "frequentie": "periode", "per_periode": "10"}
    assert prorated([line, WEEKLY], Decimal(12), 3) == [{**line, "per_periode": "2.5000"}, WEEKLY]


def test_labels_differ_and_hold_no_separator() -> None:
    assert unique(["Wijkteam: bel", "Wijkteam: bel", "A; B"]) == [
        "Wijkteam: bel",
        "Wijkteam: bel (2)",
        "A, B",
    ]


def test_projected_against_realised_over_the_months() -> None:
    answers = {
        "rendement.huidig": [{**WEEKLY, "aantal": "1"}],
        "rendement.dreigend": [{**WEEKLY, "aantal": "10"}],
        "rendement.doorbraak": [WEEKLY, ONCE],
    }
    given = given_answers(SPEC, answers, [(7, "Wijkteam: bel"), (9, "Huishouden: zoek")], 3)
    assert given[GIVEN_ACTIONS] == ["Wijkteam: bel", "Huishouden: zoek"]
    found = result(SPEC.costs, given, {REALISED: [{**WEEKLY, "aantal": "3"}, ONCE]})
    # 65 × 52/12 × 3 = 845 per hour a week over 3 months.
    assert found.projected.doorbraak == Decimal("2590.00")
    assert found.realised is not None
    assert found.realised.doorbraak == Decimal("3435.00")
    assert (found.projected.direct.key, found.projected.direct.amount) == (
        "directe_kosten",
        Decimal("1745.00"),
    )
    assert (found.realised.real.key, found.realised.real.amount) == (
        "reele_baten",
        Decimal("5015.00"),
    )
    assert result(SPEC.costs, given, {}).realised is None
    assert done_action_ids(given, {"evaluatie.acties": ["Huishouden: zoek"]}) == [9]
