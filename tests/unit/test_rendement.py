"""Rendement arithmetic and the cost-line dialog, on the pure core."""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs import Choose, Dialog, Error, Interview, Message
from dialogs.rendement import CostLine, compare, round_cents, scenario_total
from tests.unit.test_dialog import Plan


def line(aantal: str, prijs: str, eenheid: str, frequentie: str) -> CostLine:
    return CostLine("post", Decimal(prijs), eenheid, Decimal(aantal), frequentie)


def test_the_canvas_examples(spec: Interview) -> None:
    model, year = spec.costs, Decimal(12)
    wij = line("2", "65", "uur", "week")
    begeleiding = line("3", "100", "dag", "maand")
    assert model.per_occurrence(wij) == Decimal("130")
    assert model.total(wij, year) == Decimal("6760.00")
    assert model.total(begeleiding, year) == Decimal("3600.00")
    assert scenario_total(model, [wij, begeleiding], year) == Decimal("10360.00")


def test_a_shorter_period_scales_recurring_lines_only(spec: Interview) -> None:
    model, four = spec.costs, Decimal(4)
    # 2 hours a week for four months: 52/12 × 4 weeks, rounded once, half up
    assert model.total(line("2", "65", "uur", "week"), four) == Decimal("2253.33")
    assert model.total(line("3", "100", "dag", "maand"), four) == Decimal("1200.00")
    assert model.total(line("182", "100", "dag", "eenmalig"), four) == Decimal("18200.00")
    # a price per year for the whole period: a third of it
    assert model.total(line("1", "2100", "jaar", "periode"), four) == Decimal("700.00")


def test_free_units_carry_their_own_length(spec: Interview) -> None:
    kwartaal = CostLine("post", Decimal("900"), "kwartaal", Decimal(1), "periode", Decimal(4))
    assert spec.costs.total(kwartaal, Decimal(12)) == Decimal("3600.00")


def test_a_remembered_total_is_the_total_of_that_line_and_period(spec: Interview) -> None:
    """Line totals are remembered per cost model: a line with another quantity, price or
    period is worked out afresh, and the model's value ignores what it remembers."""
    model = spec.costs
    week = line("2", "65", "uur", "week")
    assert model.total(week, Decimal(12)) == Decimal("6760.00")
    assert model.total(week, Decimal(4)) == Decimal("2253.33")
    assert model.total(line("3", "65", "uur", "week"), Decimal(12)) == Decimal("10140.00")
    assert model.total(line("2", "65.01", "uur", "week"), Decimal(12)) == Decimal("6761.04")
    assert model.total(week, Decimal(12)) == Decimal("6760.00")
    assert model == type(model)(model.units, model.frequencies)


def test_comparisons_use_the_books_words() -> None:
    direct, real = compare(Decimal(0), Decimal(57650), Decimal(3600))
    assert (direct.key, direct.amount) == ("directe_kosten", Decimal(3600))
    assert (real.key, real.amount) == ("reele_baten", Decimal(54050))
    direct, real = compare(Decimal(9000), Decimal(2000), Decimal(3000))
    assert (direct.key, direct.amount) == ("directe_baten", Decimal(6000))
    assert (real.key, real.amount) == ("reele_kosten", Decimal(1000))


def test_rounding_is_half_up_to_cents() -> None:
    assert round_cents(Fraction(1, 200)) == Decimal("0.01")
    assert round_cents(Fraction(1, 201)) == Decimal("0.00")
    assert round_cents(Fraction(676000, 3)) == Decimal("225333.33")


prices = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)
quantities = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False)
frequencies = st.sampled_from(["week", "maand", "jaar", "eenmalig"])
lines = st.lists(
    st.builds(lambda p, q, f: line(str(q), str(p), "uur", f), prices, quantities, frequencies),
    max_size=20,
)


@given(lines, st.integers(min_value=1, max_value=120))
def test_a_total_is_the_exact_sum_of_its_lines(
    spec: Interview, cost_lines: list[CostLine], months: int
) -> None:
    model = spec.costs
    period = Decimal(months)
    expected = sum((model.total(c, period) for c in cost_lines), Decimal(0))
    assert scenario_total(model, cost_lines, period) == expected
    for c in cost_lines:
        exact = Fraction(c.aantal) * Fraction(c.prijs) * model.occurrences(c, period)
        assert abs(Fraction(model.total(c, period)) - exact) <= Fraction(1, 200)


