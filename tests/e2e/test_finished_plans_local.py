"""A finished plan opened again from the terminal or over JSON-lines: look at it, change it, or
start a new plan after a confirmation; archived plans listed and exported. Real processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dialogs import Interview
from tests.e2e.protocol import Driver, doorbraakbot, kinds, question_of, stored_plan, walk

CHOICE = "Het plan van huishouden 3012 is af. Wat wil je doen?"
CHOICES = ["Bekijken (overzicht en documenten)", "Een stap wijzigen", "Een nieuw plan beginnen"]


def finish(jsonl: Any, spec: Interview) -> dict[str, str]:
    """A finished plan for household 3012; the answers given."""
    given: dict[str, str] = {}
    driver = Driver(jsonl("3012"))
    seen = walk(driver, spec, driver.opening, given)
    assert kinds(seen[-3:]) == ["message", "document", "done"]
    assert driver.close() == 0
    return given


def test_reopening_a_finished_plan_offers_a_choice_and_changes_nothing(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    given = finish(jsonl, spec)
    before = stored_plan(tmp_path, "3012")

    driver = Driver(jsonl("3012"))
    offer = question_of(driver.opening)
    assert (offer["field"], offer["text"], offer["choices"]) == ("plan_af", CHOICE, CHOICES)
    assert offer["step"] == 0  # a question about the plan, in no step of it

    # A choice that is not one is refused, and asked again.
    turn = driver.send("misschien")
    assert kinds(turn) == ["error", "question"]
    assert turn[1]["field"] == "plan_af"

    # Looking at it (typed in a hurry): the overview and the document, then the choice again.
    turn = driver.send("Bekjken")
    assert kinds(turn) == ["message", "document", "question"]
    assert turn[0]["text"].startswith("Overzicht van het plan:")
    assert given["plan.titel"] in turn[1]["text"]
    assert turn[1]["path"] is None  # shown, not written anywhere
    assert turn[2]["field"] == "plan_af"

    # A new plan asks first; "nee" keeps the plan as it is.
    confirm = question_of(driver.send("3"))
    assert confirm["field"] == "plan_af_nieuw"
    assert "wordt gearchiveerd" in confirm["text"]
    turn = driver.send("nee")
    assert turn[0]["text"] == "Het plan blijft zoals het is."
    assert question_of(turn)["field"] == "plan_af"
    assert driver.stop() == 0

    after = stored_plan(tmp_path, "3012")
    assert (after.id, after.status, after.revision) == (before.id, "klaar", before.revision)
    assert after.answers == before.answers


def test_change_opens_the_finished_plan_for_wijzig(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    finish(jsonl, spec)
    before = stored_plan(tmp_path, "3012")
    driver = Driver(jsonl("3012"))
    turn = driver.send("2")
    assert turn[-1]["text"].startswith("Het plan is af. Iets wijzigen? Typ het nummer")
    assert [t["text"] for t in turn].count(turn[-1]["text"]) == 1  # said once
    question = question_of(driver.send("4"))
    assert question["step"] == 4
    assert question_of(driver.send("wijzig 5"))["step"] == 5  # the command works as well
    assert driver.stop() == 0
    assert stored_plan(tmp_path, "3012").id == before.id


def test_a_new_plan_after_yes_archives_the_old_one_which_can_be_listed_and_exported(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    given = finish(jsonl, spec)
    old = stored_plan(tmp_path, "3012")

    driver = Driver(jsonl("3012"))
    driver.send("Een nieuw plan beginnen")
    turn = driver.send("ja")
    assert turn[0]["text"] == "Nieuw doorbraakplan voor huishouden 3012."
    assert question_of(turn)["field"] == "plan.titel"
    assert question_of(driver.send("Tweede plan")) is not None
    assert driver.stop() == 0

    new = stored_plan(tmp_path, "3012")
    assert new.id != old.id and new.answers == {"plan.titel": "Tweede plan"}

    listed = doorbraakbot(tmp_path, "archief", "3012")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "Gearchiveerde plannen van huishouden 3012, nieuwste eerst:"
    assert lines[1].startswith("  1. bijgewerkt ")
    assert len(lines) == 3  # one plan, and how to look at it

    archived = ("export", "3012", "--archief", "1", "--format", "md", "-o", "-")
    exported = doorbraakbot(tmp_path, *archived)
    assert exported.returncode == 0, exported.stderr
    assert given["plan.titel"] in exported.stdout
    assert "Tweede plan" not in exported.stdout

    missing = doorbraakbot(tmp_path, "export", "3012", "--archief", "2", "--format", "md")
    assert missing.returncode == 1
    assert "geen gearchiveerd plan nummer 2" in missing.stderr

    none = doorbraakbot(tmp_path, "archief", "4040")
    assert none.stdout == "Huishouden 4040 heeft geen gearchiveerde plannen.\n"


def test_the_terminal_shows_the_choice_without_a_step(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    finish(jsonl, spec)
    result = doorbraakbot(tmp_path, "chat", "--household", "3012", stdin="stop\n")
    assert result.returncode == 0, result.stderr
    numbered = "".join(f"  {n}. {label}\n" for n, label in enumerate(CHOICES, 1))
    assert f"\n{CHOICE}\n{numbered}" in result.stdout
    assert "[Stap" not in result.stdout
    assert "(verplicht)" not in result.stdout
