"""DOORBRAAK_PROMPTS_DIR: a copy of the shipped interview with added questions, no code change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import prompts
from dialogs import Interview
from tests.e2e.protocol import (
    REQUIRED,
    Driver,
    assert_refused,
    field_block,
    kinds,
    question_of,
    stored_history,
    stored_plan,
)

ADDED = """\
      - key: huishouden.aantal_kinderen
        label: Aantal kinderen
        type: number
        text: Hoeveel kinderen wonen er in het huishouden?
        min: 0
        max_value: 20
        required: true
      - key: huishouden.sinds
        label: Woont hier sinds
        type: date
        text: Sinds wanneer woont het huishouden op dit adres?
"""
ANCHOR = "      - key: huishouden.relatiestatus\n"


def prompts_dir(tmp_path: Path) -> Path:
    """A prompts folder whose interview.yaml is the shipped one plus two questions in step 1."""
    shipped = (prompts.PACKAGE_DIR / "interview.yaml").read_text(encoding="utf-8")
    assert shipped.count(ANCHOR) == 1
    folder = tmp_path / "prompts"
    folder.mkdir(parents=True)
    (folder / "interview.yaml").write_text(
        shipped.replace(ANCHOR, ADDED + ANCHOR), encoding="utf-8"
    )
    return folder


def test_added_questions_are_asked_in_their_place(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    folder = prompts_dir(tmp_path / "gemeente")
    data_dir = tmp_path  # the jsonl fixture's data directory
    driver = Driver(jsonl("3012", DOORBRAAK_PROMPTS_DIR=str(folder)))
    assert question_of(driver.opening)["field"] == "plan.titel"
    driver.send("Plan met extra vragen")
    driver.send("Professional C")
    driver.send("overslaan")
    driver.send("overslaan")
    turn = driver.send("moeder 34; kinderen 12 en 9")

    # the added number question comes right after the leeftijden, as in the YAML
    question = question_of(turn)
    assert question["field"] == "huishouden.aantal_kinderen"
    assert question["kind"] == "number"
    assert question["text"] == "Hoeveel kinderen wonen er in het huishouden?"
    assert (question["step"], question["steps"], question["step_name"]) == (
        1,
        6,
        "Situatieschets",
    )
    assert question["required"] is True
    field = "huishouden.aantal_kinderen"
    assert_refused(driver.send("-1"), "Een negatief getal kan hier niet.", field)
    assert_refused(
        # `twee` is read as 2 since issue 13 (numbers typed as words)
        driver.send("veel"),
        "Dat is geen getal. Typ alleen cijfers, bijvoorbeeld 3 of 2,5.",
        field,
    )
    assert_refused(driver.send("25"), "Het getal mag hoogstens 20 zijn.", field)
    assert_refused(driver.send("overslaan"), REQUIRED, field)
    assert stored_history(data_dir, field) == []

    turn = driver.send("2")
    assert question_of(turn)["field"] == "huishouden.sinds"
    assert question_of(turn)["kind"] == "date"
    assert_refused(
        driver.send("binnenkort"),  # `vorig jaar` is a date since issue 13
        (
            "Dat is geen datum die ik ken. Typ een datum als 15-03-2027, 15 maart 2027, "
            "1 april of over 3 maanden."
        ),
        "huishouden.sinds",
    )
    turn = driver.send("1 april 2024")
    assert question_of(turn)["field"] == "huishouden.relatiestatus"  # the shipped order resumes
    turn = driver.send("terug")
    assert (turn[0]["field"], turn[0]["current"]) == ("huishouden.sinds", "1 april 2024")

    turn = driver.send("overzicht")
    assert "Stap 1. Situatieschets: 5 van 30 ingevuld" in turn[0]["text"].splitlines()

    turn = driver.send("plan")
    assert kinds(turn) == ["document", "question"]
    markdown = turn[0]["text"]
    with_added = prompts.load_interview(folder)
    assert "**Aantal kinderen**  \n2\n" in field_block(
        with_added, markdown, "huishouden.aantal_kinderen"
    )
    assert "**Woont hier sinds**  \n1 april 2024\n" in field_block(
        with_added, markdown, "huishouden.sinds"
    )

    assert driver.stop() == 0
    answers = stored_plan(data_dir).answers
    assert answers["huishouden.aantal_kinderen"] == "2"
    assert answers["huishouden.sinds"] == "2024-04-01"
    # the shipped interview is untouched
    assert not spec.has_field("huishouden.aantal_kinderen")
