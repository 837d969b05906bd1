"""Forgiving Dutch input: choices with typos and synonyms, quantities with units, dates."""

from __future__ import annotations

from datetime import date

import pytest

from dialogs import END, Dialog, Done, Error, Interview, Message, PlanStatus, Question, Text
from dialogs.answers import (
    Accepted,
    Refusal,
    parse_choice,
    parse_date_answer,
    parse_multichoice,
    parse_number,
)
from dialogs.spec import Field, Kind, SpecError
from tests.conftest import sample_answer
from tests.unit.test_dialog import Plan

TODAY = date(2026, 12, 2)


def plan_at(dialog: Dialog, key: str) -> Plan:
    """A new plan answered with sample answers up to the question `key`."""
    plan = Plan(dialog)
    plan.answer_until(key)
    return plan


DOMAINS = Field(
    key="d", kind=Kind.MULTICHOICE, text="", choices=("Wonen", "Welzijn", "Werk", "Financieel")
)
PERIOD = Field(key="p", kind=Kind.NUMBER, text="", unit="maanden", min_value="1", max_value="120")
EVALUATION = Field(key="e", kind=Kind.DATE, text="", future=True)


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("bijstand", "Uitkering Participatiewet"),
        ("Bijstand ", "Uitkering Participatiewet"),
        ("uitkering participatiewet", "Uitkering Participatiewet"),
        ("Uitkering Particpatiewet", "Uitkering Participatiewet"),  # a typo
        ("2", "Uitkering Participatiewet"),  # the number in the list shown
        ("WW", "WW-uitkering"),
        ("wajong", "Arbeidsongeschiktheidsuitkering (WIA, Wajong)"),
    ],
)
def test_a_choice_matches_on_number_label_case_typo_and_synonym(
    spec: Interview, typed: str, label: str
) -> None:
    assert parse_choice(spec.field("huishouden.type_inkomen"), typed) == Accepted(label)


def test_synonyms_are_data_in_the_interview(spec: Interview) -> None:
    housing = spec.field("huishouden.huisvesting")
    assert ("sociale huur", "Sociale huurwoning") in housing.synonyms
    assert parse_choice(housing, "sociale huur") == Accepted("Sociale huurwoning")


def test_a_synonym_must_point_to_a_choice() -> None:
    raw_field = {
        "key": "a.b", "type": "choice", "text": "?", "choices": ["Ja", "Nee"],
        "synoniemen": {"misschien": "Soms"},
    }  # fmt: skip
    raw = {"steps": [{"key": "a", "name": "A", "question": "?", "fields": [raw_field]}]}
    with pytest.raises(SpecError, match="not a choice"):
        Interview.from_data(raw, {"messages": {}, "commands": {}})


def test_real_ambiguity_is_asked_back_with_the_candidates() -> None:
    rooms = Field(key="k", kind=Kind.CHOICE, text="", choices=("Kamer A", "Kamer B", "Huis"))
    reading = parse_choice(rooms, "kamer")
    assert isinstance(reading, Refusal)
    assert reading.reason == "keuze_twijfel"
    assert reading.params["keuzes"] == "Kamer A of Kamer B"
    assert parse_choice(rooms, "kamer b") == Accepted("Kamer B")


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("bij vrienden", "Inwonend bij familie of vrienden"),
        ("inwonend", "Inwonend bij familie of vrienden"),
        ("opvang", "Maatschappelijke opvang"),
        ("geen vaste", "Geen vaste woon- of verblijfplaats"),
    ],
)
def test_part_of_a_long_label_picks_it(spec: Interview, typed: str, label: str) -> None:
    assert parse_choice(spec.field("huishouden.huisvesting"), typed) == Accepted(label)


def test_part_of_several_labels_is_asked_back(spec: Interview) -> None:
    reading = parse_choice(spec.field("huishouden.huisvesting"), "huur")
    assert reading == Refusal(
        "keuze_twijfel",
        {"antwoord": "huur", "keuzes": "Sociale huurwoning of Particuliere huurwoning"},
    )
    # A word that is in no label, or only short words, is still no choice.
    reading = parse_choice(spec.field("huishouden.huisvesting"), "bij zijn zus")
    assert isinstance(reading, Refusal) and reading.reason == "geen_keuze"
    assert isinstance(parse_choice(spec.field("huishouden.huisvesting"), "bij of"), Refusal)


