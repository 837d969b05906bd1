"""Opvolging in Telegram, through a real Application and the Bot API stand-in: /acties and
its buttons, and reminders sent by an injected clock (once; not at night, not at weekends)."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.clock import FixedClock
from bot.reminders import Reminders
from bot.telegram_view import Button
from storage.models import Action
from tests.support.botapi import Call
from tests.support.harness import Harness, finish_plan, texts

# Monday 1 March 2027, 09:00 in Amsterdam; the plan's `binnen een week` is Monday 8 March.
T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
DUE = date(2027, 3, 8)
USER = 1001


@pytest.fixture
def harness_clock() -> FixedClock:
    return FixedClock(T0)


def clock_of(bot: Harness) -> FixedClock:
    clock = bot.app.clock
    assert isinstance(clock, FixedClock)
    return clock


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """`hour` o'clock in Amsterdam on `day` (winter time: UTC+1)."""
    return datetime(day.year, day.month, day.day, hour - 1, minute, tzinfo=UTC)


def buttons(call: Call) -> dict[str, Button]:
    markup = call.params.get("reply_markup") or {}
    found = {}
    for row in markup.get("inline_keyboard", []):
        for b in row:
            button = Button.decode(b["callback_data"])
            assert button is not None
            found[b["text"]] = button
    return found


def action_messages(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "sendMessage" and "Gedaan" in buttons(c)]


async def test_acties_lists_open_actions_soonest_first_with_buttons(bot: Harness) -> None:
    plan_id = finish_plan(bot)
    calls = await bot.say("/acties")
    shown = texts(calls)
    assert shown[0] == "Open acties, de eerste eerst:"
    listed = action_messages(calls)
    assert [html.unescape(c.params["text"]) for c in listed] == [
        "8 maart 2027 · Wijkteam: actieplan na_doorbraak regelen · huishouden 3012",
        "8 maart 2027 · Wijkteam: actieplan voor_doorbraak regelen · huishouden 3012",
        "1 maart 2028 · Huishouden: actieplan na_doorbraak zelf · huishouden 3012",
        "1 maart 2028 · Huishouden: actieplan voor_doorbraak zelf · huishouden 3012",
    ]
    first = buttons(listed[0])
    assert list(first) == ["Gedaan", "Nieuwe datum", "Plan openen", "Eigenaar"]
    assert first["Plan openen"].plan_id == plan_id

    # Gedaan: stored, and the message shows it and loses its buttons.
    calls = await bot.press(first["Gedaan"].encode())
    action = bot.app.actions.get(first["Gedaan"].action_id)
    assert action is None or action.status == "gedaan"
    with bot.app.units(read_only=True) as uow:
        stored = uow.actions.get(first["Gedaan"].action_id)
    assert stored is not None and stored.status == "gedaan"
    edits = [c for c in calls if c.method == "editMessageText"]
    assert edits and "✓ Gedaan" in edits[0].params["text"]
    assert len(action_messages(await bot.say("/acties"))) == 3

    # Nieuwe datum: which one? Over een week: the Monday a week from today.
    second = buttons(listed[1])
    calls = await bot.press(second["Nieuwe datum"].encode())
    [ask] = [c for c in calls if c.method == "sendMessage"]
    assert html.unescape(ask.params["text"]) == (
        "Welke nieuwe datum? actieplan voor_doorbraak regelen"
    )
    dates = buttons(ask)
    assert list(dates) == ["Morgen", "Over een week", "Over twee weken", "Over een maand"]
    calls = await bot.press(dates["Over een week"].encode())
    with bot.app.units(read_only=True) as uow:
        moved = uow.actions.get(second["Gedaan"].action_id)
    assert moved is not None and moved.due == date(2027, 3, 8)
    assert any("Nieuwe datum: 8 maart 2027" in t for t in texts(calls) + _edited(calls))

    # Plan openen: the finished plan, to look at.
    calls = await bot.press(first["Plan openen"].encode())
    assert any("huishouden 3012" in t and "om in te zien" in t for t in texts(calls))


async def test_a_colleague_cannot_press_anothers_action(bot: Harness) -> None:
    finish_plan(bot)
    listed = action_messages(await bot.say("/acties"))
    done = buttons(listed[0])["Gedaan"]
    # Member 2002 is registered, but the plan is not theirs (a forged or forwarded button).
    calls = await bot.press(done.encode(), user_id=2002, chat_id=2002)
    assert "Deze actie staat niet meer in een plan van jou." in texts(calls)
    with bot.app.units(read_only=True) as uow:
        action = uow.actions.get(done.action_id)
    assert action is not None and action.status == "open"


