"""The real Telegram handlers in a real Application, talking to a recording Bot API stand-in."""

from __future__ import annotations

import pytest

from bot.service import ChatTarget, PlanService
from storage import PlanRepository
from tests.support.harness import FACILITATOR, MEMBER_A, MEMBER_B, Harness, answer_current


async def test_commands_are_registered_in_dutch(bot: Harness) -> None:
    scopes = {
        c.params["scope"]["type"]: c.params["commands"]
        for c in bot.stand_in.calls_of("setMyCommands")
    }
    private = [c["command"] for c in scopes["all_private_chats"]]
    group = [c["command"] for c in scopes["all_group_chats"]]
    assert private[:3] == ["start", "nieuw", "hervat"]
    assert {"overzicht", "terug", "overslaan", "wijzig", "plan", "stop", "help"} <= set(private)
    assert {"sessie", "idee"} <= set(group)
    assert all(c["description"] for c in scopes["all_private_chats"])


async def test_a_private_interview_to_the_summary(bot: Harness) -> None:
    calls = await bot.say("/start")
    assert "Welkom" in calls[-1].params["text"]
    await bot.say("/nieuw 3012")
    assert bot.current_field() == "plan.titel"
    steps_seen = []
    for _ in range(200):
        calls = await answer_current(bot)
        if any(c.method == "sendDocument" for c in calls):
            break
        steps_seen.append(int(bot.last_question().params["text"].split("Stap ")[1].split()[0]))
    else:
        raise AssertionError("the interview did not finish")
    assert steps_seen == sorted(steps_seen) and steps_seen[-1] == 6
    methods = [c.method for c in calls]
    assert methods.index("sendChatAction") < methods.index("sendDocument")
    action = next(c for c in calls if c.method == "sendChatAction")
    assert action.params["action"] == "upload_document"
    documents = {
        c.filenames["document"]: c.files["document"] for c in calls if c.method == "sendDocument"
    }
    # The PDF at once; the Word file on request (tests/integration/test_telegram_word.py).
    assert set(documents) == {"doorbraakplan-3012.pdf"}
    assert documents["doorbraakplan-3012.pdf"].startswith(b"%PDF")
    assert not [c for c in calls if c.method == "sendPhoto"]  # the chart on request
    texts = bot.stand_in.sent_texts()
    assert any(t.startswith("Waardendriehoek") for t in texts)
    # every button press was answered, exactly once
    assert bot.presses > 0
    assert len(bot.stand_in.calls_of("answerCallbackQuery")) == bot.presses


