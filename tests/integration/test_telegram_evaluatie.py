"""The evaluation in Telegram, through a real Application and the Bot API stand-in, with an
injected clock: started from the button under the evaluation reminder, answered with buttons,
and a second time with /evaluatie; the figures as over JSON-lines."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from bot.clock import FixedClock
from bot.reminders import Reminders
from bot.telegram_view import EVAL, FOLLOW_EVALUATE, Button
from tests.support.evaluation import PDF_ROWS, RESULT_3, RESULT_12, finish_with_costs
from tests.support.harness import Harness, texts

T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
AFTER_3 = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
AFTER_12 = datetime(2028, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def harness_clock() -> FixedClock:
    return FixedClock(T0)


def clock_of(bot: Harness) -> FixedClock:
    clock = bot.app.clock
    assert isinstance(clock, FixedClock)
    return clock


async def test_two_evaluations_in_telegram(bot: Harness) -> None:
    plan_id = finish_with_costs(bot.app)
    clock = clock_of(bot)

    # The evaluation reminder of a finished plan (due on its evaluation date, 15 March 2037,
    # a Sunday) offers to start the evaluation.
    clock.set(datetime(2037, 3, 16, 8, 0, tzinfo=UTC))
    await Reminders(bot.app, bot.front.kit).send_due(bot.application.bot)
    [reminder] = [
        c for c in bot.stand_in.calls_of("sendMessage") if "evaluatie" in c.params["text"]
    ]
    labels = [b["text"] for row in reminder.params["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[0] == "Evaluatie starten"

    clock.set(AFTER_3)
    start = Button(EVAL, plan_id, 0, FOLLOW_EVALUATE).encode()
    calls = await bot.press(start)  # under the reminder
    shown = texts(calls)
    assert any("Evaluatie 1 van het plan van huishouden 3012" in t for t in shown)
    assert "Is de doorbraak gerealiseerd?" in shown[-1]
    # The evaluation is one step: its questions are headed by its name alone.
    assert "\n\n<b>Evaluatie</b>\n\n" in shown[-1]
    assert "Stap 1 van 1" not in shown[-1]
    await bot.press(bot.button("Deels"))
    # Tick two of the plan's actions, then send them.
    names = [text for text, _ in bot.buttons()][:4]
    await bot.press(bot.button(names[0]))
    await bot.press(bot.button(names[2]))
    await bot.press(bot.button("Klaar"))
    await bot.say("Er is meer rust in huis")
    await bot.press(bot.button("Ja"))
    await bot.press(bot.button("Weet niet"))
    await bot.press(bot.button("Nee"))
    await bot.press(bot.button("Per regel nalopen"))
    await bot.say("3")
    await bot.press(bot.button("Zelfde"))
    calls = await bot.press(bot.button("Klaar"))
    assert RESULT_3 in "\n".join(texts(calls))
    statuses = sorted(a.status for a in bot.app.actions.of_plan(plan_id))
    assert statuses == ["gedaan", "gedaan", "open", "open"]

    clock.set(AFTER_12)
    calls = await bot.say("/evaluatie")
    assert any("Evaluatie 2 van het plan" in t for t in texts(calls))
    await bot.say("stop")  # paused; the finished plan's choices go on with it
    calls = await bot.say("/start 3012")
    calls = await bot.press(dict(bot.buttons(calls[-1]))["Evalueren (wat is er gerealiseerd?)"])
    assert any("Verder met de evaluatie" in t for t in texts(calls))
    await bot.press(bot.button("Ja"))
    await bot.say("overslaan")
    await bot.say("Een vaste woning")
    for _ in range(3):
        await bot.press(bot.button("Ja"))
    calls = await bot.press(bot.button("Klopt"))
    assert RESULT_12 in "\n".join(texts(calls))
    evaluations = bot.app.service.evaluations_of(plan_id)
    assert [(e.months, e.status) for e in evaluations] == [(3, "klaar"), (12, "klaar")]
    assert evaluations[0].answers["evaluatie.verandering"] == "Er is meer rust in huis"

    # The plan's PDF now ends with the section "Evaluatie", one row per evaluation.
    calls = await bot.say("/plan")
    [sent] = [c for c in calls if c.method == "sendDocument"]
    pdf = PdfReader(io.BytesIO(next(iter(sent.files.values()))))
    last = " ".join(pdf.pages[-1].extract_text().split())
    assert all(row in last for row in PDF_ROWS)


async def test_evaluatie_in_a_chat_without_a_plan(bot: Harness) -> None:
    calls = await bot.say("/evaluatie")
    assert html.unescape(texts(calls)[-1]).startswith("Er is hier nog geen plan open.")
