"""The interview through `doorbraakbot chat --jsonl`: a real subprocess on a real SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dialogs import Field, Interview, Kind
from dialogs.groups import part_name
from tests.conftest import sample_answer
from tests.e2e.protocol import (
    REQUIRED,
    Driver,
    assert_document_shows,
    assert_refused,
    kinds,
    md,
    plain,
    question_of,
    stored_history,
    stored_plan,
    walk,
)


def applicable_keys(spec: Interview) -> list[str]:
    """The fields asked when every answer is a sample answer: no condition then holds but the
    one on empty cost tables (the walk adds no cost lines, so the reason for none is asked)."""
    return [f.key for f in spec.fields if asked_in_walk(f)]


def asked_in_walk(field: Field) -> bool:
    return field.when is None or bool(field.when.empty)


def overview_lines(spec: Interview, filled: dict[int, int]) -> list[str]:
    lines = []
    for step in spec.steps:
        total = sum(1 for f in step.fields if asked_in_walk(f))
        count = filled.get(step.number, 0)
        lines.append(f"Stap {step.number}. {step.name}: {count} van {total} ingevuld")
    return lines


def read_document(turn: list[dict[str, Any]]) -> str:
    documents = [item for item in turn if item["type"] == "document"]
    assert len(documents) == 1, turn
    assert documents[0]["format"] == "md"
    assert documents[0]["path"] is None  # shown, not written: no --document
    text: str = documents[0]["text"]
    return text


def test_full_interview_ends_with_a_document_holding_every_answer(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    driver = Driver(jsonl("3012"))
    given: dict[str, str] = {}
    seen = list(driver.opening) + walk(driver, spec, driver.opening, given)

    # the end: the closing message, the document, done
    assert kinds(seen[-3:]) == ["message", "document", "done"]
    # its last line: the plan's doorbraak and rules go to the team's reflectiesessie
    complete, sharing = seen[-3]["text"].split("\n")
    assert complete == "Het doorbraakplan is compleet. Hieronder het hele plan."
    assert sharing == spec.message("delen_klaar")
    assert "error" not in kinds(seen)

    # every applicable question was asked once, in the order of the interview
    questions = [item for item in seen if item["type"] == "question"]
    asked = list(dict.fromkeys(q["field"] for q in questions))
    assert asked == applicable_keys(spec)
    for q in questions:
        spec_field = spec.field(q["field"])
        step = spec.step_of(q["field"])
        assert (q["step"], q["steps"], q["step_name"]) == (step.number, 6, step.name), q
        if q["part"] and spec_field.kind is Kind.GROUP:  # asked part by part, or whole
            assert q["part"] in [part_name(c) for c in spec_field.columns], q
            continue
        if q["part"]:  # a sub-question of a costs field (one cost line at a time)
            assert spec_field.kind is Kind.COSTS, q
            continue
        assert q["kind"] == spec_field.kind.value
        assert q["text"] == spec_field.text
        assert q["required"] is spec_field.required, q["field"]
        # a question that builds on an earlier answer offers to take it over
        offered = ["Overnemen"] if spec_field.earlier else list(spec_field.choices)
        assert q["choices"] == offered
        assert q["max"] == spec_field.max
        assert q["current"] is None
        if step.fields[0].key == q["field"]:
            assert q["intro"].startswith(step.question), q
        else:
            assert q["intro"] == ""

    # the document: every answer under its step's heading, in the right form
    markdown = read_document(seen[-2:-1])
    assert not (tmp_path / "exports").exists()
    assert markdown.startswith(f"# {md(given['plan.titel'])}\n")
    assert "Huishoudnummer: 3012" in markdown
    assert [line for line in markdown.splitlines() if line.startswith("## ")] == [
        f"## Stap {s.number}. {s.name}" for s in spec.steps
    ]
    assert_document_shows(spec, markdown, given)
    # spot checks of the formatting, independent of the helper
    assert "**Inkomen per maand**  \n€ 1.052,32\n" in plain(markdown)
    assert "**Eerste evaluatie**  \n15 maart 2037\n" in markdown
    assert "**Relatiestatus**  \nAlleenstaande ouder\n" in markdown
    assert "**Domeinen**  \n\n- Wonen\n- Welzijn\n" in markdown
    assert "Antwoord over huishouden type\\_huisvesting ✓ café" in markdown

    # stored as typed, and the plan is finished
    plan = stored_plan(tmp_path)
    assert plan.status == "klaar"
    assert set(plan.answers) == set(given)
    assert plan.answers["huishouden.inkomen"] == 105232
    assert plan.answers["actieplan.evaluatie"] == "2037-03-15"

    # the process keeps reading after `done`: `plan` writes the document again
    turn = driver.send("plan", until=("message",))
    assert kinds(turn) == ["document", "message"]
    assert read_document(turn) == markdown
    assert driver.close() == 0


def test_sigkill_in_step_3_loses_nothing_and_resumes_at_the_next_question(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    first = Driver(jsonl("3012"))
    given: dict[str, str] = {}
    seen = walk(first, spec, first.opening, given, until="overzicht.zelf")
    assert question_of(seen)["step"] == 3
    turn = first.send(sample_answer(spec.field("overzicht.zelf")))
    given["overzicht.zelf"] = sample_answer(spec.field("overzicht.zelf"))
    assert question_of(turn)["field"] == "overzicht.ondersteuning"

    assert first.kill() == -9  # SIGKILL: no chance to clean up

    second = Driver(jsonl("3012"))
    assert kinds(second.opening) == ["question"]
    opening = second.opening[0]
    assert opening["field"] == "overzicht.ondersteuning"
    assert (opening["step"], opening["step_name"], opening["current"]) == (3, "Overzicht", None)

    turn = second.send("overzicht")
    assert kinds(turn) == ["message", "question"]
    assert turn[1]["field"] == "overzicht.ondersteuning"
    lines = turn[0]["text"].splitlines()
    for line in overview_lines(spec, {1: 28, 2: 3, 3: 1}):
        assert line in lines

    # each answer was stored exactly once, before the kill
    history = stored_history(tmp_path)
    assert [(a.field, a.value) for a in history] == [
        (key, stored_plan(tmp_path).answers[key]) for key in given
    ]

    seen = walk(second, spec, turn, given)
    assert kinds(seen[-3:]) == ["message", "document", "done"]
    assert_document_shows(spec, read_document(seen[-3:]), given)


def test_terug_goes_back_showing_the_answer_and_forward_again(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    driver = Driver(jsonl("3012"))
    assert question_of(driver.opening)["field"] == "plan.titel"
    assert_refused(
        driver.send("terug"), "Dit is de eerste vraag; verder terug kan niet.", "plan.titel"
    )
    assert_refused(
        driver.send("overslaan"),
        REQUIRED,
        "plan.titel",
    )
    driver.send("Plan voor huishouden A")
    driver.send("Professional A")
    assert question_of(driver.send("Werkgebied Noord"))["field"] == "plan.praktijkverbinder"

    turn = driver.send("terug")
    assert kinds(turn) == ["question"]
    assert (turn[0]["field"], turn[0]["current"]) == ("plan.werkgebied", "Werkgebied Noord")
    turn = driver.send("vorige")  # the synonym
    assert (turn[0]["field"], turn[0]["current"]) == ("plan.professional", "Professional A")
    # answering again goes forward to where we were, past the answered werkgebied
    assert question_of(driver.send("Professional B"))["field"] == "plan.praktijkverbinder"

    # an optional question can be passed over, without an error
    turn = driver.send("overslaan")
    assert kinds(turn) == ["question"]
    assert turn[0]["field"] == "huishouden.leeftijden"
    # an answered required question can be passed over too: the answer stays
    for _ in range(3):
        turn = driver.send("terug")
    assert (turn[0]["field"], turn[0]["current"]) == ("plan.professional", "Professional B")
    assert question_of(driver.send("overslaan"))["field"] == "huishouden.leeftijden"

    assert driver.stop() == 0
    plan = stored_plan(tmp_path)
    assert plan.answers == {
        "plan.titel": "Plan voor huishouden A",
        "plan.professional": "Professional B",
        "plan.werkgebied": "Werkgebied Noord",
    }
    assert plan.state == "huishouden.leeftijden"
    history = stored_history(tmp_path, "plan.professional")
    assert [a.value for a in history] == ["Professional A", "Professional B"]


def test_overzicht_and_wijzig_edit_a_step_and_return(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    driver = Driver(jsonl("3012"))
    given: dict[str, str] = {}
    seen = walk(driver, spec, driver.opening, given, until="doorbraak.doorbraak")

    turn = driver.send("overzicht")
    assert kinds(turn) == ["message", "question"]
    assert turn[1] == question_of(seen)  # the same question, unchanged
    lines = turn[0]["text"].splitlines()
    assert lines[0] == "Overzicht van het plan:"
    for line in overview_lines(spec, {1: 28, 2: 3, 3: 3}):
        assert line in lines

    # wijzig 2: step 2's first question, showing the stored answer
    turn = driver.send("wijzig 2")
    assert kinds(turn) == ["question"]
    assert turn[0]["field"] == "toekomstperspectief.perspectief"
    assert turn[0]["intro"].startswith("Waar wil iemand zelf naartoe?")
    turn = driver.send("overslaan")  # keep it
    question = question_of(turn)
    assert question["field"] == "toekomstperspectief.korte_termijn"
    assert question["current"] == (
        "eerste toekomstperspectief korte_termijn; tweede toekomstperspectief korte_termijn"
    )
    turn = driver.send("Een vaste woning; Schulden in beeld")
    assert question_of(turn)["field"] == "toekomstperspectief.lange_termijn"
    assert question_of(turn)["current"] is not None
    # leaving the last answer of step 2 as it is returns to the first open question
    assert question_of(driver.send("overslaan"))["field"] == "doorbraak.doorbraak"

    # the summary shows the new answer; the history keeps the old one
    turn = driver.send("plan")
    assert kinds(turn) == ["document", "question"]
    assert turn[1]["field"] == "doorbraak.doorbraak"
    markdown = read_document(turn)
    given["toekomstperspectief.korte_termijn"] = "Een vaste woning; Schulden in beeld"
    assert_document_shows(spec, markdown, given)
    assert "eerste toekomstperspectief korte" not in markdown
    history = stored_history(tmp_path, "toekomstperspectief.korte_termijn")
    assert [a.value for a in history] == [
        ["eerste toekomstperspectief korte_termijn", "tweede toekomstperspectief korte_termijn"],
        ["Een vaste woning", "Schulden in beeld"],
    ]
    assert len(stored_history(tmp_path, "toekomstperspectief.lange_termijn")) == 1

    # once everything is answered, editing a step ends in the finished plan again
    seen = walk(driver, spec, turn, given)
    assert kinds(seen[-3:]) == ["message", "document", "done"]
    turn = driver.send("wijzig 3")
    assert question_of(turn)["field"] == "overzicht.zelf"
    assert question_of(turn)["current"] == given["overzicht.zelf"]
    driver.send("Zelf de post openen")
    driver.send("overslaan")
    turn = driver.send("overslaan")
    assert kinds(turn) == ["message", "document", "done"]
    given["overzicht.zelf"] = "Zelf de post openen"
    assert_document_shows(spec, read_document(turn), given)
    assert stored_plan(tmp_path).status == "klaar"


def test_wijzig_to_a_later_step_returns_to_the_first_unanswered_question(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    driver = Driver(jsonl("3012"))
    driver.send("Plan voor huishouden B")
    assert question_of(driver.send("Professional B"))["field"] == "plan.werkgebied"

    assert question_of(driver.send("wijzig 2"))["field"] == "toekomstperspectief.perspectief"
    driver.send("Een eigen huis en werk")
    driver.send("Een vaste woning")
    turn = driver.send("Werk vinden")
    # step 2 is done; the first question still unanswered is step 1's werkgebied
    assert question_of(turn)["field"] == "plan.werkgebied", turn
