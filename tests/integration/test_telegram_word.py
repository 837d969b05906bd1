"""The plan's files as they arrive: the PDF at once with a button for the Word file (and one
for the chart as a picture when it shows the costs), each file once per button (a second tap
or a repeated delivery sends nothing), and in a group session everything privately."""

from __future__ import annotations

from typing import Any

from storage.inbox import InboxRepository, applying
from tests.support.botapi import Call
from tests.support.harness import FACILITATOR, Harness, answer_current, texts

WORD = "Ook als Word-bestand"
CHART = "Grafiek als afbeelding"
GROUP_ID = -4201
LEADER = {
    "user_id": FACILITATOR,
    "first_name": "Fatima",
    "chat_type": "group",
    "chat_id": GROUP_ID,
}


def sent_files(calls: list[Call]) -> list[tuple[int, str]]:
    return [
        (c.params["chat_id"], c.filenames.get("document") or c.filenames.get("photo", ""))
        for c in calls
        if c.method in ("sendDocument", "sendPhoto") and not c.failed
    ]


def labels(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


def word_button(call: Call, label: str = WORD) -> str:
    markup = call.params.get("reply_markup") or {}
    [data] = [
        b["callback_data"] for row in markup["inline_keyboard"] for b in row if b["text"] == label
    ]
    return str(data)


def carrying(bot: Harness, data: str) -> int:
    message_id = bot.carrier(data)
    assert message_id != 1, "no message carries the Word button"
    return message_id


async def plan_so_far(bot: Harness, **who: Any) -> tuple[list[Call], str]:
    """A plan with only its title, asked for with /plan: the calls, and the Word button."""
    await bot.say("/nieuw 3012" if not who else "/sessie 3012", **who)
    await bot.say("Een titel", **who)
    calls = await bot.say("/plan", **who)
    [pdf] = [c for c in calls if c.method == "sendDocument"]
    return calls, word_button(pdf)


async def finish_in_chat(bot: Harness) -> list[Call]:
    await bot.say("/nieuw 3012")
    for _ in range(200):
        calls = await answer_current(bot)
        if any(c.method == "sendDocument" for c in calls):
            return calls
    raise AssertionError("the interview did not finish")


async def test_a_finished_plan_arrives_as_pdf_with_buttons_for_word_and_chart(
    bot: Harness,
) -> None:
    calls = await finish_in_chat(bot)
    assert sent_files(calls) == [(1001, "doorbraakplan-3012.pdf")]
    [pdf] = [c for c in calls if c.method == "sendDocument"]
    assert pdf.files["document"].startswith(b"%PDF")
    assert labels(pdf) == [WORD, CHART]  # all costs entered: the chart shows something
    data = word_button(pdf)
    pdf_message = carrying(bot, data)

    calls = await bot.press(data)
    assert sent_files(calls) == [(1001, "doorbraakplan-3012.docx")]
    [docx] = [c for c in calls if c.method == "sendDocument"]
    assert docx.files["document"].startswith(b"PK")
    # The button has done its work and goes from the PDF; the other stays.
    [edit] = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert edit.params["message_id"] == pdf_message
    assert labels(edit) == [CHART]
    chart = word_button(pdf, CHART)
    calls = await bot.press(chart, message_id=pdf_message)
    assert sent_files(calls) == [(1001, "doorbraakplan-3012-kosten.png")]
    [photo] = [c for c in calls if c.method == "sendPhoto"]
    assert photo.files["photo"].startswith(b"\x89PNG")
    assert photo.params["caption"] == "Kosten per scenario"

    # A second tap (a client that still shows the button): nothing sent, a toast says why.
    calls = await bot.press(data, message_id=pdf_message)
    assert sent_files(calls) == []
    assert texts(calls) == ["Het Word-bestand is al gestuurd."]


async def test_a_double_tap_sends_the_word_file_once(bot: Harness) -> None:
    _, data = await plan_so_far(bot)
    pdf_message = carrying(bot, data)
    # Both taps reach Telegram before the first is answered: both carry the button.
    first, second = (bot.stand_in.callback_update(data, message_id=pdf_message) for _ in range(2))
    sent = [sent_files(await bot.push(first)), sent_files(await bot.push(second))]
    assert sent == [[(1001, "doorbraakplan-3012.docx")], []]
    # A later /plan is a new PDF with a new button: its Word file may be had again.
    calls = await bot.say("/plan")
    [pdf] = [c for c in calls if c.method == "sendDocument"]
    calls = await bot.press(word_button(pdf))
    assert sent_files(calls) == [(1001, "doorbraakplan-3012.docx")]


async def test_a_press_delivered_twice_sends_the_word_file_once(bot: Harness) -> None:
    _, data = await plan_so_far(bot)
    update: dict[str, Any] = {
        **bot.stand_in.callback_update(data, message_id=carrying(bot, data)),
        "update_id": 900,
    }
    with bot.app.sessions() as session, session.begin():
        InboxRepository(session, bot.app.keyring).add(900, 1001, update)
    deliveries = []
    for _ in range(2):
        # As the inbox worker applies an update (bot.inbox_worker): under its id.
        with applying(900):
            deliveries.append(await bot.push(update))
    assert sent_files(deliveries[0]) == [(1001, "doorbraakplan-3012.docx")]
    # Applied before: nothing is sent, not even a toast.
    assert sent_files(deliveries[1]) == [] and texts(deliveries[1]) == []


async def test_the_word_button_of_a_plan_changed_since_sends_nothing(bot: Harness) -> None:
    calls, data = await plan_so_far(bot)
    # No costs entered yet: the chart would show nothing, so it is not offered.
    assert sent_files(calls) == [(1001, "doorbraakplan-3012.pdf")]
    assert labels(next(c for c in calls if c.method == "sendDocument")) == [WORD]
    await answer_current(bot)
    calls = await bot.press(data)
    assert sent_files(calls) == []
    assert texts(calls) == ["Het plan is intussen gewijzigd. Vraag het opnieuw op met /plan."]


async def test_in_a_group_session_the_files_and_the_word_file_go_to_the_facilitator(
    bot: Harness,
) -> None:
    calls, data = await plan_so_far(bot, **LEADER)
    assert sent_files(calls) == [(FACILITATOR, "doorbraakplan-3012.pdf")]
    # One line in the group; privately, besides the PDF, the offer of the wall poster.
    [line] = [c for c in calls if c.method == "sendMessage" and c.params["chat_id"] == GROUP_ID]
    assert line.params["text"].startswith(
        "Het plan staat als PDF in het privégesprek van Fatima (de gespreksleider) met mij;"
        " het Word-bestand is daar op te vragen."
    )
    calls = await bot.press(data, user_id=FACILITATOR)
    assert sent_files(calls) == [(FACILITATOR, "doorbraakplan-3012.docx")]
    assert not [c for c in bot.stand_in.sent_to(GROUP_ID) if c.method == "sendDocument"]
    # The same button pressed in the group (forged there): nothing of the plan is sent.
    calls = await bot.press(data, message_id=1, **LEADER)
    assert sent_files(calls) == []
