"""Taps leave a trace: a question answered with a button shows the answer and loses its
buttons; a refused tap is a toast; a question asked again offers to keep its answer."""

from __future__ import annotations

import html
from typing import Any

from storage import PlanRepository
from tests.support.botapi import Call
from tests.support.harness import FACILITATOR, Harness, answer_current, texts

GROUP = {"chat_type": "group", "chat_id": -4501}


async def walk_to(bot: Harness, key: str, **kw: Any) -> None:
    for _ in range(80):
        if bot.current_field() == key:
            return
        await answer_current(bot, **kw)
    raise AssertionError(f"{key} was not asked")


def answers(bot: Harness, household: str = "3012") -> dict[str, Any]:
    with bot.app.sessions() as session:
        plan = PlanRepository(session, bot.app.keyring).current_plan(household)
        assert plan is not None
        return dict(plan.answers)


def stored_message(bot: Harness, chat_id: int, message_id: int) -> dict[str, Any]:
    with bot.stand_in._cond:
        return dict(bot.stand_in._messages[(chat_id, message_id)])


async def assert_traced(
    bot: Harness, data: str, shown: str, *, chat_id: int = 1001, **kw: Any
) -> list[Call]:
    """Press `data` under the question asked now: its message keeps its text, gains the
    answer and loses its buttons, before anything else is sent."""
    asked = bot.last_question()
    carrier = bot.carrier(data)
    calls = await bot.press(data, chat_id=chat_id, **kw)
    methods = [c.method for c in calls]
    assert methods[:2] == ["answerCallbackQuery", "editMessageText"], methods
    assert "editMessageText" not in methods[2:]
    edit = calls[1]
    assert edit.params["chat_id"] == chat_id and edit.params["message_id"] == carrier
    assert edit.params["parse_mode"] == "HTML"
    assert "reply_markup" not in edit.params  # the keyboard goes
    # The question's text, formatting and all, with the answer under it.
    assert html.unescape(edit.params["text"]) == html.unescape(
        f"{asked.params['text']}\n\n✓ {html.escape(shown, quote=False)}"
    )
    assert edit.params["text"].startswith("<b>Stap ")
    message = stored_message(bot, chat_id, carrier)
    assert message["text"].endswith(f"\n\n✓ {shown}") and "reply_markup" not in message
    assert not calls[0].params.get("text")  # no toast for a tap that was taken
    return calls


async def test_a_tapped_choice_shows_its_answer_and_loses_its_buttons(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "huishouden.relatiestatus")
    calls = await assert_traced(bot, bot.button("Alleenstaande ouder"), "Alleenstaande ouder")
    assert calls[-1].method == "sendMessage"  # the next question comes after the trace
    assert bot.current_field() == "huishouden.huisvesting"
    assert answers(bot)["huishouden.relatiestatus"] == "Alleenstaande ouder"


async def test_a_typed_answer_at_a_button_question_edits_nothing(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "huishouden.relatiestatus")
    calls = await bot.say("Samenwonend")
    assert [c.method for c in calls] == ["sendMessage"]
    assert answers(bot)["huishouden.relatiestatus"] == "Samenwonend"


async def test_klaar_on_a_multiple_choice_shows_the_options_ticked(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "situatieschets.domeinen")
    for label in ("Wonen", "Werk"):
        await bot.press(bot.button(label))
    await assert_traced(bot, bot.button("Klaar"), "Wonen, Werk")
    assert answers(bot)["situatieschets.domeinen"] == ["Wonen", "Werk"]


async def test_a_cost_line_choice_shows_its_answer(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "rendement.huidig")
    await bot.say("Inzet wijkteam")  # the price list knows it: a choice of price
    [(label, data), _other] = bot.buttons()
    assert "Inzet generalist wijkteam" in label
    await assert_traced(bot, data, label)


