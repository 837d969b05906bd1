"""The escalatieladder through the real `doorbraakbot chat --jsonl` process, its clock set by
DOORBRAAK_TEST_NOW: an overdue action's proposal comes once (not again after a restart),
`opschalen` and `uitkomst` work, and `export --format json` holds the escalations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.bootstrap import App
from tests.e2e.test_opvolging_run import app as app
from tests.e2e.test_opvolging_run import cli
from tests.support.plans import finish

# Monday 22 March 2027: the plan's first actions are fourteen days late.
LATE = "2027-03-22T10:00:00+01:00"


def proposals(turn: list[dict[str, Any]]) -> list[str]:
    return [i["text"] for i in turn if i["type"] == "message" and i["text"].startswith("⚠️")]


def test_the_ladder_in_the_jsonl_process(app: App, tmp_path: Path, jsonl: Any) -> None:
    finish(app)
    process = jsonl("3012", DOORBRAAK_TEST_NOW=LATE)
    assert len(proposals(process.opening)) == 1
    assert "Opschalen naar Teamleider?" in proposals(process.opening)[0]
    turn = process.send("opschalen de aanvraag ligt al weken stil")
    assert turn[0]["text"].startswith("Opgeschaald naar Teamleider (")
    assert turn[-1]["field"] == "plan_af"
    process.send("stop")

    again = jsonl("3012", DOORBRAAK_TEST_NOW=LATE)
    assert proposals(again.opening) == []
    turn = again.send("uitkomst niet opgelost")
    assert [i["text"] for i in turn[:2]] == [
        "Uitkomst vastgelegd: Niet opgelost.",
        "Volgende trede: Doorbraakteam (het Doorbraakteam van de gemeente, met professionals"
        " uit alle domeinen; beslist over: overnemen van de casus, en afwijken van"
        " protocollen, procedures en processen).",
    ]
    again.send("stop")

    exported = cli(tmp_path, "export", "3012", "--format", "json", "-o", "-")
    assert exported.returncode == 0, exported.stderr
    [escalation] = json.loads(exported.stdout)["escalations"]
    assert escalation["state"] == "opgeschaald"
    assert escalation["reason"] == "de aanvraag ligt al weken stil"
    assert escalation["outcome"] == "niet"
    assert escalation["cause"] == "te_laat"
