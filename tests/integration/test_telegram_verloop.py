"""The plan's course in Telegram, through a real Application and the Bot API stand-in: a
finished plan is submitted to the Doorbraakteam (its members get the PDF and the decision
buttons, and may read the plan), decided with a budget claim, and carried out; a rejection."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.clock import FixedClock
from bot.telegram_view import ACT, FOLLOW_DONE, Button
from dialogs.status import Stage
from storage.course import READER
from storage.models import ACTION_DONE
from tests.support.botapi import Call
from tests.support.harness import Harness, finish_plan, texts

T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
OWNER, TEAM_MEMBER = 1001, 3001


@pytest.fixture
def harness_clock() -> FixedClock:
    return FixedClock(T0)


def join_team(bot: Harness, user_id: int = TEAM_MEMBER) -> None:
    app = bot.app
    assert app.access.register(app.access.invite("Doorbraakteam"), user_id) is not None


def to(calls: list[Call], chat_id: int, method: str = "sendMessage") -> list[Call]:
    return [c for c in calls if c.method == method and c.params.get("chat_id") == chat_id]


def labels(call: Call) -> dict[str, str]:
    markup = call.params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


async def submitted(bot: Harness) -> tuple[int, Call]:
    """A finished plan of OWNER, submitted with /indienen 3012; the plan and the message
    with the decision buttons the team member got."""
    join_team(bot)
    plan_id = finish_plan(bot)
    calls = await bot.say("/indienen 3012", user_id=OWNER)
    told = html.unescape(texts(to(calls, OWNER))[0])
    assert told.startswith("Ingediend bij Doorbraakteam op 1 maart 2027.")
    assert "nog niemand" not in told
    [pdf] = to(calls, TEAM_MEMBER, "sendDocument")
    assert pdf.files["document"].startswith(b"%PDF")
    [summary] = to(calls, TEAM_MEMBER)
    assert "huishouden 3012" in summary.params["text"]
    return plan_id, summary


async def test_submitted_granted_with_a_claim_and_carried_out(bot: Harness) -> None:
    plan_id, summary = await submitted(bot)
    app = bot.app
    member = app.access.professional(TEAM_MEMBER)
    assert member is not None
    assert app.access.role(member, plan_id) == READER
    # The member decides with a button, then gives the amount in one message.
    calls = await bot.press(labels(summary)["Toegekend"], user_id=TEAM_MEMBER)
    [said] = texts(to(calls, TEAM_MEMBER))
    # The owner hears of it in their private chat.
    assert texts(to(calls, OWNER)) == [
        "Het Doorbraakteam heeft besloten over het plan van huishouden 3012. Besluit vastgelegd:"
        " toegekend, 1 maart 2027, door Sanne (Doorbraakteam)."
    ]
    assert said.startswith(
        "Besluit vastgelegd: toegekend, 1 maart 2027, door Sanne (Doorbraakteam)."
    )
    assert "/besluit 3012 toegekend" in said
    calls = await bot.say("/besluit 3012 toegekend € 1.250,-", user_id=TEAM_MEMBER)
    assert "Uit het doorbraakbudget: €\xa01.250,00." in texts(calls)[0]
    assert app.course.stage(plan_id) is Stage.GRANTED
    # /budget: exact.
    [shown] = texts(await bot.say("/budget", user_id=OWNER))
    assert (
        "1 januari 2027 t/m 31 december 2027: budget €\xa050.000,00 · toegekend €\xa01.250,00"
        " · besteed €\xa00,00 · over €\xa048.750,00"
    ) in shown
    # The last action marked done with its button: uitgevoerd is proposed with a button.
    *first, last = app.actions.of_plan(plan_id)
    for action in first:
        app.actions.set_status(action.id, ACTION_DONE, actor="prof:1", professional=None)
    calls = await bot.press(Button(ACT, last.id, 0, FOLLOW_DONE).encode(), user_id=OWNER)
    proposal = to(calls, OWNER)[-1]
    assert "Alle acties zijn gedaan" in proposal.params["text"]
    # A decision recorded again proposes it too.
    calls = await bot.say("/besluit 3012 toegekend € 1.250,-", user_id=TEAM_MEMBER)
    assert "Alle acties zijn gedaan" in to(calls, TEAM_MEMBER)[-1].params["text"]
    # Only the owner marks it carried out.
    calls = await bot.press(labels(proposal)["Uitgevoerd"], user_id=TEAM_MEMBER)
    assert "alleen de eigenaar" in " ".join(texts(calls))
    calls = await bot.say("/uitgevoerd 3012", user_id=OWNER)
    assert texts(calls) == ["Het plan staat op uitgevoerd (1 maart 2027)."]
    [line] = [b for b in app.course.budget() if b.start.year == 2027]
    assert (line.granted, line.spent, line.left) == (
        Decimal("1250.00"),
        Decimal("1250.00"),
        Decimal("48750.00"),
    )


async def test_a_rejection_by_button(bot: Harness) -> None:
    plan_id, summary = await submitted(bot)
    calls = await bot.press(labels(summary)["Afgewezen"], user_id=TEAM_MEMBER)
    assert texts(to(calls, TEAM_MEMBER))[0].startswith("Besluit vastgelegd: afgewezen")
    assert bot.app.course.stage(plan_id) is Stage.REJECTED
    # The member may look at the plan, not change it or start it anew.
    calls = await bot.say("/nieuw 3012", user_id=TEAM_MEMBER)
    look, change, evaluate, renew = (data for _, data in bot.buttons(calls[-1]))
    calls = await bot.press(look, user_id=TEAM_MEMBER)
    assert [c for c in calls if c.method == "sendDocument"]
    for data in (change, evaluate, renew):
        await bot.press(data, user_id=TEAM_MEMBER)
    assert bot.app.service.evaluations_of(plan_id) == []
    assert bot.app.service.chat(TEAM_MEMBER) is None
    assert bot.app.service.current("3012") is not None
    [(record, _)] = [bot.app.service.current("3012")]
    assert record.id == plan_id
    # A colleague outside the team cannot decide.
    calls = await bot.say("/besluit 3012 toegekend", user_id=2001)
    assert bot.app.course.stage(plan_id) is Stage.REJECTED


async def test_the_contacts_and_the_submit_button_under_a_finished_plan(bot: Harness) -> None:
    [shown] = texts(await bot.say("/contacten", user_id=OWNER))
    assert shown.startswith("Vaste contactpersonen:\nTeamleider Werk en Inkomen (Gemeente)")
    # Under a finished plan's PDF: the button that submits it.
    join_team(bot)
    finish_plan(bot)
    calls = await bot.say("/nieuw 3012", user_id=OWNER)
    change = bot.buttons(calls[-1])[1][1]
    await bot.press(change, user_id=OWNER)
    calls = await bot.say("/plan", user_id=OWNER)
    [offer] = [c for c in to(calls, OWNER) if "Indienen bij het Doorbraakteam" in labels_of(c)]
    calls = await bot.press(labels(offer)["Indienen bij het Doorbraakteam"], user_id=OWNER)
    assert texts(to(calls, OWNER))[-1].startswith("Ingediend bij Doorbraakteam")
    assert to(calls, TEAM_MEMBER, "sendDocument")


def labels_of(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
