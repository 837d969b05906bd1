"""Forgiving Dutch input through the JSON-lines protocol, in the real process."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dialogs import Interview
from tests.conftest import sample_answer
from tests.e2e.protocol import Driver, assert_refused, kinds, question_of, stored_plan, walk


def test_synonyms_typos_units_amounts_and_dates_are_taken(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    driver, given = driver_at(jsonl, spec, "huishouden.relatiestatus")
    answers = {
        "huishouden.relatiestatus": ("getrouwd", "Gehuwd of geregistreerd partnerschap"),
        "huishouden.huisvesting": ("sociale huur", "Sociale huurwoning"),
    }
    for key, (typed, stored) in answers.items():
        assert question_of(driver.send(typed))["field"] != key
        assert stored_plan(tmp_path).answers[key] == stored
    turn = driver.send("overslaan")  # type_huisvesting
    assert question_of(turn)["field"] == "huishouden.inkomen"
    # A euro sign and `,-` make the Dutch reading certain: stored without asking back.
    turn = driver.send("€ 1.250,-")
    assert kinds(turn) == ["question"]
    assert question_of(turn)["field"] == "huishouden.type_inkomen"
    assert stored_plan(tmp_path).answers["huishouden.inkomen"] == 125000
    turn = driver.send("bijstnd")  # a typo in a synonym
    assert stored_plan(tmp_path).answers["huishouden.type_inkomen"] == "Uitkering Participatiewet"

    walk(driver, spec, turn, given, until="situatieschets.domeinen")
    turn = driver.send("wonen; financeel")
    assert stored_plan(tmp_path).answers["situatieschets.domeinen"] == ["Wonen", "Financieel"]

    walk(driver, spec, turn, given, until="rendement.periode")
    turn = driver.send("2 uur")
    assert kinds(turn) == ["error", "question"]
    assert "maanden" in turn[0]["text"]
    turn = driver.send("anderhalf jaar")
    assert stored_plan(tmp_path).answers["rendement.periode"] == "18"

    walk(driver, spec, turn, given, until="actieplan.evaluatie")
    assert_refused(
        driver.send("1-1-2020"),
        "01-01-2020 ligt in het verleden. Een evaluatie plan je vooruit: "
        "kies een datum vanaf vandaag.",
        "actieplan.evaluatie",
    )
    turn = driver.send("over 3 maanden")
    assert "error" not in kinds(turn)
    stored = date.fromisoformat(stored_plan(tmp_path).answers["actieplan.evaluatie"])
    assert date.today() + timedelta(days=85) <= stored <= date.today() + timedelta(days=95)


def test_not_known_yet_is_an_open_point_in_the_overview_and_the_document(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    driver, _ = driver_at(jsonl, spec, "plan.professional")
    turn = driver.send("weet ik nog niet")
    assert kinds(turn) == ["message", "question"]
    assert question_of(turn)["field"] == "plan.werkgebied"
    record = stored_plan(tmp_path)
    assert "plan.professional" not in record.answers
    assert record.data["open"] == ["plan.professional"]

    overview = driver.send("overzicht")[0]["text"]
    assert "Stap 1. Situatieschets: 1 van" in overview
    assert "? open, nog niet bekend: Naam professional" in overview

    turn = driver.send("overslaan")
    while "question" in kinds(turn):
        question = question_of(turn)
        turn = driver.send(sample_answer(spec.field(question["field"])))
    # The end: the plan as it is, and the open points; not finished, no `done`.
    assert kinds(turn) == ["document", "message"]
    markdown = turn[0]["text"]
    assert "**Naam professional**  \n*open: nog niet bekend*\n" in markdown
    assert turn[1]["text"] == (
        "Het plan is nog niet compleet. Open punten (nog niet bekend): Naam professional. "
        "Vul ze in met 'wijzig <stap>'."
    )
    assert stored_plan(tmp_path).status == "open"


def driver_at(jsonl: Any, spec: Interview, key: str) -> tuple[Driver, dict[str, str]]:
    """A new plan in the real process, answered with sample answers up to the question `key`."""
    driver = Driver(jsonl("3012"))
    given: dict[str, str] = {}
    walk(driver, spec, driver.opening, given, until=key)
    return driver, given
