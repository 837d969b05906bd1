"""A lean recording Bot API for benchmarks: every call is kept, every answer is minimal valid JSON.

tests/support/request.py answers like Telegram in full (it keeps every message, copies them,
parses files); here a call costs a few microseconds, so what is measured is the bot.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

TOKEN = "123456:BENCH"
BASE_URL = "http://stand-in/bot"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Doorbraakbot", "username": "bench_bot"}
_TRUE = json.dumps({"ok": True, "result": True}).encode()
_ME = json.dumps(
    {
        "ok": True,
        "result": {
            **BOT_USER,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        },
    }
).encode()
# Methods whose result is the message sent (or edited).
_MESSAGES = frozenset({"sendMessage", "sendDocument", "sendPhoto", "editMessageReplyMarkup"})


@dataclass
class Chat:
    """What one chat has been sent: the count of calls and the last keyboard."""

    calls: int = 0
    texts: list[str] = field(default_factory=list)
    # The buttons (label, callback data) under the latest question, or after a tick.
    buttons: list[tuple[str, str]] = field(default_factory=list)
    documents: int = 0
    # The buttons under the latest document (the Word file's, under the PDF).
    document_buttons: list[tuple[str, str]] = field(default_factory=list)


class RecordingRequest(BaseRequest):
    """Records each Bot API call per chat and answers at once, without I/O."""

    def __init__(self, *, keep_texts: bool = True) -> None:
        self.chats: dict[int, Chat] = {}
        self.methods: dict[str, int] = {}
        self.keep_texts = keep_texts
        self._message_id = 1000
        # Called with (method, chat id) before the answer: a test's hook into "the moment the
        # reply is handed to Telegram".
        self.on_call: Any = None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 1.0

    def chat(self, chat_id: int) -> Chat:
        found = self.chats.get(chat_id)
        if found is None:
            found = self.chats[chat_id] = Chat()
        return found

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        self.methods[name] = self.methods.get(name, 0) + 1
        if name == "getMe":
            return 200, _ME
        params = request_data.parameters if request_data is not None else {}
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            return 200, _TRUE  # answerCallbackQuery, setMyCommands, ...
        if self.on_call is not None:
            self.on_call(name, chat_id)
        chat = self.chat(chat_id)
        chat.calls += 1
        if name not in _MESSAGES:
            return 200, _TRUE
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            chat.buttons = [
                (str(b["text"]), str(b["callback_data"]))
                for row in markup["inline_keyboard"]
                for b in row
            ]
        elif name == "sendMessage":
            chat.buttons = []
        if name == "sendMessage" and self.keep_texts:
            chat.texts.append(str(params.get("text", "")))
        elif name == "sendDocument":
            chat.documents += 1
            chat.document_buttons = chat.buttons if isinstance(markup, dict) else []
        self._message_id += 1
        message_id = params.get("message_id", self._message_id)
        result = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": BOT_USER,
        }
        return 200, json.dumps({"ok": True, "result": result}).encode()
