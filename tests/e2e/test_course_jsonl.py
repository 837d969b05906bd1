"""The plan's course through the JSON-lines protocol (a real `doorbraakbot chat --jsonl`
process, its clock at DOORBRAAK_TEST_NOW): made -> klaar -> ingediend -> toegekend with a
budget claim -> uitgevoerd; then `doorbraakbot budget` exact, and the export's course."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.bootstrap import App
from tests.e2e.test_opvolging_run import HOUSEHOLD, T0, cli, finish
from tests.e2e.test_opvolging_run import app as app

NOW = {"DOORBRAAK_TEST_NOW": T0.isoformat()}


def messages(turn: list[dict[str, Any]]) -> list[str]:
    return [item["text"] for item in turn if item["type"] in ("message", "error")]


def test_submitted_granted_carried_out_and_the_budget(
    app: App, tmp_path: Path, jsonl: Any
) -> None:
    plan_id = finish(app, user_id=None)
    process = jsonl(HOUSEHOLD, **NOW)
    turn = process.send("indienen")
    assert messages(turn)[0].startswith("Ingediend bij Doorbraakteam op 1 maart 2027.")
    # The finished plan's question comes back after each course command.
    assert turn[-1]["type"] == "question" and turn[-1]["field"] == "plan_af"
    assert messages(process.send("besluit toegekend € 2.500,75"))[0].endswith(
        "Uit het doorbraakbudget: €\xa02.500,75."
    )
    assert "Het plan is nu: toegekend" in messages(process.send("indienen"))[0]
    for action in app.actions.of_plan(plan_id):
        app.actions.done(action.id, actor="terminal:tester")
    shown = messages(process.send("verloop"))
    assert shown[0].splitlines()[:2] == [
        "Verloop van het plan: toegekend",
        "  1 maart 2027: ingediend bij Doorbraakteam",
    ]
    assert shown[1].startswith("Alle acties zijn gedaan.")
    assert messages(process.send("uitgevoerd")) == ["Het plan staat op uitgevoerd (1 maart 2027)."]
    assert process.send("stop")[-1]["type"] == "done"
    assert process.close() == 0

    budget = cli(tmp_path, "budget", "--jsonl")
    assert budget.returncode == 0, budget.stderr
    lines = [json.loads(line) for line in budget.stdout.splitlines()]
    assert lines[1] == {
        "type": "budget",
        "team": "Doorbraakteam",
        "from": "2027-01-01",
        "to": "2027-12-31",
        "budget": "50000",
        "granted": "2500.75",
        "spent": "2500.75",
        "left": "47499.25",
    }
    exported = cli(tmp_path, "export", HOUSEHOLD, "--format", "json", "-o", "-")
    course = json.loads(exported.stdout)["course"]
    assert [step["stage"] for step in course["steps"]] == ["ingediend", "toegekend", "uitgevoerd"]
    assert course["claims"][0]["amount"] == "2500.75"


def test_a_rejection_through_the_protocol(app: App, jsonl: Any) -> None:
    finish(app, user_id=None)
    process = jsonl(HOUSEHOLD, **NOW)
    assert messages(process.send("besluit afgewezen"))[0].startswith(
        "Een besluit leg je vast als het plan is ingediend."
    )
    process.send("indienen")
    [decided] = messages(process.send("besluit afgewezen"))
    # Who recorded it: the professional named in the plan, not the terminal's actor id.
    assert decided == (
        "Besluit vastgelegd: afgewezen, 1 maart 2027, door Antwoord over plan professional ✓ café."
    )
    assert "Het plan is nu: afgewezen" in messages(process.send("uitgevoerd"))[0]
    # `besluit` followed by anything but an outcome is an answer, not a command.
    turn = process.send("besluit")
    assert messages(turn)[0].startswith("Typ het besluit:")
