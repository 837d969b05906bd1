"""The Eveline case of the book, entered item by item through the JSON-lines protocol."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.render import EVELINE_COSTS
from dialogs import Interview
from tests.conftest import ROOT, env_for, last_question, sample_answer

# Part II, "De waarde rendement": the Eveline case as a professional types it (bench/render).


def plain(text: str) -> str:
    return text.replace("\xa0", " ")


# The same cost table typed the new way: a line in one message, one question a line taken over.
EVELINE_IN_ONE = [
    "Klaar",
    "Maatschappelijke opvang: 182 dagen à € 100",
    "Schuldhulpverlening: 1 jaar à € 1.500,00",
    "Jeugdbescherming: 3 interventies x 5400",
    "Pleegzorgplaats: 1,5 jaar @ € 7.000,00",
    "Ondertoezichtstelling: 1,5 jaar tegen 7500",
    "Klaar",
    "Ja, overnemen", "Weglaten", "Zelfde", "Weglaten", "Weglaten", "Weglaten",
    "Huurtoeslag: 1 huishouden per jaar à € 2.100,00",
    "Klaar",
]  # fmt: skip


def run_eveline(
    jsonl: Any, spec: Interview, costs: list[str] = EVELINE_COSTS
) -> tuple[Any, list[dict[str, Any]]]:
    process = jsonl("3012")
    turn = process.opening
    seen: list[dict[str, Any]] = list(turn)
    while last_question(turn)["field"] != "rendement.periode":
        turn = process.send(sample_answer(spec.field(last_question(turn)["field"])))
        seen += turn
    turn = process.send("overslaan")  # the default period: a year
    for text in costs:
        assert last_question(turn)["part"], text  # a cost sub-question is asked
        turn = process.send(text)
        seen += turn
        assert not [t for t in turn if t["type"] == "error"], (text, turn)
    # every cost field is done after exactly these turns: none asked more
    assert not last_question(turn)["part"], turn
    while turn[-1]["type"] != "done":
        turn = process.send(sample_answer(spec.field(last_question(turn)["field"])))
        seen += turn
    return process, seen


@pytest.mark.parametrize("costs", [EVELINE_COSTS, EVELINE_IN_ONE], ids=["step_by_step", "in_one"])
def test_eveline_totals_and_comparisons(
    jsonl: Any, spec: Interview, tmp_path: Path, costs: list[str]
) -> None:
    process, seen = run_eveline(jsonl, spec, costs)
    # The turns of the Eveline cost table (issue 13): 33 step by step, 15 in one message each.
    assert len(costs) == (15 if costs is EVELINE_IN_ONE else 33)
    messages = [plain(t["text"]) for t in seen if t["type"] == "message"]
    # each line is confirmed in the canvas's words
    assert (
        "Maatschappelijke opvang: 182 dagen × € 100,00 per dag = € 18.200,00 per jaar" in messages
    )
    # a yearly line over a year says its total once (not `€ 2.100,00 per jaar → € 2.100,00 ...`)
    assert (
        "Huurtoeslag: 1 huishouden per jaar × € 2.100,00 per huishouden = € 2.100,00 per jaar"
        in messages
    )
    # the waardendriehoek is sent just before the weging is asked
    triangle = next(m for m in messages if m.startswith("Waardendriehoek"))
    assert "- De huidige situatie: € 0" in triangle
    assert "- Het dreigende scenario: € 57.650" in triangle
    assert "- Het doorbraakscenario: € 3.600" in triangle
    assert "- Directe kosten: € 3.600" in triangle
    assert "- Reële baten: € 54.050" in triangle
    # the summary document
    document = next(t for t in seen if t["type"] == "document")
    summary = plain(document["text"])
    assert "| De huidige situatie | € 0 |" in summary
    assert "| Het dreigende scenario | € 57.650 |" in summary
    assert "| Het doorbraakscenario | € 3.600 |" in summary
    assert "**Directe kosten: € 3.600**" in summary
    assert "**Reële baten: € 54.050**" in summary
    assert "| Pleegzorgplaats | 1,5 | € 7.000,00 | jaar | € 10.500 |" in summary
    assert process.close() == 0

    # the JSON export holds the same figures as exact decimals
    exported = subprocess.run(
        [sys.executable, "-m", "bot.cli", "export", "3012", "--format", "json", "-o", "-"],
        capture_output=True,
        text=True,
        env=env_for(tmp_path),
        cwd=ROOT,
        check=True,
    )
    figures = json.loads(exported.stdout)["rendement"]
    assert figures == {
        "periode_maanden": "12",
        "huidig": "0.00",
        "dreigend": "57650.00",
        "doorbraak": "3600.00",
        "directe_kosten": "3600.00",
        "reele_baten": "54050.00",
    }
