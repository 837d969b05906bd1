"""Kraak-en-maaksessies in a group: who may stop one, where the plan's files go, what an
unregistered member hears, and short answers when no session runs."""

from __future__ import annotations

import io
import re

import pypdf

from tests.support.harness import (
    FACILITATOR,
    MEMBER_A,
    MEMBER_B,
    Harness,
    answer_current,
    texts,
)

GROUP_ID = -4201
GROUP = {"chat_type": "group", "chat_id": GROUP_ID}
LEADER = {"user_id": FACILITATOR, "first_name": "Fatima", **GROUP}
NO_SESSION = "Er loopt hier geen sessie. Start er een met /sessie <huishoudnummer>."


def leaks(bot: Harness) -> list[str]:
    """Anything in the group's messages that must never be there."""
    found = []
    for call in bot.stand_in.sent_to(GROUP_ID):
        if call.method in ("sendDocument", "sendPhoto"):
            found.append(call.method)
        text = str(call.params.get("text", ""))
        found += re.findall(r"prof:\d+|UIT-|uitnodiging|DEEL-", text, flags=re.IGNORECASE)
    return found


async def test_only_the_facilitator_or_the_owner_stops_a_session(bot: Harness) -> None:
    await bot.say("/sessie 3012", **LEADER)
    calls = await bot.say("/sessie stop", user_id=MEMBER_A, first_name="Bram", **GROUP)
    assert texts(calls) == [
        "Alleen Fatima (de gespreksleider) of de eigenaar van het plan kan de sessie stoppen."
    ]
    assert bot.app.service.chat(GROUP_ID) is not None
    calls = await bot.say("/overzicht", user_id=MEMBER_A, **GROUP)
    assert texts(calls) == [
        "Alleen Fatima (de gespreksleider) beantwoordt de vragen. "
        "Gebruik /idee <tekst> voor een suggestie."
    ]
    calls = await bot.say("/sessie stop", **LEADER)
    assert "De sessie is gestopt" in texts(calls)[0]
    assert bot.app.service.chat(GROUP_ID) is None
    assert leaks(bot) == []


async def test_the_plans_owner_may_stop_a_session_someone_else_leads(bot: Harness) -> None:
    # MEMBER_A owns plan 4021 and shares it with the facilitator, who leads the session.
    await bot.say("/nieuw 4021", user_id=MEMBER_A)
    calls = await bot.say("/deel", user_id=MEMBER_A)
    code = re.search(r"DEEL-[A-Z0-9]{4}-[A-Z0-9]{4}", texts(calls)[-1])
    assert code is not None
    await bot.say(code.group(0), user_id=FACILITATOR)
    await bot.say("/sessie 4021", **LEADER)
    calls = await bot.say("/sessie stop", user_id=MEMBER_A, **GROUP)
    assert "De sessie is gestopt" in texts(calls)[0]
    assert bot.app.service.chat(GROUP_ID) is None