async def test_a_due_reminder_is_sent_once_in_the_morning_of_a_weekday(bot: Harness) -> None:
    plan_id = finish_plan(bot)
    clock = clock_of(bot)
    reminders = Reminders(bot.app, bot.front.kit)
    send = bot.application.bot

    clock.set(at(DUE - timedelta(days=1), 10))  # the Sunday before: nothing due, and weekend
    assert await reminders.send_due(send) == 0
    clock.set(at(DUE, 7))  # the morning it is due, but before the hour (9)
    assert await reminders.send_due(send) == 0
    clock.set(at(DUE, 9, 5))
    before = len(bot.stand_in.calls)
    assert await reminders.send_due(send) == 2
    sent = action_messages(bot.stand_in.calls[before:])
    assert [html.unescape(c.params["text"]) for c in sent] == [
        "⏰ Vandaag: actieplan voor_doorbraak regelen (Wijkteam) · huishouden 3012",
        "⏰ Vandaag: actieplan na_doorbraak regelen (Wijkteam) · huishouden 3012",
    ]
    assert {c.params["chat_id"] for c in sent} == {USER}
    assert list(buttons(sent[0])) == ["Gedaan", "Nieuwe datum", "Plan openen"]
    # Once: neither later that day nor after a "restart" (a new loop on the same database).
    clock.set(at(DUE, 15))
    assert await reminders.send_due(send) == 0
    assert await Reminders(bot.app, bot.front.kit).send_due(send) == 0

    # Not at night, not at the weekend: an action due on a Saturday comes on Monday.
    with bot.app.units(claim=False) as uow:
        [action_id] = uow.tx.scalars(
            Action.__table__.select()
            .with_only_columns(Action.id)
            .where(Action.plan_id == plan_id, Action.due == date(2028, 3, 1))
            .limit(1)
        )
        uow.actions.move(action_id, date(2027, 3, 13), author="prof:1", now=clock.now())
    for moment in (
        at(date(2027, 3, 12), 22),
        at(date(2027, 3, 13), 10),
        at(date(2027, 3, 14), 12),
    ):
        clock.set(moment)
        assert await reminders.send_due(send) == 0, moment
    clock.set(at(date(2027, 3, 15), 9))
    before = len(bot.stand_in.calls)
    assert await reminders.send_due(send) == 1
    [late] = action_messages(bot.stand_in.calls[before:])
    # Due on the Saturday: on Monday it says so, without calling it overdue.
    assert html.unescape(late.params["text"]).startswith(
        "⏰ Stond op 13 maart 2027 (weekend of feestdag): "
    )

    # A done action is not reminded: Gedaan under the reminder, then its next date passes.
    await bot.press(buttons(late)["Gedaan"].encode())
    clock.set(at(date(2028, 3, 1), 10))
    before = len(bot.stand_in.calls)
    assert await reminders.send_due(send) == 1  # the other `maart` action only
    [other] = action_messages(bot.stand_in.calls[before:])
    assert "voor_doorbraak zelf" in other.params["text"]


async def test_the_evaluation_date_is_reminded_and_can_be_moved(bot: Harness) -> None:
    finish_plan(bot)  # evaluation on 15-03-2037, a Sunday
    clock = clock_of(bot)
    reminders = Reminders(bot.app, bot.front.kit)
    clock.set(at(date(2037, 3, 16), 9))
    before = len(bot.stand_in.calls)
    assert await reminders.send_due(bot.application.bot) == 5  # four actions, long overdue
    [evaluation] = [
        c
        for c in bot.stand_in.calls[before:]
        if c.method == "sendMessage" and "evaluatie" in c.params["text"]
    ]
    assert html.unescape(evaluation.params["text"]) == (
        "⏰ De evaluatie van huishouden 3012 stond op 15 maart 2037."
    )
    ask = await bot.press(buttons(evaluation)["Nieuwe datum"].encode())
    [question] = [c for c in ask if c.method == "sendMessage"]
    await bot.press(buttons(question)["Over twee weken"].encode())
    clock.set(at(date(2037, 3, 30), 9))
    before = len(bot.stand_in.calls)
    assert await reminders.send_due(bot.application.bot) == 1
    [again] = [c for c in bot.stand_in.calls[before:] if c.method == "sendMessage"]
    assert "Vandaag evalueren jullie het plan van huishouden 3012." in again.params["text"]


async def test_a_reminder_that_could_not_be_sent_is_tried_again(bot: Harness) -> None:
    finish_plan(bot)
    clock = clock_of(bot)
    reminders = Reminders(bot.app, bot.front.kit)
    clock.set(at(DUE, 9))
    bot.stand_in.forbid(USER)
    assert await reminders.send_due(bot.application.bot) == 0
    with bot.stand_in._cond:
        bot.stand_in._forbidden.discard(USER)
    assert await reminders.send_due(bot.application.bot) == 0  # not before the pause
    clock.set(at(DUE, 9, 10))
    assert await reminders.send_due(bot.application.bot) == 2


def _edited(calls: list[Call]) -> list[str]:
    return [
        html.unescape(str(c.params.get("text", "")))
        for c in calls
        if c.method == "editMessageText"
    ]


async def test_acties_in_a_group_points_to_the_private_chat(bot: Harness) -> None:
    finish_plan(bot)
    calls = await bot.say("/acties", chat_id=-100123, chat_type="group")
    assert texts(calls) == ["Je acties zie je in een privégesprek met mij, niet in een groep."]
