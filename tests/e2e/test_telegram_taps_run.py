"""`doorbraakbot run` against the stand-in Bot API: taps leave a trace under their question,
a refused tap is a toast, and after /terug a Houden button keeps the answer."""

from __future__ import annotations

import html
import time

from dialogs import Interview
from tests.e2e.test_telegram_run import CHAT, QUIET, BotProcess, Chat, check_startup
from tests.support.botapi import BotApiStandIn, Call


def traced(stand_in: BotApiStandIn, chat: Chat, data: str, shown: str) -> Call:
    """Press `data`; its question's message is edited to show `shown`, without buttons,
    before the next question is sent. Returns the edit."""
    carrier = chat.message_id_of(data)
    asked = chat.questions()[-1]
    answer = chat.press(data)
    assert not answer.params.get("text")  # taken: no toast
    [edit] = [c for c in stand_in.calls_of("editMessageText") if c.at > asked.at]
    assert edit.params["chat_id"] == CHAT and edit.params["message_id"] == carrier
    assert "reply_markup" not in edit.params
    assert (
        html.unescape(edit.params["text"]) == f"{html.unescape(asked.params['text'])}\n\n✓ {shown}"
    )
    assert edit.at < chat.questions()[-1].at  # the trace, then the next question
    with stand_in._cond:
        message = stand_in._messages[(CHAT, carrier)]
    assert "reply_markup" not in message and message["text"].endswith(f"✓ {shown}")
    return edit


def test_taps_leave_a_trace(stand_in: BotApiStandIn, bot: BotProcess, spec: Interview) -> None:
    check_startup(bot, bot.start())
    chat = Chat(stand_in, bot, spec)
    chat.register()
    chat.type("/nieuw 3012")
    while (current := chat.current())[0].key != "huishouden.relatiestatus":
        chat.answer(*current)
    _, keys = current
    traced(stand_in, chat, keys["Alleenstaande ouder"], "Alleenstaande ouder")
    assert chat.current()[0].key == "huishouden.huisvesting"

    # After /terug the answered question offers Houden: the answer stays, the plan moves on.
    chat.type("/terug")
    field, keys = chat.current()
    assert field.key == "huishouden.relatiestatus"
    assert list(keys)[-1] == "Houden"
    traced(stand_in, chat, keys["Houden"], "Huidig antwoord gehouden")
    assert chat.current()[0].key == "huishouden.huisvesting"

    while (current := chat.current())[0].key != "situatieschets.domeinen":
        chat.answer(*current)
    _, keys = current
    for label in ("Wonen", "Welzijn", "Werk"):
        chat.press(keys[label], expect="editMessageReplyMarkup")
        _, keys = chat.current()
    # One tick too many: a toast, and the question is not sent again.
    first = len(stand_in.calls)
    toast = chat.press(keys["Financieel"], expect="")
    assert toast.params["text"] == "Je koos er 4; je mag er hoogstens 3 kiezen."
    time.sleep(0.3)  # anything the press caused besides the toast would be here by now
    assert [c.method for c in stand_in.calls[first:] if c.method not in QUIET] == []
    traced(stand_in, chat, keys["Klaar"], "Wonen, Welzijn, Werk")
    assert not [t for t in stand_in.sent_texts() if "⚠️" in t]
    assert len(stand_in.calls_of("answerCallbackQuery")) == chat.callbacks
    assert " ERROR " not in bot.log()