async def test_resume_with_hervat_and_with_a_deep_link(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await bot.say("Een titel")
    await bot.say("/stop")
    assert "bewaard" in bot.stand_in.sent_texts()[-1]
    calls = await bot.say("Nog iets")
    assert "geen plan open" in calls[-1].params["text"]
    calls = await bot.say("/hervat")
    ((label, data),) = bot.buttons(calls[-1])
    assert label.startswith("3012 · stap 1 van 6")
    await bot.press(data)
    assert bot.current_field() == "plan.professional"
    # another device: a deep link t.me/<bot>?start=3012 opens the same plan
    await bot.say("/start 3012", user_id=1001, chat_id=1001)
    assert bot.current_field() == "plan.professional"
    calls = await bot.say("/start Jansen")
    assert "geen geldig huishoudnummer" in calls[-1].params["text"]


async def test_a_stale_button_does_not_answer_the_current_question(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await bot.say("Een titel")
    await bot.say("Sanne Tester")
    await bot.say("Wijk Noord")
    await bot.say("overslaan")
    await bot.say("overslaan")
    assert bot.current_field() == "huishouden.relatiestatus"
    old = bot.button("Alleenstaand")
    await bot.press(bot.button("Samenwonend"))
    assert bot.current_field() == "huishouden.huisvesting"
    calls = await bot.press(old)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "eerdere vraag" in calls[0].params["text"]
    with bot.app.sessions() as session:
        plan = PlanRepository(session, bot.app.keyring).current_plan("3012")
        assert plan is not None
        assert plan.answers["huishouden.relatiestatus"] == "Samenwonend"


async def test_a_multiple_choice_with_ticks_and_the_maximum(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    for _ in range(40):
        if bot.current_field() == "situatieschets.domeinen":
            break
        await answer_current(bot)
    for label in ("Wonen", "Werk", "Financieel"):
        calls = await bot.press(bot.button(label))
        assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageReplyMarkup"]
    ticked = [text for text, _ in bot.buttons() if text.startswith("✅")]
    assert ticked == ["✅ Wonen", "✅ Werk", "✅ Financieel"]
    calls = await bot.press(bot.button("Opleiding"))
    assert "hoogstens 3" in calls[-1].params["text"]
    await bot.press(bot.button("Klaar"))
    with bot.app.sessions() as session:
        plan = PlanRepository(session, bot.app.keyring).current_plan("3012")
        assert plan is not None
        assert plan.answers["situatieschets.domeinen"] == ["Wonen", "Werk", "Financieel"]


async def test_a_group_session_with_a_facilitator_and_two_members(bot: Harness) -> None:
    group = {"chat_type": "group", "chat_id": -4001}
    calls = await bot.say("/sessie 3012", user_id=FACILITATOR, first_name="Fatima", **group)
    assert "Fatima leidt de sessie" in calls[-1].params["text"]
    # with privacy mode on, the facilitator is asked for a reply, selectively
    assert calls[-1].params["reply_markup"] == {"force_reply": True, "selective": True}
    assert calls[-1].params["reply_parameters"]["message_id"] > 0
    await bot.say("Een titel", user_id=FACILITATOR, **group)
    assert bot.current_field() == "plan.professional"
    # members' answers do not advance the plan
    before = len(bot.stand_in.calls)
    await bot.say("Iets anders", user_id=MEMBER_A, **group)
    await bot.say("Nog iets", user_id=MEMBER_B, **group)
    assert bot.current_field() == "plan.professional"
    assert not [c for c in bot.stand_in.calls[before:] if c.method == "sendMessage"]
    calls = await bot.say(
        "/idee vraag de corporatie om urgentie", user_id=MEMBER_A, first_name="Bram", **group
    )
    assert "Idee van Bram bij stap 1" in calls[-1].params["text"]
    with bot.app.sessions() as session:
        repo = PlanRepository(session, bot.app.keyring)
        plan = repo.current_plan("3012")
        assert plan is not None
        ideas = repo.suggestions(plan.id)
    assert [(i.step, i.text, i.author) for i in ideas] == [
        (1, "vraag de corporatie om urgentie", bot.professionals[MEMBER_A])
    ]
    # an unregistered member's idea is refused, and not stored
    calls = await bot.say("/idee iets", user_id=MEMBER_B, **group)
    assert calls[-1].params["text"] == "Alleen aangemelde professionals kunnen ideeën toevoegen."
    with bot.app.sessions() as session:
        assert len(PlanRepository(session, bot.app.keyring).suggestions(plan.id)) == 1
    assert "plan.professional" not in plan.answers
    # a member cannot press the facilitator's buttons
    for _ in range(10):
        if bot.current_field() == "huishouden.relatiestatus":
            break
        await answer_current(bot, user_id=FACILITATOR, **group)
    calls = await bot.press(bot.button("Anders"), user_id=MEMBER_A, **group)
    assert "gespreksleider" in calls[0].params["text"]
    # the group becomes a supergroup: the session goes with it
    await bot.push(
        bot.stand_in.migrate_update(old_chat_id=-4001, new_chat_id=-100_4001, user_id=FACILITATOR)
    )
    calls = await bot.say(
        "/overzicht", user_id=FACILITATOR, chat_type="supergroup", chat_id=-100_4001
    )
    assert "Overzicht van het plan" in calls[-1].params["text"]
    # the ideas of a step are shown to the facilitator when a step begins
    await bot.say("/wijzig 1", user_id=FACILITATOR, chat_type="supergroup", chat_id=-100_4001)
    assert "vraag de corporatie om urgentie" in bot.last_question().params["text"]
    await bot.say("/sessie stop", user_id=FACILITATOR, chat_type="supergroup", chat_id=-100_4001)
    assert "gestopt" in bot.stand_in.sent_texts()[-1]


async def test_long_messages_are_split_at_4096(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    for _ in range(40):
        if bot.current_field() == "situatieschets.wat_speelt":
            break
        await answer_current(bot)
    long = "\n\n".join(
        f"Alinea {n}: " + "het huishouden woont bij vrienden. " * 20 for n in range(12)
    )
    await bot.say(long[:4000])
    calls = await bot.say("/terug")  # the question again, with its 4.000-character answer
    sent = [c for c in calls if c.method == "sendMessage"]
    assert len(sent) == 2
    assert all(len(c.params["text"]) <= 4096 for c in sent)
    assert sent[0].params.get("reply_markup") is None


async def test_retry_after_then_success_loses_nothing(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    bot.stand_in.fail_next("sendMessage", retry_after=1)
    calls = await bot.say("Een titel")
    attempts = [c for c in calls if c.method == "sendMessage"]
    assert [c.failed for c in attempts] == [True, False]
    assert attempts[0].params["text"] == attempts[1].params["text"]
    assert bot.current_field() == "plan.professional"
    bot.stand_in.fail_next("sendMessage")  # a network error (502) is retried too
    calls = await bot.say("Sanne Tester")
    assert [c.failed for c in calls if c.method == "sendMessage"] == [True, False]
    with bot.app.sessions() as session:
        plan = PlanRepository(session, bot.app.keyring).current_plan("3012")
        assert plan is not None
        assert plan.answers["plan.titel"] == "Een titel"
        assert plan.answers["plan.professional"] == "Sanne Tester"


@pytest.mark.parametrize("kind", ["photo", "voice", "sticker", "document", "location"])
async def test_other_message_types_get_a_clear_reply(bot: Harness, kind: str) -> None:
    await bot.say("/nieuw 3012")
    calls = await bot.push(bot.stand_in.message_update(kind=kind))
    assert [c.method for c in calls] == ["sendMessage"]
    assert "alleen tekst" in calls[0].params["text"]
    assert bot.current_field() == "plan.titel"
    with bot.app.sessions() as session:
        plan = PlanRepository(session, bot.app.keyring).current_plan("3012")
        assert plan is not None and plan.answers == {}


async def test_an_edited_message_is_not_taken_as_an_answer(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await bot.say("Een titel")
    calls = await bot.push(bot.stand_in.edited_message_update("Een andere titel"))
    assert "bewerkt bericht" in calls[-1].params["text"]
    with bot.app.sessions() as session:
        plan = PlanRepository(session, bot.app.keyring).current_plan("3012")
        assert plan is not None and plan.answers["plan.titel"] == "Een titel"


async def test_an_answer_goes_to_the_plan_another_worker_opened_in_the_chat(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await bot.say("Titel van 3012")  # this process now remembers the chat works on 3012
    who = bot.app.access.professional(1001)
    assert who is not None
    # Another worker (a process of its own) opens 4021 in the same chat.
    other = PlanService(bot.app.dialog, bot.app.units)
    other.open("4021", actor=who.actor, chat=ChatTarget(1001, "private"), professional=who)
    await bot.say("Titel van 4021")
    titles = {}
    for household in ("3012", "4021"):
        found = bot.app.service.current(household)
        assert found is not None
        titles[household] = found[0].answers["plan.titel"]
    assert titles == {"3012": "Titel van 3012", "4021": "Titel van 4021"}
    assert bot.current_field() == "plan.professional"


async def test_a_new_facilitator_set_by_another_worker_is_heard(bot: Harness) -> None:
    group = {"chat_type": "group", "chat_id": -4002}
    await bot.say("/sessie 3012", user_id=FACILITATOR, **group)
    await bot.say("Titel van 3012", user_id=FACILITATOR, **group)  # binding remembered here
    member = bot.app.access.professional(MEMBER_A)
    assert member is not None
    # Another worker: MEMBER_A starts a session on 4021 in the same group.
    other = PlanService(bot.app.dialog, bot.app.units)
    target = ChatTarget(-4002, "group", facilitator=member.actor)
    other.open("4021", actor=member.actor, chat=target, professional=member)
    await bot.say("Titel van 4021", user_id=MEMBER_A, **group)
    found = bot.app.service.current("4021")
    assert found is not None and found[0].answers["plan.titel"] == "Titel van 4021"
    # and the former facilitator is now a member: a command of theirs is refused, with why
    calls = await bot.say("/overzicht", user_id=FACILITATOR, **group)
    assert "gespreksleider" in calls[-1].params["text"]