async def test_plan_in_a_group_goes_to_the_facilitator_privately(bot: Harness) -> None:
    await bot.say("/sessie 3012", **LEADER)
    await bot.say("Een titel", **LEADER)
    calls = await bot.say("/plan", **LEADER)
    files = [c for c in calls if c.method in ("sendDocument", "sendPhoto")]
    # The PDF; no chart, as no costs are entered; Word on request (test_telegram_word.py).
    assert [c.params["chat_id"] for c in files] == [FACILITATOR]
    assert [c.filenames.get("document") for c in files] == ["doorbraakplan-3012.pdf"]
    [line] = [c for c in calls if c.method == "sendMessage" and c.params["chat_id"] == GROUP_ID]
    assert line.params["text"].startswith(
        "Het plan staat als PDF in het privégesprek van Fatima (de gespreksleider) met mij;"
        " het Word-bestand is daar op te vragen.\n\n<b>Stap 1 van 6"
    )
    # No offer to clear the private chat: that chat is not about this plan.
    assert not [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert leaks(bot) == []


async def test_plan_in_a_group_when_the_bot_may_not_write_privately(bot: Harness) -> None:
    await bot.say("/sessie 3012", **LEADER)
    bot.stand_in.forbid(FACILITATOR)
    calls = await bot.say("/plan", **LEADER)
    assert not [c for c in calls if c.method in ("sendDocument", "sendPhoto") and not c.failed]
    [line] = [c for c in calls if c.method == "sendMessage"]
    assert line.params["chat_id"] == GROUP_ID
    assert line.params["text"].startswith(
        "Ik kan Fatima (de gespreksleider) geen privébericht sturen: start eerst een "
        "privégesprek met mij en vraag dan opnieuw /plan."
    )
    assert leaks(bot) == []


async def test_an_unregistered_member_hears_one_short_line_per_session(bot: Harness) -> None:
    outsider = {"user_id": MEMBER_B, "first_name": "Olaf", **GROUP}
    await bot.say("/sessie 3012", **LEADER)
    calls = await bot.say("/idee bel de school", **outsider)
    assert texts(calls) == ["Alleen aangemelde professionals kunnen ideeën toevoegen."]
    for attempt in ("/idee nog een", "/overzicht", "/sessie stop", "/deel", "gewoon tekst"):
        calls = await bot.say(attempt, **outsider)
        assert texts(calls) == [], attempt
    # An invite code typed in the group registers nobody and gets no answer.
    calls = await bot.say(bot.app.access.invite("Noord"), **outsider)
    assert texts(calls) == []
    assert bot.app.access.professional(MEMBER_B) is None
    # A button of the session, pressed by them: a toast only they see, without a code.
    calls = await bot.press("c|1|1|0", **outsider)
    assert texts(calls) == ["Alleen aangemelde professionals kunnen ideeën toevoegen."]
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert leaks(bot) == []


async def test_commands_without_a_session_get_a_short_answer(bot: Harness) -> None:
    for command in ("/overzicht", "/wijzig 1", "/plan", "/terug"):
        calls = await bot.say(command, **LEADER)
        assert texts(calls) == [NO_SESSION], command
    calls = await bot.say("/sessie stop", **LEADER)
    assert texts(calls) == ["Er loopt hier geen sessie om te stoppen."]
    calls = await bot.say("/idee iets", user_id=MEMBER_A, **GROUP)
    assert texts(calls) == [NO_SESSION]
    # plain talk in a group without a session is not addressed to the bot
    calls = await bot.say("Goedemorgen allemaal", **LEADER)
    assert texts(calls) == []


async def test_sharing_is_not_done_in_a_group(bot: Harness) -> None:
    await bot.say("/sessie 3012", **LEADER)
    calls = await bot.say("/deel", **LEADER)
    assert texts(calls) == ["Delen gaat in een privégesprek met mij, niet in een groep."]
    assert leaks(bot) == []


async def test_without_a_known_name_the_facilitator_is_named_by_role(bot: Harness) -> None:
    """After a restart the bot has forgotten the name: it says "de gespreksleider", never an
    internal id."""
    await bot.say("/sessie 3012", **LEADER)
    bot.front.kit.permissions.facilitator_names.pop((GROUP_ID, bot.professionals[FACILITATOR]))
    calls = await bot.say("/sessie stop", user_id=MEMBER_A, **GROUP)
    assert texts(calls) == [
        "Alleen de gespreksleider of de eigenaar van het plan kan de sessie stoppen."
    ]


async def test_a_question_with_buttons_that_also_takes_text_says_how_in_a_group(
    bot: Harness,
) -> None:
    await bot.say("/sessie 3012", **LEADER)
    for _ in range(80):
        if bot.current_field() == "rendement.huidig":
            break
        await answer_current(bot, **LEADER)
    asked = bot.last_question()
    assert asked.params["chat_id"] == GROUP_ID
    assert "inline_keyboard" in asked.params["reply_markup"]  # Klaar stays a button
    hint = bot.spec.message("telegram_groep_typ_als_reactie")
    assert asked.params["text"].endswith(hint)
    # The typed line, sent as a reply to that question, is taken.
    calls = await bot.say("Inzet wijkteam: 2 uur per week à € 65", **LEADER)
    assert "Inzet wijkteam: 2 uur per week" in texts(calls)[0]
    # A plain choice question shows no such line: its buttons are the answer.
    status = [
        c.params["text"]
        for c in bot.stand_in.sent_to(GROUP_ID)
        if c.method == "sendMessage" and "Wat is de relatiestatus?" in str(c.params.get("text"))
    ]
    assert status and hint not in status[0]


async def test_the_facilitator_gets_a_button_for_the_wall_poster(bot: Harness) -> None:
    await bot.say("/sessie 3012", **LEADER)
    await bot.say("Een titel met *sterren* en {{ x }}", **LEADER)
    calls = await bot.say("/plan", **LEADER)
    [offer] = [
        c for c in calls if c.method == "sendMessage" and c.params["chat_id"] == FACILITATOR
    ]
    assert offer.params["text"].startswith("Hang je het plan op in de kraak-en-maaksessie?")
    [[button]] = offer.params["reply_markup"]["inline_keyboard"]
    assert button["text"] == "Poster voor de muur (A3)"

    # Pressed in the facilitator's private chat: the poster, one A3 landscape page.
    calls = await bot.press(button["callback_data"], user_id=FACILITATOR)
    [sent] = [c for c in calls if c.method == "sendDocument"]
    assert sent.params["chat_id"] == FACILITATOR
    assert sent.filenames["document"] == "doorbraakplan-3012-poster.pdf"
    reader = pypdf.PdfReader(io.BytesIO(sent.files["document"]))
    assert len(reader.pages) == 1 and float(reader.pages[0].mediabox.width) > 1190
    assert "Een titel met *sterren* en {{ x }}" in reader.pages[0].extract_text()
    assert leaks(bot) == []

    # The same button forged by a professional the plan is not shared with: no poster.
    calls = await bot.press(button["callback_data"], message_id=1, user_id=MEMBER_A)
    assert not [c for c in calls if c.method == "sendDocument"]
    assert [c.params["chat_id"] for c in calls if c.method == "sendMessage"] == [MEMBER_A]
    # And pressed in the group, it is refused: the poster is sent privately only.
    calls = await bot.press(button["callback_data"], message_id=1, **LEADER)
    assert not [c for c in calls if c.method == "sendDocument"]
