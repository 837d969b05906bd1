"""Issue 15 end to end in Telegram, through a real Application and the Bot API stand-in, with
an injected clock: a plan is made, submitted, granted with a budget claim, reminded,
escalated once and evaluated twice; `doorbraakbot export --format json` holds all of it, and
`doorbraakbot import` into a database of its own (a backup under the same key) gives the
same export again."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from bot import cli
from bot.bootstrap import bootstrap
from bot.clock import FixedClock
from bot.config import Settings
from bot.reminders import Reminders
from dialogs.status import Stage
from storage.facts import PlanFactsRow
from tests.conftest import ROOT
from tests.support.botapi import Call
from tests.support.evaluation import finish_with_costs
from tests.support.harness import Harness, texts

# Monday 1 March 2027, 09:00 in Amsterdam. The sample actieplan's `binnen een week` is
# Monday 8 March; fourteen days later (escalatieladder.dagen_te_laat) is Monday 22 March.
T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
DUE = datetime(2027, 3, 8, 8, 5, tzinfo=UTC)
OVERDUE = datetime(2027, 3, 22, 8, 5, tzinfo=UTC)
AFTER_3 = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
AFTER_12 = datetime(2028, 3, 1, 8, 0, tzinfo=UTC)
OWNER, TEAM_MEMBER = 1001, 3001
SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def harness_clock() -> FixedClock:
    return FixedClock(T0)


def to(calls: list[Call], chat_id: int, method: str = "sendMessage") -> list[Call]:
    return [c for c in calls if c.method == method and c.params.get("chat_id") == chat_id]


def labels(call: Call) -> dict[str, str]:
    markup = call.params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


async def evaluate(bot: Harness, calls: list[Call], realised: str) -> list[Call]:
    """Answer an evaluation that has just asked its first question, typed as on a phone."""
    assert "Is de doorbraak gerealiseerd?" in texts(calls)[-1]
    for answer in (realised, "overslaan", "Er is meer rust in huis", "Ja", "Weet niet", "Ja"):
        await bot.say(answer)
    return await bot.say("Klopt")


async def test_made_submitted_granted_reminded_escalated_evaluated_twice_and_exported(
    bot: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, clock = bot.app, bot.app.clock
    assert isinstance(clock, FixedClock)
    assert app.access.register(app.access.invite("Doorbraakteam"), TEAM_MEMBER) is not None
    reminders = Reminders(app, bot.front.kit)

    # Made, and submitted: the team member gets the PDF and the decision buttons.
    plan_id = finish_with_costs(app)
    calls = await bot.say("/indienen 3012", user_id=OWNER)
    assert to(calls, TEAM_MEMBER, "sendDocument")
    [summary] = to(calls, TEAM_MEMBER)

    # Granted, with a claim on the doorbraakbudget.
    await bot.press(labels(summary)["Toegekend"], user_id=TEAM_MEMBER)
    calls = await bot.say("/besluit 3012 toegekend € 1.250,-", user_id=TEAM_MEMBER)
    assert "Uit het doorbraakbudget: €\xa01.250,00." in texts(calls)[0]
    assert app.course.stage(plan_id) is Stage.GRANTED
    [year] = [line for line in app.course.budget() if line.start.year == 2027]
    assert (year.granted, year.left) == (Decimal("1250.00"), Decimal("48750.00"))

    # Reminded on the morning the actions are due, once.
    clock.set(DUE)
    before = len(bot.stand_in.calls)
    assert await reminders.send_due(bot.application.bot) == 2
    sent = to(bot.stand_in.calls[before:], OWNER)
    assert all(c.params["text"].startswith("⏰ Vandaag:") for c in sent)
    assert await reminders.send_due(bot.application.bot) == 0

    # Still open two weeks later: escalating is proposed once, and taken.
    clock.set(OVERDUE)
    before = len(bot.stand_in.calls)
    await reminders.round(bot.application.bot)
    [proposal] = [
        c for c in to(bot.stand_in.calls[before:], OWNER) if "Opschalen naar" in str(labels(c))
    ]
    await reminders.round(bot.application.bot)
    assert [c for c in to(bot.stand_in.calls[before:], OWNER) if "Opschalen naar" in str(c)] == [
        proposal
    ]
    calls = await bot.press(labels(proposal)["Opschalen naar Teamleider"], user_id=OWNER)
    assert "Opgeschaald naar Teamleider" in " ".join(texts(calls))
    [escalation] = app.escalations.of_plan(plan_id)
    assert (escalation.state, escalation.rung_name) == ("opgeschaald", "Teamleider")

    # Evaluated after 3 months (from the finished plan's choices) and after 12 (/evaluatie).
    clock.set(AFTER_3)
    calls = await bot.say("/start 3012", user_id=OWNER)
    calls = await bot.press(dict(bot.buttons(calls[-1]))["Evalueren (wat is er gerealiseerd?)"])
    shown = "\n".join(texts(await evaluate(bot, calls, "Deels")))
    assert "Evaluatie na 3 maanden (1 juni 2027). Doorbraak gerealiseerd: Deels." in shown
    clock.set(AFTER_12)
    calls = await bot.say("/evaluatie", user_id=OWNER)
    shown = "\n".join(texts(await evaluate(bot, calls, "Ja")))
    assert "Evaluatie na 12 maanden (1 maart 2028). Doorbraak gerealiseerd: Ja." in shown
    assert app.course.stage(plan_id) is Stage.EVALUATED

    # The report over all plans counts the course from the plan's facts (issue 16).
    with app.sessions() as session:
        facts = session.get(PlanFactsRow, plan_id)
        assert facts is not None
        assert (facts.submitted_on, facts.decided_on, facts.decision) == (
            date(2027, 3, 1),
            date(2027, 3, 1),
            "toegekend",
        )
        assert (facts.escalated_on, facts.evaluated_on) == (date(2027, 3, 22), date(2028, 3, 1))

    # The export holds it all, exactly; imported elsewhere and exported again, it is the same.
    monkeypatch.setenv("DOORBRAAK_DATA_DIR", str(tmp_path))
    first = tmp_path / "plan.json"
    assert cli.main(["export", "3012", "--format", "json", "-o", str(first)]) == 0
    document = json.loads(first.read_text(encoding="utf-8"))
    jsonschema.validate(document, SCHEMA)
    assert document["version"] == 3
    # The decision by button, then again with the amount; a step for each evaluation.
    assert [s["stage"] for s in document["course"]["steps"]] == [
        "ingediend",
        "toegekend",
        "toegekend",
        "geëvalueerd",
        "geëvalueerd",
    ]
    assert [c["amount"] for c in document["course"]["claims"]] == ["1250.00"]
    assert [e["state"] for e in document["escalations"]] == ["opgeschaald"]
    assert [r["sent_at"] is not None for r in document["reminders"]].count(True) == 2
    evaluations = document["evaluations"]
    assert [e["months"] for e in evaluations] == [3, 12]
    # "Klopt": realised as planned, exact decimal strings (tests/support/evaluation.py works
    # out the plan's figures by hand: over 3 months € 780, € 9.000 and € 2.590).
    assert evaluations[0]["figures"]["gepland"] == {
        "huidig": "780.00",
        "dreigend": "9000.00",
        "doorbraak": "2590.00",
        "directe_kosten": "1810.00",
        "reele_baten": "6410.00",
    }
    assert evaluations[1]["figures"]["gepland"]["doorbraak"] == "7660.00"
    for evaluation in evaluations:
        assert evaluation["figures"]["gerealiseerd"] == evaluation["figures"]["gepland"]

    key = app.settings.resolved_key_file
    other_dir = tmp_path / "other"
    other = bootstrap(Settings(data_dir=other_dir, key_file=key), clock=FixedClock(AFTER_12))
    other.engine.dispose()
    monkeypatch.setenv("DOORBRAAK_DATA_DIR", str(other_dir))
    monkeypatch.setenv("DOORBRAAK_KEY_FILE", str(key))
    assert cli.main(["import", str(first)]) == 0
    again = tmp_path / "again.json"
    assert cli.main(["export", "3012", "--format", "json", "-o", str(again)]) == 0
    assert again.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
    assert date.fromisoformat(document["course"]["steps"][0]["day"]) == date(2027, 3, 1)
