"""A shorter conversation: `verder` past the optional rest of a step, several rules each with
their own parts, the words professionals use for domains and laws."""

from __future__ import annotations

import pytest

from bot.formatting import DutchFormatter
from dialogs import Dialog, Interview, Kind, Message, PlanStatus
from dialogs.answers import parse_multichoice
from dialogs.display import field_view
from dialogs.events import Summary
from dialogs.kinds import present, rules
from dialogs.spec import SpecError, _field
from tests.unit.test_dialog import Plan


@pytest.fixture
def plan(dialog: Dialog) -> Plan:
    return Plan(dialog)


def messages(plan: Plan) -> list[str]:
    return [r.text for r in plan.replies if type(r) is Message]


def test_verder_passes_over_the_optional_rest_of_the_step_only(
    plan: Plan, spec: Interview
) -> None:
    plan.send("Een woning voor moeder en twee kinderen")
    plan.send("Sanne Tester")
    assert plan.question.field == "plan.werkgebied"
    assert plan.question.skip_rest and plan.question.mark == "niet_verplicht_rest_kenmerk"
    plan.send("verder")
    # The first required question after it, in the same step: nothing required is passed.
    assert plan.question.field == "situatieschets.wat_speelt"
    assert messages(plan) == [spec.message("rest_overgeslagen", stap=1)]
    step = spec.step_of("plan.werkgebied")
    skipped = set(plan.snapshot.data["overgeslagen"])
    later = [f.key for f in step.fields if f.key != "situatieschets.wat_speelt"]
    assert "huishouden.leeftijden" in skipped and "problemen.persoonlijk" in skipped
    assert not any(spec.field(k).required for k in skipped)
    assert all(k in later for k in skipped)
    # Required questions of the step still come, then the next step starts at its first.
    plan.answer_until("toekomstperspectief.perspectief")
    assert plan.snapshot.answers.keys() >= {
        "situatieschets.domeinen",
        "situatieschets.dreigend_scenario",
    }
    # In the overview they are passed over, to be filled in later with `wijzig 1`.
    plan.send("overzicht")
    assert "overgeslagen" in messages(plan)[0] and "Leeftijd(en)" in messages(plan)[0]


def test_verder_at_a_required_question_keeps_asking_it(plan: Plan, spec: Interview) -> None:
    plan.answer_until("situatieschets.wat_speelt")
    plan.send("verder")
    assert plan.question.field == "situatieschets.wat_speelt"
    assert messages(plan) == [spec.message("rest_overgeslagen", stap=1)]
    assert "situatieschets.netwerk" in plan.snapshot.data["overgeslagen"]


def test_verder_never_passes_over_the_cost_lines(plan: Plan, spec: Interview) -> None:
    plan.answer_until("legitimiteit.toepassing")
    plan.send("verder")
    assert messages(plan) == [spec.message("rest_overgeslagen_kosten", stap=5)]
    plan.answer_until("rendement.huidig")
    assert plan.question.part == "regel"  # asked, not passed over
    assert "rendement.periode" in plan.snapshot.data["overgeslagen"]


def test_verder_is_offered_only_where_it_saves_a_turn(plan: Plan, spec: Interview) -> None:
    plan.answer_until("actieplan.evaluatie_criteria")  # the last question: nothing after it
    assert not plan.question.skip_rest
    assert plan.question.mark == "niet_verplicht_kenmerk"
    plan.send("verder")  # still works: passes over this one
    assert plan.snapshot.status == PlanStatus.FINISHED
    required = Plan(plan.dialog)
    assert not required.question.skip_rest  # a required question offers no skipping
    required.send("verder")
    assert required.question.field == "plan.titel"
    assert messages(required) == [spec.message("rest_overgeslagen", stap=1)]