async def test_refused_taps_are_a_toast_and_not_a_second_question(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "situatieschets.domeinen")
    # Nothing ticked yet: Klaar is refused.
    calls = await bot.press(bot.button("Klaar"))
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert texts(calls) == [bot.spec.message("niets_gekozen")]
    for label in ("Wonen", "Werk", "Financieel"):
        await bot.press(bot.button(label))
    # One tick too many.
    calls = await bot.press(bot.button("Opleiding"))
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert texts(calls) == ["Je koos er 4; je mag er hoogstens 3 kiezen."]
    # A button index the question does not have (a forged or very old client).
    plan = bot.button("Klaar").split("|")
    calls = await bot.press(f"c|{plan[1]}|{plan[2]}|99")
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "eerdere vraag" in texts(calls)[0]
    # Every tick untaken and then Klaar: refused, and the buttons are renewed in place,
    # so that the next tap is not taken for a tap on an old question.
    for label in ("Wonen", "Werk", "Financieel"):
        await bot.press(bot.button(label))
    carrier = bot.carrier(bot.button("Klaar"))
    calls = await bot.press(bot.button("Klaar"))
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageReplyMarkup"]
    assert texts(calls) == [bot.spec.message("niets_gekozen")]
    assert calls[1].params["message_id"] == carrier
    calls = await bot.press(bot.button("Welzijn"))
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageReplyMarkup"]
    await bot.press(bot.button("Klaar"))
    assert answers(bot)["situatieschets.domeinen"] == ["Welzijn"]
    assert not [t for t in bot.stand_in.sent_texts() if "⚠️" in t]  # no question repeated


async def test_a_refused_overslaan_and_a_button_of_another_plan_are_toasts(bot: Harness) -> None:
    await bot.say("/nieuw 4021")
    await bot.say("/nieuw 3012")
    await walk_to(bot, "situatieschets.domeinen")
    plan, revision = bot.button("Klaar").split("|")[1:3]
    calls = await bot.press(f"s|{plan}|{revision}|0")  # the question is required
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert texts(calls) == [bot.spec.message("verplicht")]
    calls = await bot.press(f"c|{int(plan) - 1}|{revision}|0")  # 4021's plan
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "eerdere vraag" in texts(calls)[0]
    assert bot.current_field() == "situatieschets.domeinen"


async def test_overslaan_on_an_optional_question_says_so(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "plan.werkgebied")
    await assert_traced(bot, bot.button("Overslaan"), "Overgeslagen")
    assert "plan.werkgebied" not in answers(bot)


async def test_after_terug_houden_keeps_the_current_answer(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "huishouden.relatiestatus")
    await bot.press(bot.button("Samenwonend"))
    await bot.say("/terug")
    assert bot.current_field() == "huishouden.relatiestatus"
    assert "Huidig antwoord: Samenwonend" in html.unescape(bot.last_question().params["text"])
    assert [label for label, _ in bot.buttons()][-1] == "Houden"
    await assert_traced(bot, bot.button("Houden"), "Huidig antwoord gehouden")
    assert bot.current_field() == "huishouden.huisvesting"
    assert answers(bot)["huishouden.relatiestatus"] == "Samenwonend"
    # A typed question (required, no choices) offers it too.
    await bot.say("/wijzig 1")
    assert bot.current_field() == "plan.titel"
    assert [label for label, _ in bot.buttons()] == ["Houden"]
    titel = answers(bot)["plan.titel"]
    await assert_traced(bot, bot.button("Houden"), "Huidig antwoord gehouden")
    assert bot.current_field() == "plan.professional"
    assert answers(bot)["plan.titel"] == titel


async def test_taps_leave_a_trace_in_a_group_session(bot: Harness) -> None:
    await bot.say("/sessie 3012", user_id=FACILITATOR, **GROUP)
    await walk_to(bot, "huishouden.relatiestatus", user_id=FACILITATOR, **GROUP)
    in_group = {"chat_id": GROUP["chat_id"], "user_id": FACILITATOR, "chat_type": "group"}
    await assert_traced(bot, bot.button("Alleenstaand"), "Alleenstaand", **in_group)
    assert answers(bot)["huishouden.relatiestatus"] == "Alleenstaand"
    await walk_to(bot, "situatieschets.domeinen", user_id=FACILITATOR, **GROUP)
    for label in ("Wonen", "Werk", "Financieel", "Opleiding"):
        calls = await bot.press(bot.button(label), user_id=FACILITATOR, **GROUP)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "hoogstens 3" in texts(calls)[0]
    await assert_traced(bot, bot.button("Klaar"), "Wonen, Werk, Financieel", **in_group)