def test_far_off_text_and_numbers_out_of_range_are_no_choice() -> None:
    assert isinstance(parse_choice(DOMAINS, "fietsen"), Refusal)
    assert isinstance(parse_choice(DOMAINS, "9"), Refusal)


@pytest.mark.parametrize(
    ("typed", "chosen"),
    [
        ("1;3", ["Wonen", "Werk"]),
        ("wonen; werk", ["Wonen", "Werk"]),
        ("1, 4", ["Wonen", "Financieel"]),
        ("wonnen; financeel", ["Wonen", "Financieel"]),
    ],
)
def test_a_multiple_choice_is_forgiving_too(typed: str, chosen: list[str]) -> None:
    assert parse_multichoice(DOMAINS, typed) == Accepted(chosen)


@pytest.mark.parametrize(
    ("typed", "months"),
    [
        ("6 maanden", "6"),
        ("een jaar", "12"),
        ("anderhalf jaar", "18"),
        ("een half jaar", "6"),
        ("twaalf", "12"),
        ("2,5 jaar", "30"),
        ("1 kwartaal", "3"),
        ("9", "9"),
    ],
)
def test_the_period_takes_a_unit(typed: str, months: str) -> None:
    assert parse_number(PERIOD, typed) == Accepted(months)


def test_a_unit_the_field_is_not_counted_in_is_refused_with_a_reason() -> None:
    reading = parse_number(PERIOD, "2 uur")
    assert reading == Refusal("eenheid_onbekend", {"eenheid": "uur", "in": "maanden"})
    assert parse_number(PERIOD, "11 jaar") == Refusal("getal_te_groot", {"max": "120"})


def test_hours_take_minutes_and_quarters() -> None:
    hours = Field(key="u", kind=Kind.NUMBER, text="", unit="uren")
    assert parse_number(hours, "2 uur") == Accepted("2")
    assert parse_number(hours, "90 minuten") == Accepted("1.5")
    assert parse_number(hours, "anderhalf uur") == Accepted("1.5")


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("1 april", "2027-04-01"),
        ("1-4-27", "2027-04-01"),
        ("over 3 maanden", "2027-03-02"),
        ("over 3 mnd", "2027-03-02"),
        ("over 2 wk", "2026-12-16"),
        ("over een half jaar", "2027-06-02"),
        ("over een jaar", "2027-12-02"),
        ("over 1 jr", "2027-12-02"),
        ("eind januari", "2027-01-31"),
        ("begin maart", "2027-03-01"),
        ("15 maart 2027", "2027-03-15"),
        ("15-03-2027", "2027-03-15"),
        ("morgen", "2026-12-03"),
    ],
)
def test_dutch_dates_are_read_from_an_injected_today(typed: str, iso: str) -> None:
    assert parse_date_answer(EVALUATION, typed, TODAY) == Accepted(iso)


def test_an_evaluation_in_the_past_is_refused_with_a_reason() -> None:
    assert parse_date_answer(EVALUATION, "1-11-2026", TODAY) == Refusal(
        "datum_verleden", {"datum": "01-11-2026"}
    )
    anytime = Field(key="s", kind=Kind.DATE, text="")
    assert parse_date_answer(anytime, "1-11-2026", TODAY) == Accepted("2026-11-01")


@pytest.mark.parametrize("typed", ["binnenkort", "nee", "2027", "3", "31-02-2027"])
def test_text_that_is_no_date_stays_refused(typed: str) -> None:
    assert parse_date_answer(EVALUATION, typed, TODAY) == Refusal("geen_datum")


def test_the_past_date_message_says_why(dialog: Dialog) -> None:
    plan = plan_at(dialog, "actieplan.evaluatie")
    plan.send("1-1-2020")
    assert plan.errors() == [
        "01-01-2020 ligt in het verleden. Een evaluatie plan je vooruit: "
        "kies een datum vanaf vandaag."
    ]
    assert "actieplan.evaluatie" not in plan.snapshot.answers