def test_several_rules_each_with_their_own_parts(plan: Plan, spec: Interview) -> None:
    plan.answer_until("legitimiteit.andere_regels")
    assert plan.question.part == "regel" and plan.question.choices == ("Nee",)
    plan.send("Schuldhulp pas na drie maanden stabiel inkomen")
    assert plan.question.part == "bedoeling"
    assert plan.question.text.startswith("Schuldhulp pas na drie maanden stabiel inkomen: ")
    plan.send("Een traject dat kan slagen")
    assert plan.question.part == "uitzonderingsgronden"
    assert plan.question.help[0] == spec.message("wet_bepalingen")  # the laws at hand
    plan.send("terug")  # back within the rule: its previous part
    assert plan.question.part == "bedoeling"
    plan.send("Voorkomen dat een traject mislukt")
    plan.send("overslaan")  # a part may stay open
    plan.send("Teamleider schuldhulp")
    # Read back in the list of the question that asks for the next rule.
    assert plan.question.part == "regel"
    assert plan.question.text.startswith(
        "Genoteerd:\n1. Schuldhulp pas na drie maanden stabiel inkomen (bedoeling: Voorkomen"
        " dat een traject mislukt; uitzonderingsgronden: —; wie beslist: Teamleider schuldhulp)"
    )
    # A whole rule in one message; only the part not given is asked.
    plan.send("Geen tweede woning via urgentie | Eerlijke verdeling | Hardheidsclausule")
    assert plan.question.part == "wie_beslist"
    plan.send("Wethouder wonen")
    plan.send("Nee")
    assert plan.question.field == "rendement.periode"
    assert plan.snapshot.answers["legitimiteit.andere_regels"] == [
        {
            "regel": "Schuldhulp pas na drie maanden stabiel inkomen",
            "bedoeling": "Voorkomen dat een traject mislukt",
            "uitzonderingsgronden": "",
            "wie_beslist": "Teamleider schuldhulp",
        },
        {
            "regel": "Geen tweede woning via urgentie",
            "bedoeling": "Eerlijke verdeling",
            "uitzonderingsgronden": "Hardheidsclausule",
            "wie_beslist": "Wethouder wonen",
        },
    ]


def test_a_rule_with_personal_data_is_refused_and_nothing_stored(plan: Plan) -> None:
    plan.answer_until("legitimiteit.andere_regels")
    plan.send("Regel voor mevrouw, bel 06-12345678")
    assert plan.errors() and plan.question.part == "regel"
    assert "legitimiteit.andere_regels" not in plan.snapshot.answers
    assert "groep" not in plan.snapshot.data


def test_rules_show_as_a_table_and_old_free_text_still_shows(spec: Interview) -> None:
    field = spec.field("legitimiteit.andere_regels")
    stored = [{"regel": "R", "bedoeling": "B", "uitzonderingsgronden": "", "wie_beslist": "W"}]
    assert rules(Kind.GROUP).check(stored) and rules(Kind.GROUP).check("oude tekst")
    assert not rules(Kind.GROUP).check([["R", "B"]]) and not rules(Kind.GROUP).check([{}])
    fmt = DutchFormatter()
    view = field_view(field, stored, fmt)
    assert view.columns == ("Regel", "Bedoeling", "Uitzonderingsgronden", "Wie beslist")
    assert view.rows == (("R", "B", "", "W"),)
    old = field_view(field, "Een regel uit een plan van vóór de groep", fmt)
    assert old.text == "Een regel uit een plan van vóór de groep" and old.layout == "text"
    shown = "R (bedoeling: B; uitzonderingsgronden: —; wie beslist: W)"
    assert present(field, stored, fmt) == shown


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("wonen, inkomen, schulden", ["Wonen", "Financieel"]),
        ("school; zorg", ["Welzijn", "Opleiding"]),
        ("huisvesting", ["Wonen"]),
        ("wonen en financieel", ["Wonen", "Financieel"]),
        ("wonen/werk", ["Wonen", "Werk"]),
        ("wonen + zorg", ["Wonen", "Welzijn"]),
    ],
)
def test_domains_in_the_words_professionals_use(
    spec: Interview, typed: str, stored: list[str]
) -> None:
    for key in ("situatieschets.domeinen", "problemen.domeinen"):
        assert parse_multichoice(spec.field(key), typed).value == stored  # type: ignore[union-attr]


def test_laws_by_their_short_names_and_an_unknown_law_points_to_anders(
    plan: Plan, spec: Interview
) -> None:
    field = spec.field("legitimiteit.wetten")
    assert parse_multichoice(field, "bijstand, zvw").value == [  # type: ignore[union-attr]
        "Participatiewet",
        "Zorgverzekeringswet",
    ]
    plan.answer_until("legitimiteit.wetten")
    # More than three laws: which to leave out is the professional's choice.
    plan.send("huisvestingswet, participatiewet, wmo, woningwet")
    assert plan.errors() == [
        spec.message("geen_keuze_anders", antwoord="huisvestingswet", anders="Anders, namelijk")
    ]
    plan.send("anders, participatiewet")
    assert plan.question.field == "legitimiteit.wetten_anders"


@pytest.mark.parametrize("typed", ["pw, woningwet", "pw en woningwet", "woningwet & pw"])
def test_a_short_name_beside_a_long_one_is_not_dropped(spec: Interview, typed: str) -> None:
    # `woningwet` alone would match; `pw` must count too, not be read as a little word.
    field = spec.field("legitimiteit.wetten")
    assert parse_multichoice(field, typed).value == [  # type: ignore[union-attr]
        "Participatiewet",
        "Woningwet",
    ]


