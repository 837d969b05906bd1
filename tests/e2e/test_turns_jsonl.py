"""A whole plan in few turns: seven cost lines in each of the three scenarios, typed one line
per message, through the real `chat --jsonl` process; the same plan step by step still works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dialogs import Interview
from tests.conftest import last_question, sample_answer
from tests.e2e.protocol import stored_plan

# Most turns a professional may need for this plan (issue 13: half of the 110 it took).
MOST_TURNS = 60

# (omschrijving, aantal, eenheid, frequentie, prijs): typed as one message, or part by part.
LINES = {
    "huidig": [
        ("Inzet generalist wijkteam", "2", "uur", "per week", "65"),
        ("Schuldhulp", "12", "maanden", "", "125"),
        ("Ambulante jeugdhulp", "4", "uur", "per week", "85"),
        ("Huisartsconsult", "6", "consulten", "", "35"),
        ("Vervoer naar school", "40", "stuks", "per maand", "12,50"),
        ("Voedselbank", "52", "pakketten", "", "25"),
        ("Bijzondere bijstand", "1", "traject", "eenmalig", "1.250"),
    ],
    "dreigend": [
        ("Gezinskamer in de opvang", "182", "dagen", "", "100"),
        ("Uithuisplaatsing twee kinderen", "6", "maanden", "", "5.200"),
        ("Inzet jeugdbescherming", "3", "uur", "per week", "95"),
        ("Schuldsanering", "1", "traject", "eenmalig", "3.500"),
        ("Crisisdienst GGZ", "2", "interventies", "", "750"),
        ("Ontruimingskosten", "1", "interventie", "eenmalig", "2.400"),
        ("Leerlingenvervoer", "40", "stuks", "per maand", "12,50"),
    ],
    "doorbraak": [
        ("Huur sociale woning", "12", "maanden", "", "650"),
        ("Inzet generalist wijkteam", "1", "uur", "per week", "65"),
        ("Schuldhulp", "12", "maanden", "", "125"),
        ("Verhuiskosten", "1", "traject", "eenmalig", "1.800"),
        ("Inrichting woning", "1", "traject", "eenmalig", "2.500"),
        ("Ambulante jeugdhulp", "2", "uur", "per week", "85"),
        ("Huurtoeslag", "12", "maanden", "", "310"),
    ],
}


def one_message(line: tuple[str, str, str, str, str]) -> str:
    what, quantity, unit, frequency, price = line
    return " ".join(p for p in (f"{what}:", quantity, unit, frequency, "à", f"€ {price}") if p)


class Plan:
    """Answers a real process the way a hurried professional does, counting the turns."""

    def __init__(self, jsonl: Any, household: str, spec: Interview) -> None:
        self.process = jsonl(household)
        self.spec = spec
        self.turn: list[dict[str, Any]] = self.process.opening
        self.turns = 0

    def send(self, text: str) -> list[dict[str, Any]]:
        self.turns += 1
        self.turn = self.process.send(text)
        errors = [item["text"] for item in self.turn if item["type"] == "error"]
        assert not errors, (text, errors)
        return self.turn

    def finish(self, costs: Any) -> None:
        while self.turn[-1]["type"] != "done":
            question = last_question(self.turn)
            field = self.spec.field(question["field"])
            if field.scenario:
                costs(self, field.scenario)
            elif field.required:
                self.send(sample_answer(field))
            else:
                # Past the optional rest of the step where offered, else this one question.
                self.send("verder" if question["skip_rest"] else "overslaan")
            assert self.turns <= 200, "the interview does not end"


def typed_the_new_way(plan: Plan, scenario: str) -> None:
    if last_question(plan.turn)["part"] == "hergebruik":
        plan.send("Nee, nieuwe posten")
    for line in LINES[scenario]:
        plan.send(one_message(line))
        assert last_question(plan.turn)["part"] == "regel", line
    plan.send("Klaar")


def typed_part_by_part(plan: Plan, scenario: str) -> None:
    if last_question(plan.turn)["part"] == "hergebruik":
        plan.send("Nee, nieuwe posten")
    for what, quantity, unit, frequency, price in LINES[scenario]:
        plan.send(what)
        answers = {
            "prijslijst": "Ander bedrag",
            "prijs": price,
            "eenheid": unit,
            "eenheden": "12",
            "aantal": quantity,
            "frequentie": frequency or "eenmalig in de periode",
            "bevestig": "Ja",
        }
        while (part := last_question(plan.turn)["part"]) != "regel":
            plan.send(answers[part])
    plan.send("Klaar")


def test_a_plan_with_seven_lines_per_scenario_takes_at_most_60_turns(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    new = Plan(jsonl, "3012", spec)
    new.finish(typed_the_new_way)
    assert new.turns <= MOST_TURNS, f"{new.turns} turns"
    assert [i["type"] for i in new.turn[-3:]] == ["message", "document", "done"]
    assert new.process.close() == 0

    old = Plan(jsonl, "3013", spec)
    old.finish(typed_part_by_part)
    assert old.process.close() == 0
    assert old.turns > new.turns + 2 * 21  # every line took at least three more turns

    quick, slow = stored_plan(tmp_path, "3012"), stored_plan(tmp_path, "3013")
    for scenario in ("huidig", "dreigend", "doorbraak"):
        key = f"rendement.{scenario}"
        assert len(quick.answers[key]) == 7
        # Step by step also asks how many of a free unit (pakketten) make the period; the
        # line's total does not use it when the quantity is given for the whole period.
        assert [without_period(line) for line in quick.answers[key]] == [
            without_period(line) for line in slow.answers[key]
        ], scenario


def without_period(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k != "per_periode"}


def test_verder_and_a_second_rule_over_json_lines(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    plan = Plan(jsonl, "3012", spec)
    plan.send("Een woning voor moeder en twee kinderen")
    plan.send("Tester")
    question = last_question(plan.turn)
    assert question["field"] == "plan.werkgebied" and question["skip_rest"] is True
    plan.send("verder")
    assert [i["text"] for i in plan.turn if i["type"] == "message"] == [
        spec.message("rest_overgeslagen", stap=1)
    ]
    assert last_question(plan.turn)["field"] == "situatieschets.wat_speelt"
    while last_question(plan.turn)["field"] != "legitimiteit.andere_regels":
        plan.send(sample_answer(spec.field(last_question(plan.turn)["field"])))
    question = last_question(plan.turn)
    assert (question["kind"], question["part"], question["choices"]) == ("group", "regel", ["Nee"])
    # A rule typed wrongly is taken out (the field is cleared when it was the only one).
    plan.send("Een verkeerde regel | b | u | w")
    plan.send("Laatste weghalen")
    assert last_question(plan.turn)["choices"] == ["Nee"]
    plan.send("Geen urgentie zonder eigen woning | Eerlijke verdeling van woningen")
    question = last_question(plan.turn)
    assert (question["kind"], question["part"]) == ("text", "uitzonderingsgronden")
    assert question["text"].startswith("Geen urgentie zonder eigen woning: ")
    plan.send("Hardheidsclausule")
    plan.send("Wethouder wonen")
    assert last_question(plan.turn)["text"].startswith(
        "Genoteerd:\n1. Geen urgentie zonder eigen woning (bedoeling: Eerlijke verdeling van"
        " woningen; uitzonderingsgronden: Hardheidsclausule; wie beslist: Wethouder wonen)"
    )
    # A second rule typed wrongly is taken out again; the first stays.
    plan.send("Een verkeerde regel | b | u | w")
    assert last_question(plan.turn)["choices"] == ["Nee", "Laatste weghalen"]
    plan.send("Laatste weghalen")
    plan.send("Nee")
    assert last_question(plan.turn)["field"] == "rendement.periode"
    assert plan.process.close() == 0
    stored = stored_plan(tmp_path, "3012")
    assert stored.answers["legitimiteit.andere_regels"] == [
        {
            "regel": "Geen urgentie zonder eigen woning",
            "bedoeling": "Eerlijke verdeling van woningen",
            "uitzonderingsgronden": "Hardheidsclausule",
            "wie_beslist": "Wethouder wonen",
        }
    ]
    assert "huishouden.leeftijden" in stored.data["overgeslagen"]