@pytest.fixture
def no_floats() -> Iterator[None]:
    """Make any float that meets a Decimal raise (FloatOperation), for the whole test."""
    context = decimal.getcontext()
    trapped = context.traps[decimal.FloatOperation]
    context.traps[decimal.FloatOperation] = True
    yield
    context.traps[decimal.FloatOperation] = trapped


def test_the_trap_catches_floats(no_floats: None) -> None:
    with pytest.raises(decimal.FloatOperation):
        Decimal(65.0)  # noqa: RUF032 - the float is the point of this test


@pytest.fixture
def at_costs(dialog: Dialog) -> Plan:
    plan = Plan(dialog)
    plan.answer_until("rendement.periode")
    return plan


def texts(plan: Plan, kind: type) -> list[str]:
    return [r.text.replace("\xa0", " ") for r in plan.replies if isinstance(r, kind)]


def test_a_line_is_entered_item_by_item(at_costs: Plan, no_floats: None) -> None:
    plan = at_costs
    plan.send("overslaan")
    assert plan.question.field == "rendement.huidig"
    assert plan.question.part == "regel"
    for text in ("Inzet WIJ", "2", "65", "uur", "2", "per week"):
        plan.send(text)
        assert not plan.errors(), (text, plan.errors())
    assert texts(plan, Message) == [
        "Inzet WIJ: 2 uur per week × € 65,00 per uur = € 130,00 per week → € 6.760,00 per jaar"
    ]
    stored = plan.snapshot.answers["rendement.huidig"]
    assert stored == [
        {
            "omschrijving": "Inzet WIJ",
            "prijs": 6500,
            "eenheid": "uur",
            "aantal": "2",
            "frequentie": "week",
        }
    ]
    for text in ("Begeleiding", "1", "3", "per maand"):
        plan.send(text)
    assert texts(plan, Message) == [
        "Begeleiding: 3 dagen per maand × € 100,00 per dag = € 300,00 per maand "
        "→ € 3.600,00 per jaar"
    ]
    assert "Totaal: € 10.360 per jaar" in plan.question.text.replace("\xa0", " ")


def test_bad_cost_input_is_refused_and_nothing_is_lost(at_costs: Plan) -> None:
    plan = at_costs
    plan.send("0")
    assert "minstens 1" in plan.errors()[0]
    plan.send("1200")
    assert "hoogstens 120" in plan.errors()[0]
    plan.send("4")
    assert plan.snapshot.answers["rendement.periode"] == "4"
    plan.send("12345")
    assert "letters" in plan.errors()[0]
    plan.send("Vervoer naar school")  # no price-list match: straight to the price
    assert plan.question.part == "prijs"
    for bad, reason in (
        ("veertig", "geen bedrag"),
        ("1,2,3", "geen bedrag"),
        ("   ", "leeg"),
        ("-40", "negatief"),
        ("10^12", "geen bedrag"),
        ("20.000.000", "€ 10 miljoen"),
    ):
        plan.send(bad)
        assert reason in plan.errors()[0], bad
        assert plan.question.part == "prijs"
    plan.send("40")
    plan.send("rit")  # a unit that is not in the list: how many make the period?
    assert plan.question.part == "eenheden"
    plan.send("0")
    assert plan.question.part == "aantal"
    plan.send("0")  # a zero line is allowed
    plan.send("per week")
    assert texts(plan, Message)[0].endswith("→ € 0,00 in 4 maanden")
    assert plan.snapshot.answers["rendement.huidig"][0]["aantal"] == "0"
    # a line whose total passes € 10 million is refused at its quantity
    for text in ("Opvang", "2", "9.000.000", "stuk", "2", "eenmalig"):
        plan.send(text)
    assert "10 miljoen" in plan.errors()[0]
    assert plan.question.part == "aantal"
    assert len(plan.snapshot.answers["rendement.huidig"]) == 1