def test_a_typed_number_where_buttons_are_not_numbered_is_refused_with_a_hint(
    dialog: Dialog,
) -> None:
    plan = plan_at(dialog, "huishouden.relatiestatus")
    plan.send(Text("2", numbered=False))
    assert plan.errors() == [dialog.spec.message("keuze_nummer_zonder_nummers")]
    assert plan.question.field == "huishouden.relatiestatus"
    assert "huishouden.relatiestatus" not in plan.snapshot.answers
    # The label itself is read, and where choices are numbered (terminal) the number is too.
    plan.send(Text("alleenstaande oudr", numbered=False))
    assert plan.snapshot.answers["huishouden.relatiestatus"] == "Alleenstaande ouder"
    plan.send("terug")
    plan.send("2")
    assert plan.snapshot.answers["huishouden.relatiestatus"] == "Alleenstaande ouder"
    assert not [r for r in plan.replies if isinstance(r, Error)]


def test_a_typed_number_is_kept_at_a_question_that_is_no_choice(dialog: Dialog) -> None:
    plan = plan_at(dialog, "rendement.periode")
    plan.send(Text("6", numbered=False))
    assert plan.snapshot.answers["rendement.periode"] == "6"


def test_not_known_yet_keeps_a_required_question_open(dialog: Dialog) -> None:
    plan = plan_at(dialog, "plan.professional")
    plan.send("Weet ik nog niet.")
    assert plan.question.field == "plan.werkgebied"  # moved on
    assert "plan.professional" not in plan.snapshot.answers
    assert plan.snapshot.data["open"] == ["plan.professional"]
    answered, _total, _step = dialog.progress(plan.snapshot)
    assert answered == 1  # only the title: an open point is never counted as filled
    overview = dialog.overview(plan.snapshot.answers, plan.snapshot.data)
    assert "? open, nog niet bekend: Naam professional" in overview
    assert "✗ verplicht, nog open: Naam professional" not in overview


@pytest.mark.parametrize(
    "typed", ["weet ik niet", "nog onbekend", "geen idee!", "weet ik nog neit"]
)
def test_close_variants_count_as_not_known(dialog: Dialog, typed: str) -> None:
    plan = plan_at(dialog, "situatieschets.wat_speelt")
    plan.send(typed)
    assert plan.snapshot.data["open"] == ["situatieschets.wat_speelt"]


def test_an_optional_question_takes_the_words_as_its_answer(dialog: Dialog) -> None:
    plan = plan_at(dialog, "plan.werkgebied")
    plan.send("weet ik nog niet")
    assert plan.snapshot.answers["plan.werkgebied"] == "weet ik nog niet"
    assert "open" not in plan.snapshot.data


def test_a_plan_with_open_points_is_not_complete_until_they_are_answered(
    dialog: Dialog,
) -> None:
    plan = plan_at(dialog, "overzicht.zelf")
    plan.send("weet ik nog niet")
    while any(isinstance(r, Question) for r in plan.replies):
        plan.send(sample_answer(dialog.spec.field(plan.question.field)))
    assert plan.snapshot.state == END
    assert plan.snapshot.status == PlanStatus.OPEN
    assert not [r for r in plan.replies if isinstance(r, Done)]
    texts = [r.text for r in plan.replies if isinstance(r, Message)]
    assert texts[-1].startswith("Het plan is nog niet compleet. Open punten (nog niet bekend): ")
    assert "A. Wat kan het huishouden zelf doen?" in texts[-1]
    # Text at the end repeats the open points instead of calling the plan done.
    plan.send("hallo")
    assert [r.text for r in plan.replies if isinstance(r, Message)] == texts[-1:]
    plan.send("wijzig 3")
    assert plan.question.field == "overzicht.zelf"
    plan.send("Zelf de administratie bijhouden")
    while not any(isinstance(r, Done) for r in plan.replies):
        plan.send("overslaan")
    assert plan.snapshot.status == PlanStatus.FINISHED
    assert plan.snapshot.data["open"] == []
