"""The Bot API stand-in, driven by a real python-telegram-bot ``Bot`` and ``Application``."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
import time
from collections.abc import Iterator
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.support.botapi import BotApiStandIn

TOKEN = "123456:TEST"


@pytest.fixture
def stand_in() -> Iterator[BotApiStandIn]:
    with BotApiStandIn(TOKEN) as server:
        yield server


def bot_for(stand_in: BotApiStandIn) -> Bot:
    return Bot(stand_in.token, base_url=stand_in.base_url)


def post(stand_in: BotApiStandIn, method: str, body: bytes, content_type: str) -> dict:
    request = Request(
        f"{stand_in.base_url}{stand_in.token}/{method}",
        data=body,
        headers={"Content-Type": content_type},
    )
    try:
        with urlopen(request, timeout=5) as response:
            return {"status": response.status, **json.loads(response.read())}
    except HTTPError as exc:
        with exc:
            return {"status": exc.code, **json.loads(exc.read())}


async def test_get_me(stand_in: BotApiStandIn) -> None:
    async with bot_for(stand_in) as bot:
        me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "doorbraak_test_bot"
    assert me.first_name == "Doorbraakbot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False
    assert [call.method for call in stand_in.calls] == ["getMe", "getMe"]


async def test_send_message_records_decoded_params(stand_in: BotApiStandIn) -> None:
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ja", callback_data="ja"),
                InlineKeyboardButton("Nee", callback_data="nee"),
            ]
        ]
    )
    async with bot_for(stand_in) as bot:
        sent = await bot.send_message(1001, "Zullen we beginnen? ✓", reply_markup=markup)
        plain = await bot.send_message(-1001234567890, "42", parse_mode="HTML")
        edited = await bot.edit_message_text("Begonnen", chat_id=1001, message_id=sent.message_id)
    [first, second] = stand_in.calls_of("sendMessage")
    assert first.params == {
        "chat_id": 1001,
        "text": "Zullen we beginnen? ✓",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Ja", "callback_data": "ja"}, {"text": "Nee", "callback_data": "nee"}]
            ]
        },
    }
    assert second.params == {"chat_id": -1001234567890, "text": "42", "parse_mode": "HTML"}
    assert sent.chat.type == "private"
    assert sent.reply_markup == markup
    assert sent.from_user is not None and sent.from_user.is_bot
    assert plain.chat.type == "supergroup"
    assert plain.message_id > sent.message_id
    assert edited.message_id == sent.message_id
    assert edited.text == "Begonnen"
    assert edited.reply_markup is None
    assert stand_in.sent_texts() == ["Zullen we beginnen? ✓", "42", "Begonnen"]


async def test_an_html_message_is_kept_as_text_and_entities(stand_in: BotApiStandIn) -> None:
    """As Telegram does: what a callback query carries reads back as the HTML that was sent
    (offsets in UTF-16 units, so an emoji before a bold word counts twice)."""
    sent_html = "<b>Stap 1 van 6</b>\n\n✅ 🏠 <i>a &lt; b</i> &amp; <b>vet <i>schuin</i></b>"
    async with bot_for(stand_in) as bot:
        sent = await bot.send_message(1001, sent_html, parse_mode="HTML")
        edited = await bot.edit_message_text(
            f"{sent.text_html}\n\n✓ klaar", chat_id=1001, message_id=sent.message_id,
            parse_mode="HTML",
        )  # fmt: skip
        with pytest.raises(BadRequest):
            await bot.send_message(1001, "<b>open", parse_mode="HTML")
    assert sent.text == "Stap 1 van 6\n\n✅ 🏠 a < b & vet schuin"
    assert sent.text_html == sent_html
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 12),
        ("italic", 19, 5),
        ("bold", 27, 10),
        ("italic", 31, 6),
    ]
    assert edited.text_html == f"{sent_html}\n\n✓ klaar"
    pressed = stand_in.callback_update("x", message_id=sent.message_id)
    update = Update.de_json({"update_id": 1, **pressed}, bot)
    assert update.callback_query is not None
    assert update.callback_query.message.text_html == f"{sent_html}\n\n✓ klaar"


async def test_send_document_records_file_bytes(stand_in: BotApiStandIn) -> None:
    content = b"%PDF-1.7\r\n\x00\xff binary \r\n--not-a-boundary\r\n"
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Opnieuw", callback_data="again")]])
    async with bot_for(stand_in) as bot:
        message = await bot.send_document(
            1001, content, filename="doorbraakplan.pdf", caption="Je plan", reply_markup=markup
        )
        photo = await bot.send_photo(1001, b"\x89PNG fake")
    [call] = stand_in.calls_of("sendDocument")
    assert call.files == {"document": content}
    assert call.filenames == {"document": "doorbraakplan.pdf"}
    assert call.params == {
        "chat_id": 1001,
        "caption": "Je plan",
        "reply_markup": {"inline_keyboard": [[{"text": "Opnieuw", "callback_data": "again"}]]},
    }
    assert message.document is not None
    assert message.document.file_name == "doorbraakplan.pdf"
    assert message.document.file_size == len(content)
    assert message.document.mime_type == "application/pdf"
    assert message.caption == "Je plan"
    assert stand_in.calls_of("sendPhoto")[0].files == {"photo": b"\x89PNG fake"}
    assert photo.photo[-1].file_size == len(b"\x89PNG fake")


async def test_get_updates_parses_pushed_updates_and_offsets_confirm(
    stand_in: BotApiStandIn,
) -> None:
    ids = [
        stand_in.push_update(stand_in.text_update("/start@doorbraak_test_bot nu")),
        stand_in.push_update(stand_in.callback_update("ja", message_id=7)),
        stand_in.push_update(stand_in.message_update(kind="photo")),
        stand_in.push_update(stand_in.migrate_update(old_chat_id=-4001, new_chat_id=-100400)),
    ]
    assert ids == sorted(ids) and len(set(ids)) == 4
    async with bot_for(stand_in) as bot:
        updates = await bot.get_updates(timeout=0, allowed_updates=["message", "callback_query"])
        assert [update.update_id for update in updates] == ids
        command, callback, photo, migrate = updates

        assert command.message is not None and command.effective_chat is not None
        assert command.effective_chat.type == "private"
        assert command.message.parse_entities(MessageEntity.BOT_COMMAND) == {
            MessageEntity(MessageEntity.BOT_COMMAND, 0, len("/start@doorbraak_test_bot")): (
                "/start@doorbraak_test_bot"
            )
        }
        assert command.effective_user is not None
        assert command.effective_user.first_name == "Sanne"

        assert callback.callback_query is not None
        assert callback.callback_query.data == "ja"
        assert callback.callback_query.message is not None
        assert callback.callback_query.message.message_id == 7

        assert photo.message is not None and len(photo.message.photo) == 2

        assert migrate.message is not None
        assert migrate.message.migrate_to_chat_id == -100400
        assert migrate.message.chat.type == "group"

        again = await bot.get_updates(offset=ids[2], timeout=0)
        assert [update.update_id for update in again] == ids[2:]
        assert await bot.get_updates(offset=ids[-1] + 1, timeout=0) == ()
        assert stand_in.pending_updates() == []

    first_poll = stand_in.calls_of("getUpdates")[0]
    assert first_poll.params["allowed_updates"] == ["message", "callback_query"]
    assert first_poll.params["timeout"] == 0


async def test_every_update_builder_parses(stand_in: BotApiStandIn) -> None:
    builders = [
        stand_in.text_update("hoi", chat_type="group", reply_to_message_id=3),
        stand_in.text_update("/help", chat_type="supergroup", user_id=2002, first_name="Ahmed"),
        *(
            stand_in.message_update(kind=kind)
            for kind in ("photo", "voice", "sticker", "document", "location")
        ),
        stand_in.edited_message_update("hoi!"),
        stand_in.callback_update("nee", chat_type="group"),
    ]
    for update in builders:
        stand_in.push_update(update)
    async with bot_for(stand_in) as bot:
        updates = await bot.get_updates(timeout=0)
    assert len(updates) == len(builders)
    reply, help_, photo, voice, sticker, document, location, edited, callback = updates
    assert reply.message is not None and reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.message_id == 3
    assert reply.message.chat.id < 0 and reply.message.chat.type == "group"
    assert help_.message is not None and help_.message.chat.type == "supergroup"
    assert help_.message.chat.id < -1_000_000_000_000
    assert help_.message.entities[0].length == len("/help")
    assert photo.message is not None and photo.message.photo
    assert voice.message is not None and voice.message.voice is not None
    assert sticker.message is not None and sticker.message.sticker is not None
    assert document.message is not None and document.message.document is not None
    assert location.message is not None and location.message.location is not None
    assert edited.edited_message is not None and edited.edited_message.text == "hoi!"
    assert edited.edited_message.message_id == location.message.message_id
    assert callback.callback_query is not None
    assert callback.effective_chat is not None and callback.effective_chat.type == "group"


async def test_long_poll_returns_early_on_push_and_caps_wait(stand_in: BotApiStandIn) -> None:
    async with bot_for(stand_in) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=30) == ()
        assert 0.9 <= time.monotonic() - started < 3

        timer = threading.Timer(0.2, stand_in.push_update, [stand_in.text_update("laat")])
        timer.start()
        started = time.monotonic()
        updates = await bot.get_updates(timeout=30)
        timer.join()
        assert time.monotonic() - started < 0.9
        assert updates[0].message is not None and updates[0].message.text == "laat"


async def test_fail_next(stand_in: BotApiStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without PTB_TIMEDELTA, RetryAfter itself emits a PTBDeprecationWarning (an error here).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    stand_in.fail_next("sendMessage", retry_after=1)
    stand_in.fail_next("sendMessage", times=1)
    async with bot_for(stand_in) as bot:
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(1001, "eerste")
        assert info.value.retry_after == dtm.timedelta(seconds=1)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(1001, "tweede")
        await bot.send_message(1001, "derde")
    sends = [call for call in stand_in.calls if call.method == "sendMessage"]
    assert [(call.params["text"], call.failed) for call in sends] == [
        ("eerste", True),
        ("tweede", True),
        ("derde", False),
    ]
    assert stand_in.sent_texts() == ["derde"]
    assert stand_in.wait_for_call("sendMessage", timeout=0) == sends[2:]


async def test_wrong_token_is_unauthorized(stand_in: BotApiStandIn) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=stand_in.base_url):
            pass
    assert stand_in.calls[0].failed


def test_raw_encodings_and_bad_requests(stand_in: BotApiStandIn) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    as_json = post(
        stand_in,
        "sendMessage",
        json.dumps({"chat_id": 5, "text": "true", "reply_markup": markup}).encode(),
        "application/json",
    )
    assert as_json["status"] == 200 and as_json["result"]["reply_markup"] == markup
    as_form = post(
        stand_in,
        "sendMessage",
        b"chat_id=5&text=%5B1%5D&reply_markup=" + json.dumps(markup).encode(),
        "application/x-www-form-urlencoded",
    )
    assert as_form["status"] == 200
    assert [call.params for call in stand_in.calls_of("sendMessage")] == [
        {"chat_id": 5, "text": "true", "reply_markup": markup},
        {"chat_id": 5, "text": "[1]", "reply_markup": markup},
    ]

    bad_multipart = post(
        stand_in, "sendDocument", b"--x\r\nnonsense", "multipart/form-data; boundary=x"
    )
    assert bad_multipart["status"] == 400 and bad_multipart["ok"] is False
    assert "multipart" in bad_multipart["description"]
    bad_json = post(stand_in, "sendMessage", b"{nope", "application/json")
    assert bad_json["status"] == 400 and bad_json["description"].startswith("Bad Request")
    empty = post(stand_in, "sendMessage", b"chat_id=5", "application/x-www-form-urlencoded")
    assert empty == {
        "status": 400,
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }
    unknown = post(
        stand_in, "setMessageReaction", b"chat_id=5", "application/x-www-form-urlencoded"
    )
    assert unknown == {"status": 200, "ok": True, "result": True}
    assert [(call.method, call.failed) for call in stand_in.calls[2:]] == [
        ("sendDocument", True),
        ("sendMessage", True),
        ("sendMessage", True),
        ("setMessageReaction", False),
    ]
    assert stand_in.calls[-1].params == {"chat_id": 5}


def test_stop_joins_threads_and_closes_port() -> None:
    before = set(threading.enumerate())
    stand_in = BotApiStandIn()
    stand_in.start()
    url = f"{stand_in.base_url}{stand_in.token}/getMe"
    with urlopen(url, timeout=5) as response:
        assert json.loads(response.read())["result"]["username"] == "doorbraak_test_bot"
    stand_in.stop()
    stand_in.stop()  # idempotent
    assert set(threading.enumerate()) <= before
    with pytest.raises(OSError):
        urlopen(url, timeout=1)


def test_wait_for_reports_last_calls(stand_in: BotApiStandIn) -> None:
    post(stand_in, "sendMessage", b"chat_id=5&text=hallo", "application/x-www-form-urlencoded")
    with pytest.raises(AssertionError, match=r"sendChatAction[\s\S]*sendMessage.*hallo"):
        stand_in.wait_for_call("sendChatAction", timeout=0.1)


async def test_application_polling_receives_update(stand_in: BotApiStandIn) -> None:
    received: asyncio.Queue[Update] = asyncio.Queue()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await received.put(update)
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welkom!")

    application = ApplicationBuilder().token(stand_in.token).base_url(stand_in.base_url).build()
    application.add_handler(CommandHandler("start", start))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        update_id = stand_in.push_update(stand_in.text_update("/start"))
        update = await asyncio.wait_for(received.get(), timeout=5)
        assert update.update_id == update_id
        await asyncio.to_thread(stand_in.wait_for_call, "sendMessage", timeout=5)
        await application.updater.stop()
        await application.stop()
    assert stand_in.sent_texts() == ["Welkom!"]
    assert stand_in.pending_updates() == []
    methods = [call.method for call in stand_in.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"]
    assert "getUpdates" in methods


def test_a_held_confirmation_keeps_the_update_until_a_higher_offset_goes_through(
    stand_in: BotApiStandIn,
) -> None:
    update_id = stand_in.push_update(stand_in.text_update("antwoord"))
    stand_in.hold_confirmation(update_id)
    body = json.dumps({"offset": 0, "timeout": 0}).encode()
    # A call that does not confirm it is not held: it hands the update out.
    taken = post(stand_in, "getUpdates", body, "application/json")
    assert [u["update_id"] for u in taken["result"]] == [update_id]

    confirming = json.dumps({"offset": update_id + 1, "timeout": 0}).encode()
    answers: list[dict] = []
    held = threading.Thread(
        target=lambda: answers.append(post(stand_in, "getUpdates", confirming, "application/json"))
    )
    held.start()
    time.sleep(0.2)
    assert answers == [] and len(stand_in.pending_updates()) == 1
    # Its bot died: let go, the call confirms nothing, and the update is handed out again.
    stand_in.release()
    held.join(timeout=5)
    assert answers[0]["status"] == 400
    assert [u["update_id"] for u in stand_in.pending_updates()] == [update_id]
    # Without a hold, a higher offset confirms it, as Telegram does.
    post(stand_in, "getUpdates", confirming, "application/json")
    assert stand_in.pending_updates() == []