def test_an_ambiguous_price_is_confirmed(at_costs: Plan) -> None:
    plan = at_costs
    plan.send("overslaan")
    plan.send("Vervoer")
    plan.send("1.500")
    assert plan.question.part == "bevestig"
    assert plan.question.text.replace("\xa0", " ") == "Bedoel je € 1.500,00?"
    plan.send("ja")
    assert plan.question.part == "eenheid"


def test_a_line_can_be_corrected_and_removed(at_costs: Plan) -> None:
    plan = at_costs
    plan.send("overslaan")
    for text in ("Inzet WIJ", "2", "65", "uur", "2", "per week"):
        plan.send(text)
    for text in ("Begeleiding", "1", "3", "per maand"):
        plan.send(text)
    plan.send("Regel wijzigen")
    plan.send("1")
    assert plan.question.part == "omschrijving"
    assert plan.question.current == "Inzet WIJ"
    plan.send("overslaan")  # keep the description
    plan.send("overslaan")  # keep the price (price list offered for "wij")
    plan.send("overslaan")  # keep the price
    plan.send("overslaan")  # keep the unit
    assert plan.question.part == "aantal"
    plan.send("3")
    plan.send("per week")
    lines = plan.snapshot.answers["rendement.huidig"]
    assert [entry["aantal"] for entry in lines] == ["3", "3"]
    assert lines[0]["omschrijving"] == "Inzet WIJ"
    assert texts(plan, Message)[0].endswith("→ € 10.140,00 per jaar")
    plan.send("Regel verwijderen")
    plan.send("2. Begeleiding (€\xa03.600)")
    assert [entry["omschrijving"] for entry in plan.snapshot.answers["rendement.huidig"]] == [
        "Inzet WIJ"
    ]
    # the history keeps every version of the list
    assert len([k for k, _ in plan.history if k == "rendement.huidig"]) == 4


def test_terug_within_a_line_and_out_of_the_field(at_costs: Plan) -> None:
    plan = at_costs
    plan.send("overslaan")
    plan.send("Inzet WIJ")
    assert plan.question.part == "prijslijst"
    plan.send("terug")
    assert plan.question.part == "regel"
    plan.send("terug")
    assert plan.question.field == "rendement.periode"


def test_reuse_offers_earlier_lines_for_new_quantities(at_costs: Plan) -> None:
    plan = at_costs
    plan.send("overslaan")
    for text in ("Inzet WIJ", "2", "65", "uur", "2", "per week", "Klaar"):
        plan.send(text)
    assert plan.question.field == "rendement.dreigend"
    assert plan.question.part == "hergebruik"
    plan.send("ja")
    assert plan.question.part == "hergebruik_aantal"
    assert "Inzet WIJ" in plan.question.text
    plan.send("4")
    assert texts(plan, Message)[0].endswith("→ € 13.520,00 per jaar")
    assert plan.question.part == "regel"
    plan.send("Klaar")
    plan.send("Nee, nieuwe posten")
    assert plan.question.part == "regel"
    assert "rendement.doorbraak" not in plan.snapshot.answers
    plan.send("Klaar")  # no costs in this scenario: an empty list, € 0
    assert plan.snapshot.answers["rendement.doorbraak"] == []


def test_stop_in_the_middle_of_a_line_resumes_there(at_costs: Plan, dialog: Dialog) -> None:
    plan = at_costs
    plan.send("overslaan")
    plan.send("Vervoer")
    plan.send("40")
    outcome = dialog.handle(plan.snapshot, __import__("dialogs").Text("stop"))
    assert outcome.stopped
    resumed = dialog.start(plan.snapshot)
    question = resumed.replies[-1]
    assert question.part == "eenheid"
    assert not any(isinstance(r, Error) for r in resumed.replies)


def test_a_price_list_button_is_taken(at_costs: Plan) -> None:
    plan = at_costs
    plan.send("overslaan")
    plan.send("Maatschappelijke opvang")
    assert plan.question.part == "prijslijst"
    assert "\xa0" in plan.question.choices[0]  # the money format's no-break space
    plan.send(Choose(0))
    assert not plan.errors()
    assert plan.question.part == "aantal"
