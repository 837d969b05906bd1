"""A cost line typed in one message: the parser over many forms, and the flow around it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dialogs import Dialog, Error, Interview, Message
from dialogs.costs.oneline import OneLine, parse_line
from tests.unit.test_dialog import Plan
from tests.unit.test_rendement import texts

FIELD = "rendement.huidig"


def parsed(spec: Interview, text: str) -> OneLine:
    line = parse_line(text, spec.costs)
    assert line is not None, text
    return line


def parts(line: OneLine) -> tuple[object, ...]:
    return (
        line.omschrijving,
        None if line.aantal is None else line.aantal.value,
        line.eenheid,
        line.frequentie,
        None if line.prijs is None else line.prijs.value,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Inzet generalist wijkteam: 2 uur per week à € 65",
            ("Inzet generalist wijkteam", 2, "uur", "week", 65),
        ),
        ("Verblijf opvang: 182 dagen à € 100", ("Verblijf opvang", 182, "dag", "eenmalig", 100)),
        ("Begeleiding: 3 uren per maand x 80", ("Begeleiding", 3, "uur", "maand", 80)),
        ("Begeleiding: 3 uur per maand × €80,-", ("Begeleiding", 3, "uur", "maand", 80)),
        ("Huur: 12 maanden @ 650,50", ("Huur", 12, "maand", "eenmalig", Decimal("650.50"))),
        (
            "Pleegzorg: 1,5 jaar tegen € 7000",
            ("Pleegzorg", Decimal("1.5"), "jaar", "eenmalig", 7000),
        ),
        ("Consult: 2 consulten per maand a 95", ("Consult", 2, "consult", "maand", 95)),
        ("Zorg: 4 weken de hele periode à 10", ("Zorg", 4, "week", "periode", 10)),
        ("Training: 1 traject eenmalig à 2.500,00", ("Training", 1, "traject", "eenmalig", 2500)),
        (
            "Toeslag: 1 huishouden per jaar à € 2.100,00",
            ("Toeslag", 1, "huishouden", "jaar", 2100),
        ),
        ("Taxi: 10 ritten à € 12,50", ("Taxi", 10, "ritten", "eenmalig", Decimal("12.5"))),
        ("Opvang: 30 dagen à € 100 per dag", ("Opvang", 30, "dag", "eenmalig", 100)),
        ("Opvang: 30 à € 100 per dag", ("Opvang", 30, "dag", "eenmalig", 100)),
        # a description with a colon or digits of its own
        ("Zorg: begeleiding: 2 uur x 65", ("Zorg: begeleiding", 2, "uur", "eenmalig", 65)),
        ("Jeugdhulp 2026: 3 trajecten à 5000", ("Jeugdhulp 2026", 3, "traject", "eenmalig", 5000)),
        ("Inzet 2 medewerkers : 2 uur à 65", ("Inzet 2 medewerkers", 2, "uur", "eenmalig", 65)),
        ("Box:2 uur x 65", ("Box", 2, "uur", "eenmalig", 65)),
        # typed in a hurry: no `:`, abbreviations, `euro` after the amount
        ("wijkteam 3 uur p/w a 70 euro", ("wijkteam", 3, "uur", "week", 70)),
        ("Inzet GGZ 2e lijn 4 uur per week à 100", ("Inzet GGZ 2e lijn", 4, "uur", "week", 100)),
        ("budgetbeheer 1 traject a € 1.250,-", ("budgetbeheer", 1, "traject", "eenmalig", 1250)),
        ("opvang 2 dagen/mnd x 120", ("opvang", 2, "dag", "maand", 120)),
        ("huisarts 6 consulten jaarlijks à 35", ("huisarts", 6, "consult", "jaar", 35)),
        ("Inzet wijkteam: 2 uur/week à 65", ("Inzet wijkteam", 2, "uur", "week", 65)),
        ("schuldhulp traject 1x a 1.250,-", ("schuldhulp traject", 1, "keer", "eenmalig", 1250)),
        ("Bewind: 2 keer à 300", ("Bewind", 2, "keer", "eenmalig", 300)),
        ("opvang gezin 6 mnd a 3000 p/m", ("opvang gezin", 6, "maand", "eenmalig", 3000)),
        ("begeleiding 2 u p/w à 65/u", ("begeleiding", 2, "uur", "week", 65)),
        ("Koken a la carte 2 uur a 40", ("Koken a la carte", 2, "uur", "eenmalig", 40)),
        ("Saneringskrediet eenmalig a 6000", ("Saneringskrediet", 1, "keer", "eenmalig", 6000)),
        ("Bewind: eenmalig à € 300", ("Bewind", 1, "keer", "eenmalig", 300)),
        # parts missing: left None, to be asked
        ("Inzet wijkteam: 2 uur per week", ("Inzet wijkteam", 2, "uur", "week", None)),
        ("Inzet wijkteam: à € 65 per uur", ("Inzet wijkteam", None, "uur", None, 65)),
        ("Inzet wijkteam: 2 à € 65", ("Inzet wijkteam", 2, None, None, 65)),
    ],
)
def test_a_line_in_one_message(spec: Interview, text: str, expected: tuple[object, ...]) -> None:
    line = parsed(spec, text)
    assert parts(line) == expected
    assert line.problems == ()


@pytest.mark.parametrize(
    "text",
    [
        "Inzet wijkteam",
        "Afspraak om 9:30 uur",
        "Inzet: wijkteam",
        "Vervoer: taxi à la carte",
        "",
        "Jeugdhulp 2 kinderen",
        "Toezicht 24/7 a 300",
        "3 uur a 70",
        "Inzet wijkteam 2 uur a la carte",
    ],
)
def test_a_plain_description_is_no_line(spec: Interview, text: str) -> None:
    assert parse_line(text, spec.costs) is None


def test_doubtful_readings_are_flagged_for_the_confirmation(spec: Interview) -> None:
    line = parsed(spec, "Opvang: 1.500 stuks à 1.500")
    assert line.aantal is not None and line.aantal.ambiguous and line.aantal.value == 1500
    assert line.prijs is not None and line.prijs.ambiguous and line.prijs.value == 1500


@pytest.mark.parametrize(
    ("text", "problem", "missing"),
    [
        ("Opvang: -2 dagen à 100", "getal_negatief", "aantal"),
        ("Opvang: 2 dagen à -100", "bedrag_negatief", "prijs"),
        ("Opvang: 2 dagen à € 20.000.000", "bedrag_te_hoog", "prijs"),
        ("Opvang: 2 dagen à 10,0055", "bedrag_te_precies", "prijs"),
        ("Opvang: 2 dagen à tien euro", "bedrag_onleesbaar", "prijs"),
        ("Opvang: 2000000 dagen à 1", "getal_te_groot", "aantal"),
        ("Opvang: 2 d#gen à 100", "kosten_eenheid_onleesbaar", "eenheid"),
    ],
)
def test_unreadable_parts_are_named_and_left_out(
    spec: Interview, text: str, problem: str, missing: str
) -> None:
    line = parsed(spec, text)
    assert problem in line.problems
    assert getattr(line, missing) is None


# --- the flow ---------------------------------------------------------------------------


@pytest.fixture
def at_lines(dialog: Dialog) -> Plan:
    plan = Plan(dialog)
    plan.answer_until("rendement.periode")
    plan.send("overslaan")  # a year
    assert plan.question.part == "regel"
    return plan


def test_a_whole_line_is_stored_and_read_back(at_lines: Plan) -> None:
    plan = at_lines
    plan.send("Inzet generalist wijkteam: 2 uur per week à € 65")
    assert plan.question.part == "regel"
    assert texts(plan, Message) == [
        "Inzet generalist wijkteam: 2 uur per week × € 65,00 per uur = € 130,00 per week"
        " → € 6.760,00 per jaar"
    ]
    assert plan.snapshot.answers[FIELD] == [
        {
            "omschrijving": "Inzet generalist wijkteam",
            "prijs": 6500,
            "eenheid": "uur",
            "aantal": "2",
            "frequentie": "week",
        }
    ]


@pytest.mark.parametrize(
    ("line", "asked", "answer", "cents"),
    [
        ("Vervoer naar school: 40 stuks per maand", "prijs", "€ 12,50", 1250),  # missing
        ("Vervoer: 2 stuks per maand à 1.500", "bevestig", "ja", 150000),  # doubtful
    ],
)
def test_only_a_missing_or_doubtful_part_is_asked(
    at_lines: Plan, line: str, asked: str, answer: str, cents: int
) -> None:
    at_lines.send(line)
    assert at_lines.question.part == asked
    at_lines.send(answer)
    assert at_lines.question.part == "regel"
    assert at_lines.snapshot.answers[FIELD][0]["prijs"] == cents
    assert texts(at_lines, Message)[0].startswith(line.partition(":")[0])


def test_an_unreadable_part_is_named_and_asked(at_lines: Plan) -> None:
    plan = at_lines
    plan.send("Vervoer: -2 stuks per maand à 15")
    assert texts(plan, Error) == ["Een negatief getal kan hier niet."]
    assert plan.question.part == "aantal"
    plan.send("2")  # the frequency typed with it is kept
    assert plan.question.part == "regel"
    assert plan.snapshot.answers[FIELD][0]["aantal"] == "2"
    assert plan.snapshot.answers[FIELD][0]["frequentie"] == "maand"


def test_a_line_over_ten_million_is_refused(at_lines: Plan) -> None:
    plan = at_lines
    plan.send("Opvang: 200 dagen per week à € 9.000,00")
    assert "boven € 10 miljoen" in texts(plan, Error)[0]
    assert plan.question.part == "aantal"
    assert FIELD not in plan.snapshot.answers or plan.snapshot.answers[FIELD] == []


def test_a_plain_description_keeps_the_step_by_step_way(at_lines: Plan) -> None:
    plan = at_lines
    plan.send("Vervoer")
    assert plan.question.part == "prijs"


def test_one_part_of_a_line_is_changed_in_one_question(at_lines: Plan) -> None:
    plan = at_lines
    plan.send("Vervoer: 2 stuks per maand à 15")
    for change in ("à € 20", "3"):  # only the price, then only the quantity
        for answer in ("Regel wijzigen", "1"):
            plan.send(answer)
        assert plan.question.part == "omschrijving"
        assert not plan.question.required  # 'overslaan' keeps the description
        plan.send(change)
        assert plan.question.part == "regel"
    assert plan.snapshot.answers[FIELD][0]["prijs"] == 2000
    assert plan.snapshot.answers[FIELD][0]["aantal"] == "3"
    assert texts(plan, Message) == [
        "Vervoer: 3 stuks per maand × € 20,00 per stuk = € 60,00 per maand → € 720,00 per jaar"
    ]


def test_reuse_asks_one_question_a_line(at_lines: Plan) -> None:
    plan = at_lines
    for line in (
        "Inzet wijkteam: 2 uur per week à 65",
        "Opvang: 182 dagen à 100",
        "Vervoer: 2 stuks per maand à 15",
        "Huur: 12 maanden à 650",
        "Toeslag: 1 huishouden per jaar à 2100",
    ):
        plan.send(line)
    plan.send("Klaar")
    plan.send("Ja, overnemen")
    assert plan.question.part == "hergebruik_aantal"
    assert plan.question.choices == ("Zelfde", "0", "Weglaten")
    assert "'overslaan'" not in plan.question.text and plan.question.required
    plan.send("Zelfde")
    plan.send("Weglaten")
    plan.send("0")
    plan.send("à € 700")  # only the price
    plan.send("3")  # a typed quantity, not the third choice
    assert plan.question.part == "regel"
    lines = plan.snapshot.answers["rendement.dreigend"]
    assert [(x["omschrijving"], x["aantal"], x["prijs"]) for x in lines] == [
        ("Inzet wijkteam", "2", 6500),
        ("Vervoer", "0", 1500),
        ("Huur", "12", 70000),
        ("Toeslag", "3", 210000),
    ]
    # a yearly line over a year is not said twice
    assert texts(plan, Message)[0] == (
        "Toeslag: 3 huishoudens per jaar × € 2.100,00 per huishouden = € 6.300,00 per jaar"
    )


@pytest.mark.parametrize("text", ["klopt", "Ja", "nee"])
def test_a_yes_or_no_is_no_cost_item(at_lines: Plan, text: str) -> None:
    plan = at_lines
    plan.send(text)
    # Refused with what to type instead; nothing is stored, the same question again.
    assert texts(plan, Error) == [
        "Dat is geen kostenpost. Typ een kostenpost (bijvoorbeeld 'Inzet wijkteam: 2 uur per"
        " week à € 65'), of kies 'Klaar' als er in de huidige situatie geen kosten (meer) zijn."
    ]
    assert plan.question.part == "regel"
    assert not plan.snapshot.answers.get(FIELD)


def test_klaar_in_the_middle_of_a_line_leaves_it_unsaved(at_lines: Plan) -> None:
    plan = at_lines
    plan.send("Inzet wijkteam: 2 uur per week à € 65")
    plan.send("Opvang bij een vriendin")  # a description only: the price is asked next
    assert plan.question.part != "regel"
    plan.send("Klaar")
    assert texts(plan, Message) == [
        "De kostenpost 'Opvang bij een vriendin' was nog niet af en is niet bewaard."
    ]
    assert plan.question.part == "regel"  # the list again; the first line is kept
    assert [line["omschrijving"] for line in plan.snapshot.answers[FIELD]] == ["Inzet wijkteam"]
    plan.send("Klaar")
    assert plan.question.field != FIELD


def test_a_whole_line_typed_at_a_part_question_replaces_the_unfinished_one(
    at_lines: Plan,
) -> None:
    plan = at_lines
    plan.send("Saneringskrediet")  # a description only: a part is asked next
    assert plan.question.part != "regel"
    plan.send("budgetbeheer 12 mnd a 150 p/m")  # the professional moved on
    assert texts(plan, Message) == [
        "De kostenpost 'Saneringskrediet' was nog niet af en is niet bewaard.",
        "budgetbeheer: 12 maanden × € 150,00 per maand = € 1.800,00 per jaar",
    ]
    assert plan.question.part == "regel"
    assert [line["omschrijving"] for line in plan.snapshot.answers[FIELD]] == ["budgetbeheer"]


def test_eenmalig_without_a_quantity_is_once(at_lines: Plan) -> None:
    plan = at_lines
    plan.send("Saneringskrediet eenmalig a 6000")
    assert plan.question.part == "regel"
    assert plan.snapshot.answers[FIELD] == [
        {
            "omschrijving": "Saneringskrediet",
            "prijs": 600000,
            "eenheid": "keer",
            "aantal": "1",
            "frequentie": "eenmalig",
        }
    ]
