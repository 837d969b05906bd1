"""Cost entry as data: stage names as stored and published, drafts that resume, the edges."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dialogs import END, Dialog, Message, PlanStatus, Question, Snapshot, Text
from dialogs.costs import Stage
from dialogs.costs.flow import BACK, FORWARD
from dialogs.costs.stages import UNITS
from dialogs.costs.state import RENAMED, CostsState, Draft
from dialogs.costs.step import Unit
from tests.conftest import ROOT, sample_answer
from tests.unit.test_dialog import Plan

FIELD = "rendement.huidig"


def published_parts() -> list[str]:
    """The `part` values docs/protocol.md promises to front ends."""
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `part`"))
    described = row.split("|")[2].split(";")[0]  # `within a `costs` field, ...: `regel` ...`
    return sorted(set(re.findall(r"`([a-z_]+)`", described)) - {"costs"})


def test_the_stage_values_are_the_published_part_names() -> None:
    assert published_parts() == sorted(stage.value for stage in Stage)


def test_every_stage_has_a_unit_and_every_edge_joins_stages() -> None:
    assert set(UNITS) == set(Stage)
    assert all(isinstance(unit, Unit) for unit in UNITS.values())
    for source, dest, _ in (*FORWARD, *BACK):
        assert isinstance(source, Stage) and isinstance(dest, Stage)


def test_a_stage_stored_under_an_old_name_is_read_as_its_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Stage.read("prijs") is Stage.PRICE
    assert Stage.read("verdwenen") is None
    monkeypatch.setitem(RENAMED, "tarief", Stage.PRICE)  # type: ignore[index]
    assert Stage.read("tarief") is Stage.PRICE


def _resume(dialog: Dialog, stored: dict[str, Any], answers: dict[str, Any]) -> Question:
    snapshot = Snapshot(state=FIELD, answers=answers, data={"kosten": stored})
    replies = dialog.start(snapshot).replies
    return [r for r in replies if isinstance(r, Question)][-1]


@pytest.fixture
def answered(dialog: Dialog) -> dict[str, Any]:
    plan = Plan(dialog)
    plan.answer_until(FIELD)
    return dict(plan.snapshot.answers)


# Drafts exactly as stored by the version before the stage enum (plain dicts, today's names).
STORED = [
    ("omschrijving", {"omschrijving": "Inzet WIJ"}, {}),
    ("prijs", {"omschrijving": "Inzet WIJ"}, {}),
    ("eenheid", {"omschrijving": "Inzet WIJ", "prijs": 6500}, {}),
    ("eenheden", {"omschrijving": "Inzet WIJ", "prijs": 6500, "eenheid": "traject"}, {}),
    (
        "aantal",
        {"omschrijving": "Inzet WIJ", "prijs": 6500, "eenheid": "uur", "eenheden": None},
        {},
    ),
    (
        "frequentie",
        {"omschrijving": "Inzet WIJ", "prijs": 6500, "eenheid": "uur", "aantal": "2"},
        {},
    ),
    ("bevestig", {"omschrijving": "Inzet WIJ"}, {"pending": {"stage": "prijs", "value": 150000}}),
]


@pytest.mark.parametrize(("stage", "draft", "extra"), STORED)
def test_a_draft_stored_with_todays_stage_names_resumes_there(
    dialog: Dialog, answered: dict[str, Any], stage: str, draft: dict[str, Any], extra: Any
) -> None:
    stored = {"field": FIELD, "stage": stage, "draft": draft, **extra}
    question = _resume(dialog, stored, answered)
    assert question.field == FIELD
    assert question.part == stage


def test_a_resumed_draft_completes_its_line(dialog: Dialog, answered: dict[str, Any]) -> None:
    draft = {"omschrijving": "Inzet WIJ", "prijs": 6500, "eenheid": "uur", "aantal": "2"}
    stored = {"field": FIELD, "stage": "frequentie", "draft": draft}
    snapshot = Snapshot(state=FIELD, answers=answered, data={"kosten": stored})
    outcome = dialog.handle(snapshot, Text("per week"))
    [(key, lines)] = outcome.answers
    assert key == FIELD
    assert lines == [
        {
            "omschrijving": "Inzet WIJ",
            "prijs": 6500,
            "eenheid": "uur",
            "aantal": "2",
            "frequentie": "week",
        }
    ]
    assert outcome.data["kosten"]["stage"] == "regel"
    assert outcome.data["kosten"]["draft"] == {}


def test_the_typed_state_keeps_the_stored_layout() -> None:
    stored = {
        "field": FIELD,
        "stage": "bevestig",
        "draft": {"omschrijving": "Inzet WIJ", "uit_prijslijst": True, "prijs": 6500},
        "index": 1,
        "queue": [{"omschrijving": "x", "bron": "huidig"}],
        "pending": {"stage": "omschrijving", "value": "Gesprek met [BSN]", "pii": ["bsn"]},
    }
    state = CostsState.from_stored(stored, FIELD)
    assert state is not None
    assert state.stage is Stage.CONFIRM and isinstance(state.draft, Draft)
    assert state.to_stored() == stored
    assert CostsState.from_stored(stored, "rendement.dreigend") is None
    assert CostsState.from_stored({**stored, "stage": "weg"}, FIELD) is None


def test_a_plan_stored_at_the_end_as_klaar_resumes_finished(dialog: Dialog, spec: Any) -> None:
    plan = Plan(dialog)
    while plan.snapshot.state != END:
        plan.send("Klaar" if plan.question.part else _answer(plan))
    stored = Snapshot(state="klaar", status="klaar", answers=plan.snapshot.answers)
    replies = dialog.start(stored).replies
    assert replies == (Message(dialog.finished_message()),)
    assert "5 (Onderbouwen met de waardendriehoek)" in dialog.finished_message()
    assert dialog.start(stored).status == PlanStatus.FINISHED


def _answer(plan: Plan) -> str:
    return sample_answer(plan.dialog.spec.field(plan.question.field))