def test_a_law_not_in_the_list_is_noted_under_anders_in_one_turn(plan: Plan) -> None:
    plan.answer_until("legitimiteit.wetten")
    plan.send("huisvestingswet, pw")
    answers = plan.snapshot.answers
    assert answers["legitimiteit.wetten"] == ["Participatiewet", "Anders, namelijk"]
    assert answers["legitimiteit.wetten_anders"] == "Huisvestingswet"
    said = [r.text for r in plan.replies if type(r) is Message]
    assert said == ["Genoteerd bij 'Anders, namelijk': Huisvestingswet."]
    # The question "Anders, namelijk" opens is answered: the next one is asked.
    assert plan.question.field == "legitimiteit.toepassing"


def test_a_name_with_personal_data_is_not_noted_under_anders(plan: Plan, spec: Interview) -> None:
    plan.answer_until("legitimiteit.wetten")
    plan.send("pw, bel 06-12345678")
    assert plan.errors() == [
        spec.message("geen_keuze_anders", antwoord="bel 06-12345678", anders="Anders, namelijk")
    ]
    assert "legitimiteit.wetten_anders" not in plan.snapshot.answers


def test_a_multiple_choice_without_a_real_maximum_does_not_say_hoogstens(plan: Plan) -> None:
    plan.answer_until("problemen.domeinen")
    assert not plan.question.limited  # five options, no maximum
    plan.answer_until("legitimiteit.wetten")
    assert plan.question.limited  # at most three of seven


def test_zelfde_takes_over_the_earlier_answer(plan: Plan) -> None:
    plan.answer_until("betrokkenheid.zelf_doen")
    plan.send("zelfde")
    assert (
        plan.snapshot.answers["betrokkenheid.zelf_doen"] == plan.snapshot.answers["overzicht.zelf"]
    )


def test_a_group_needs_its_columns_and_parts() -> None:
    with pytest.raises(SpecError, match="group"):
        _field({"key": "x.y", "type": "group", "text": "?", "columns": ["A", "B"]}, "f")
    assert _field(
        {"key": "x.y", "type": "group", "text": "?", "columns": ["A", "B"], "parts": ["B?"]}, "f"
    ).parts == ("B?",)


def test_a_rule_typed_wrongly_is_taken_out_and_typed_again(plan: Plan) -> None:
    plan.answer_until("legitimiteit.andere_regels")
    assert plan.question.choices == ("Nee",)  # nothing to take out yet
    plan.send("Een verkeerde regel | b | u | w")
    assert plan.question.choices == ("Nee", "Laatste weghalen")
    plan.send("Laatste weghalen")
    assert plan.snapshot.answers["legitimiteit.andere_regels"] is None  # cleared
    assert plan.question.choices == ("Nee",) and not plan.question.text.startswith("Genoteerd")
    plan.send("De goede regel | bedoeling | uitzondering | wethouder")
    plan.send("Nee")
    assert plan.snapshot.answers["legitimiteit.andere_regels"] == [
        {
            "regel": "De goede regel",
            "bedoeling": "bedoeling",
            "uitzonderingsgronden": "uitzondering",
            "wie_beslist": "wethouder",
        }
    ]


def test_verder_at_a_cost_question_passes_over_the_rest_but_asks_the_costs(
    plan: Plan, spec: Interview
) -> None:
    plan.answer_until("rendement.huidig")
    plan.send("verder")
    assert messages(plan) == [spec.message("rest_overgeslagen_kosten", stap=5)]
    assert plan.question.field == "rendement.huidig"  # the cost lines are still asked here
    assert "waardendriehoek.weging" in plan.snapshot.data["overgeslagen"]
    assert "rendement.huidig" not in plan.snapshot.data["overgeslagen"]


def test_the_waardendriehoek_is_sent_when_verder_passed_over_the_weging(plan: Plan) -> None:
    plan.answer_until("rendement.huidig")
    plan.send("verder")
    plan.answer_until("betrokkenheid.zelf_doen")
    plan.send("Overnemen")  # the last question asked in step 5: the weging was passed over
    assert plan.question.field.startswith("actieplan.")
    sent = [r for r in plan.replies if isinstance(r, Summary)]
    assert sent == [Summary("waardendriehoek")]  # the step's result, once
    plan.answer_until("actieplan.evaluatie_criteria")
    assert not [r for r in plan.replies if isinstance(r, Summary)]


def test_verder_while_editing_a_step_ends_the_edit_at_the_first_open_question(
    plan: Plan,
) -> None:
    plan.send("Een titel")
    plan.send("Sanne Tester")
    plan.send("verder")  # the optional rest of step 1 passed over
    plan.answer_until("toekomstperspectief.perspectief")
    plan.send("wijzig 1")
    assert plan.question.field == "plan.titel"
    plan.send("Een andere titel")
    plan.send("verder")  # at plan.professional, answered: asked again while editing
    assert plan.question.field == "toekomstperspectief.perspectief"
    assert plan.snapshot.answers["plan.titel"] == "Een andere titel"
