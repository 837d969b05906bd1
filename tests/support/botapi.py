"""A stand-in for the Telegram Bot API, served over real HTTP on 127.0.0.1.

Point python-telegram-bot at it with ``base_url=stand_in.base_url``
(``http://127.0.0.1:<port>/bot``) and the bot talks HTTP to this server instead of
api.telegram.org: PTB requests ``POST /bot<TOKEN>/<method>``. Tests push raw Update dicts that
``getUpdates`` hands out, inspect every request the bot made (``calls``) and can make the next
calls of a method fail.

Parameter encodings understood (python-telegram-bot 22 with httpx sends the first and third):

* ``application/x-www-form-urlencoded``: each value is ``RequestParameter.json_value``, i.e. a
  plain string for ``str`` parameters and JSON for everything else (numbers, booleans, objects
  such as ``reply_markup``);
* ``application/json``: an object whose values are native JSON, or JSON-encoded strings as in
  ``RequestData.json_payload``;
* ``multipart/form-data`` (whenever files are uploaded): non-file parts as in the form encoding,
  file parts (those with a filename or a Content-Type) are kept as bytes under their field name;
* parameters in the query string (GET requests) are accepted too.

String values are JSON-decoded unless the parameter is known to be text (``text``, ``caption``,
``data``, ...) or the value is no valid JSON, so ``chat_id`` becomes an ``int`` and
``reply_markup`` a ``dict`` while a message text "42" stays ``"42"``.
"""

from __future__ import annotations

import copy
import json
import mimetypes
import re
import socketserver
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["BotApiStandIn", "Call"]

JSON = dict[str, Any]

# Parameters whose values are free text (or opaque ids) and must never be JSON-decoded.
_STRING_PARAMS = frozenset(
    {
        "action",
        "address",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "custom_title",
        "data",
        "description",
        "emoji",
        "error_message",
        "explanation",
        "file_id",
        "first_name",
        "inline_message_id",
        "invite_link",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "payload",
        "phone_number",
        "pre_checkout_query_id",
        "provider_token",
        "query",
        "question",
        "quote",
        "result_id",
        "secret_token",
        "short_description",
        "shipping_query_id",
        "start_parameter",
        "switch_pm_parameter",
        "switch_pm_text",
        "text",
        "title",
        "url",
        "vcard",
    }
)

_KNOWN_METHODS = (
    "getUpdates",
    "getMe",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "sendDocument",
    "sendPhoto",
    "sendChatAction",
    "answerCallbackQuery",
    "setMyCommands",
    "deleteMyCommands",
    "getMyCommands",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
    "deleteMessage",
    "getChat",
    "getFile",
    "close",
    "logOut",
)
_CANONICAL = {name.lower(): name for name in _KNOWN_METHODS}
_PATH_RE = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?")
_PARAM_RE = re.compile(r';\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))')
_SUPERGROUP_LIMIT = -1_000_000_000_000
_MAX_POLL_WAIT = 1.0


@dataclass
class Call:
    """One request received by the stand-in.

    ``at`` is a ``time.monotonic()`` timestamp. ``filenames`` (an addition) holds the uploaded
    files' names by field name, next to their bytes in ``files``.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float
    failed: bool = False
    filenames: dict[str, str] = field(default_factory=dict)


class _BadRequest(Exception):
    """A request the stand-in cannot parse or answer: reported as HTTP 400."""


def _decode_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``form-data; name="x"; filename="y"`` into the main value and its parameters.

    Quoted values are unescaped the way httpx (HTML5 form encoding) escapes them.
    """
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM_RE.finditer(";" + rest):
        key, quoted, bare = match.groups()
        if quoted is not None:
            text = re.sub(r"\\(.)", r"\1", quoted).replace("%22", '"')
        else:
            text = bare.strip()
        params[key.lower()] = text
    return main.strip().lower(), params


def _parse_multipart(
    body: bytes, boundary: str
) -> tuple[dict[str, Any], dict[str, bytes], dict[str, str]]:
    if not boundary:
        raise _BadRequest("multipart body without boundary")
    chunks = body.split(b"--" + boundary.encode("latin-1"))
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        raise _BadRequest("unterminated multipart body")
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    filenames: dict[str, str] = {}
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise _BadRequest("malformed multipart part")
        head, sep, content = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise _BadRequest("multipart part without header separator")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8").split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon:
                raise _BadRequest(f"malformed multipart header {line!r}")
            headers[name.strip().lower()] = value.strip()
        disposition, dparams = _header_params(headers.get("content-disposition", ""))
        if disposition != "form-data" or "name" not in dparams:
            raise _BadRequest("multipart part without form-data name")
        name = dparams["name"]
        if "filename" in dparams or "content-type" in headers:
            files[name] = content
            filenames[name] = dparams.get("filename", name)
        else:
            params[name] = _decode_value(name, content.decode("utf-8"))
    return params, files, filenames


def _parse_request(
    content_type: str, body: bytes, query: str
) -> tuple[dict[str, Any], dict[str, bytes], dict[str, str]]:
    """Parameters (decoded), files and file names from a request."""
    try:
        params: dict[str, Any] = {
            key: _decode_value(key, value)
            for key, value in parse_qsl(query, keep_blank_values=True)
        }
        files: dict[str, bytes] = {}
        filenames: dict[str, str] = {}
        if not body:
            return params, files, filenames
        header = Message()
        header["content-type"] = content_type or "application/octet-stream"
        ctype = header.get_content_type()
        if ctype == "application/x-www-form-urlencoded":
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            params.update((key, _decode_value(key, value)) for key, value in pairs)
        elif ctype == "application/json":
            document = json.loads(body.decode("utf-8"))
            if not isinstance(document, dict):
                raise _BadRequest("JSON body must be an object")
            params.update(
                (key, _decode_value(key, value) if isinstance(value, str) else value)
                for key, value in document.items()
            )
        elif ctype == "multipart/form-data":
            boundary = header.get_param("boundary")
            if not isinstance(boundary, str):
                raise _BadRequest("multipart body without boundary")
            more, files, filenames = _parse_multipart(body, boundary)
            params.update(more)
        else:
            raise _BadRequest(f"unsupported content type {ctype!r}")
        return params, files, filenames
    except (UnicodeDecodeError, ValueError) as exc:
        raise _BadRequest(f"can't parse request: {exc}") from exc


def _as_int(params: JSON, key: str, default: int | None = None) -> int:
    value = params.get(key, default)
    if value is None:
        raise _BadRequest(f"{key} is empty")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _BadRequest(f"{key} must be a number")
    try:
        return int(value)
    except ValueError as exc:
        raise _BadRequest(f"{key} must be a number") from exc


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on server_close, so stop() leaves no thread behind.
    daemon_threads = False
    block_on_close = True

    def __init__(self, stand_in: BotApiStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stand_in = stand_in

    def server_bind(self) -> None:
        # HTTPServer.server_bind would do a (possibly slow) reverse DNS lookup via getfqdn.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # One request per connection: no idle keep-alive connections hold up stop().
    protocol_version = "HTTP/1.0"
    timeout = 5

    def do_POST(self) -> None:
        self.server.stand_in._serve(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class BotApiStandIn:
    """A Telegram Bot API server for tests; see the module docstring."""

    def __init__(
        self, token: str = "123456:TEST", *, bot_username: str = "doorbraak_test_bot"
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        try:
            self.bot_id = int(token.split(":", 1)[0])
        except ValueError:
            self.bot_id = 123456
        self.calls: list[Call] = []
        self._cond = threading.Condition()
        self._version = 0
        self._updates: list[JSON] = []
        self._next_update_id = 1000
        self._next_message_id = 100
        self._failures: dict[str, deque[int | None]] = {}
        self._messages: dict[tuple[int | str, int], JSON] = {}
        self._chats: dict[int | str, JSON] = {}
        self._last_incoming: dict[tuple[int, int], int] = {}
        self._commands: dict[str, list[Any]] = {}
        self._forbidden: set[int] = set()
        self._stopping = False
        # hold_confirmation: the update whose confirmation is held back, and how many times
        # the held calls were let go (a held call sees it and confirms nothing).
        self._held: int | None = None
        self._releases = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("BotApiStandIn already started")
        self._stopping = False
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="BotApiStandIn",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        server.shutdown()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> BotApiStandIn:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("BotApiStandIn not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- test controls ---------------------------------------------------------------------------

    def push_update(self, update: JSON) -> int:
        """Queue a raw Update dict for getUpdates; assigns an increasing update_id if missing."""
        update = copy.deepcopy(update)
        with self._cond:
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            update_id = int(update["update_id"])
            self._next_update_id = max(self._next_update_id, update_id + 1)
            self._updates.append(update)
            self._updates.sort(key=lambda item: int(item["update_id"]))
            self._changed()
        return update_id

    def hold_confirmation(self, update_id: int) -> None:
        """Hold back every getUpdates call that would confirm `update_id` (one whose offset is
        higher) before it confirms anything, until `release`: the moment between a bot's
        taking an update and Telegram's hearing that it did, made as long as a test likes."""
        with self._cond:
            self._held = update_id
            self._changed()

    def release(self) -> None:
        """Let held getUpdates calls go, confirming nothing: their bot is dead (a call of a
        live bot fails and is made again)."""
        with self._cond:
            self._held = None
            self._releases += 1
            self._changed()

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._cond:
            return copy.deepcopy(self._updates)

    def fail_next(self, method: str, *, retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with an error, recorded as failed.

        With ``retry_after`` that is HTTP 429 "Too Many Requests: retry after N" (PTB raises
        RetryAfter); without it HTTP 502 "Bad Gateway" (PTB raises NetworkError).
        """
        method = _CANONICAL.get(method.lower(), method)
        with self._cond:
            self._failures.setdefault(method, deque()).extend([retry_after] * times)

    def forbid(self, chat_id: int) -> None:
        """Answer every later call to ``chat_id`` with 403 Forbidden, as Telegram does for a
        user who never started a private chat with the bot, or blocked it."""
        with self._cond:
            self._forbidden.add(chat_id)

    def sent_to(self, chat_id: int) -> list[Call]:
        """Successful calls that put something in ``chat_id``: messages, files, edits."""
        with self._cond:
            return [
                call
                for call in self.calls
                if not call.failed
                and call.params.get("chat_id") == chat_id
                and call.method not in ("sendChatAction", "deleteMessage", "deleteMessages")
            ]

    def wait_for(
        self, predicate: Callable[[list[Call]], bool], timeout: float = 10.0
    ) -> list[Call]:
        """Wait until ``predicate(calls)`` holds; returns the calls it held for."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                version = self._version
                snapshot = list(self.calls)
            if predicate(snapshot):
                return snapshot
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"condition not met within {timeout:g}s; last calls:\n"
                    + self.describe_calls(snapshot[-15:])
                )
            with self._cond:
                if self._version == version:
                    self._cond.wait(min(remaining, 0.1))

    def wait_for_call(self, method: str, *, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait for at least ``count`` successful calls of ``method``; returns all of them."""
        method = _CANONICAL.get(method.lower(), method)

        def matching(calls: list[Call]) -> list[Call]:
            return [call for call in calls if call.method == method and not call.failed]

        try:
            calls = self.wait_for(lambda calls: len(matching(calls)) >= count, timeout)
        except AssertionError as exc:
            raise AssertionError(f"expected {count} successful {method} call(s): {exc}") from None
        return matching(calls)

    def calls_of(self, method: str) -> list[Call]:
        """Successful calls of ``method`` so far."""
        method = _CANONICAL.get(method.lower(), method)
        with self._cond:
            return [call for call in self.calls if call.method == method and not call.failed]

    def sent_texts(self) -> list[str]:
        """Texts of successful sendMessage/editMessageText calls, in order."""
        with self._cond:
            return [
                str(call.params.get("text", ""))
                for call in self.calls
                if call.method in ("sendMessage", "editMessageText") and not call.failed
            ]

    @staticmethod
    def describe_calls(calls: list[Call]) -> str:
        lines = []
        for call in calls:
            params = json.dumps(call.params, ensure_ascii=False, default=repr)
            if len(params) > 300:
                params = params[:297] + "..."
            files = f" files={sorted(call.files)}" if call.files else ""
            failed = " FAILED" if call.failed else ""
            lines.append(f"  {call.method}{failed} {params}{files}")
        return "\n".join(lines) or "  (none)"

    # -- Update builders -------------------------------------------------------------------------

    def text_update(
        self,
        text: str,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Sanne",
        reply_to_message_id: int | None = None,
    ) -> JSON:
        """A message Update; ``/command`` texts get a bot_command entity."""
        message = self._incoming(user_id, chat_id, chat_type, first_name)
        message["text"] = text
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            length = len(command.encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if reply_to_message_id is not None:
            message["reply_to_message"] = self._known_message(message["chat"], reply_to_message_id)
        return {"message": message}

    def callback_update(
        self,
        data: str,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        message_id: int = 1,
        chat_type: str = "private",
        first_name: str = "Sanne",
    ) -> JSON:
        """A callback_query Update for a button under the bot's message ``message_id``."""
        chat = self._chat_for(user_id, chat_id, chat_type, first_name)
        query_id = f"{user_id}{self._new_message_id():08d}"
        return {
            "callback_query": {
                "id": query_id,
                "from": self._user(user_id, first_name),
                "chat_instance": str(-abs(int(chat["id"])) * 7919),
                "data": data,
                "message": self._known_message(chat, message_id),
            }
        }

    def message_update(
        self,
        *,
        kind: str,
        user_id: int = 1001,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Sanne",
        caption: str | None = None,
    ) -> JSON:
        """A non-text message Update: kind is photo, voice, sticker, document or location."""
        message = self._incoming(user_id, chat_id, chat_type, first_name)
        n = message["message_id"]
        match kind:
            case "photo":
                message["photo"] = [
                    {
                        "file_id": f"AgACAgQAAxkBAAI{n}s",
                        "file_unique_id": f"AQAD{n}s",
                        "width": 90,
                        "height": 67,
                        "file_size": 1311,
                    },
                    {
                        "file_id": f"AgACAgQAAxkBAAI{n}m",
                        "file_unique_id": f"AQAD{n}m",
                        "width": 800,
                        "height": 600,
                        "file_size": 52170,
                    },
                ]
            case "voice":
                message["voice"] = {
                    "file_id": f"AwACAgQAAxkBAAI{n}v",
                    "file_unique_id": f"AgAD{n}v",
                    "duration": 3,
                    "mime_type": "audio/ogg",
                    "file_size": 9120,
                }
            case "sticker":
                message["sticker"] = {
                    "file_id": f"CAACAgIAAxkBAAI{n}k",
                    "file_unique_id": f"AgAD{n}k",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                    "set_name": "TestStickers",
                    "file_size": 23480,
                }
            case "document":
                message["document"] = {
                    "file_id": f"BQACAgQAAxkBAAI{n}d",
                    "file_unique_id": f"AgAD{n}d",
                    "file_name": "loonstrook.pdf",
                    "mime_type": "application/pdf",
                    "file_size": 48213,
                }
            case "location":
                message["location"] = {"latitude": 52.370216, "longitude": 4.895168}
            case _:
                raise ValueError(f"unknown message kind {kind!r}")
        if caption is not None and kind in ("photo", "document"):
            message["caption"] = caption
        return {"message": message}

    def edited_message_update(
        self,
        text: str,
        *,
        message_id: int | None = None,
        user_id: int = 1001,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Sanne",
    ) -> JSON:
        """An edited_message Update; ``message_id`` defaults to the user's last message there."""
        chat = self._chat_for(user_id, chat_id, chat_type, first_name)
        if message_id is None:
            with self._cond:
                message_id = self._last_incoming.get((int(chat["id"]), user_id))
            if message_id is None:
                raise ValueError("no earlier message of this user in this chat to edit")
        message = {
            "message_id": message_id,
            "from": self._user(user_id, first_name),
            "chat": chat,
            "date": int(time.time()) - 60,
            "edit_date": int(time.time()),
            "text": text,
        }
        return {"edited_message": message}

    def migrate_update(
        self, *, old_chat_id: int, new_chat_id: int, user_id: int = 1001, first_name: str = "Sanne"
    ) -> JSON:
        """The service message in the old group announcing its upgrade to a supergroup."""
        message = self._incoming(user_id, old_chat_id, "group", first_name)
        message["migrate_to_chat_id"] = new_chat_id
        with self._cond:
            title = message["chat"].get("title", "Testgroep")
            self._chats[new_chat_id] = {"id": new_chat_id, "type": "supergroup", "title": title}
        return {"message": message}

    # -- builders' internals ---------------------------------------------------------------------

    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Doorbraakbot",
            "username": self.bot_username,
        }

    @staticmethod
    def _user(user_id: int, first_name: str) -> JSON:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "nl"}

    def _new_message_id(self) -> int:
        with self._cond:
            self._next_message_id += 1
            return self._next_message_id

    def _chat_for(
        self, user_id: int, chat_id: int | None, chat_type: str, first_name: str
    ) -> JSON:
        if chat_id is None:
            if chat_type == "private":
                chat_id = user_id
            elif chat_type == "group":
                chat_id = -4_000_000_000 - user_id
            else:
                chat_id = _SUPERGROUP_LIMIT - user_id
        chat: JSON = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = "Testgroep"
        with self._cond:
            self._chats[chat_id] = chat
        return dict(chat)

    def _incoming(
        self, user_id: int, chat_id: int | None, chat_type: str, first_name: str
    ) -> JSON:
        message = {
            "message_id": self._new_message_id(),
            "from": self._user(user_id, first_name),
            "chat": self._chat_for(user_id, chat_id, chat_type, first_name),
            "date": int(time.time()),
        }
        with self._cond:
            self._last_incoming[(int(message["chat"]["id"]), user_id)] = message["message_id"]
        return message

    def _known_message(self, chat: JSON, message_id: int) -> JSON:
        with self._cond:
            known = self._messages.get((chat["id"], message_id))
        if known is not None:
            return copy.deepcopy(known)
        return {
            "message_id": message_id,
            "from": self.bot_user(),
            "chat": chat,
            "date": int(time.time()) - 5,
            "text": "…",
        }

    # -- HTTP handling ---------------------------------------------------------------------------

    def _changed(self) -> None:
        self._version += 1
        self._cond.notify_all()

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._changed()

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        try:
            status, payload = self._answer(request)
        except Exception as exc:  # never let the server thread die on a bug
            status = 500
            payload = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: {exc!r}",
            }
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        except OSError:  # the client went away
            pass

    @staticmethod
    def _read_body(request: BaseHTTPRequestHandler) -> bytes:
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(request.rfile.readline().split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while request.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(request.rfile.read(size))
                request.rfile.readline()
        length = int(request.headers.get("Content-Length") or 0)
        return request.rfile.read(length) if length > 0 else b""

    def _answer(self, request: BaseHTTPRequestHandler) -> tuple[int, JSON]:
        at = time.monotonic()
        url = urlsplit(request.path)
        match = _PATH_RE.fullmatch(url.path)
        if match is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        method = _CANONICAL.get(match["method"].lower(), match["method"])
        try:
            body = self._read_body(request)
            params, files, filenames = _parse_request(
                request.headers.get("Content-Type", ""), body, url.query
            )
        except (_BadRequest, ValueError) as exc:
            self._record(Call(method, {}, {}, at, failed=True))
            return _error(400, f"Bad Request: {exc}")
        call = Call(method, params, files, at, filenames=filenames)
        if match["token"] != self.token:
            call.failed = True
            self._record(call)
            return _error(401, "Unauthorized")
        return self.handle(call)

    def handle(self, call: Call) -> tuple[int, JSON]:
        """Answer one parsed call as the Bot API would; used by the HTTP server and by
        `StandInRequest` (handler-level tests without HTTP)."""
        method, params, files, filenames = call.method, call.params, call.files, call.filenames
        with self._cond:
            queue = self._failures.get(method)
            failure = queue.popleft() if queue else False
            forbidden = params.get("chat_id") in self._forbidden
        if failure is False and forbidden:
            call.failed = True
            self._record(call)
            return _error(403, "Forbidden: bot can't initiate conversation with a user")
        if failure is not False:
            call.failed = True
            self._record(call)
            if failure is None:
                return _error(502, "Bad Gateway")
            return _error(
                429,
                f"Too Many Requests: retry after {failure}",
                parameters={"retry_after": failure},
            )
        try:
            result = self._result(method, params, files, filenames)
        except _BadRequest as exc:
            call.failed = True
            self._record(call)
            return _error(400, f"Bad Request: {exc}")
        self._record(call)
        return 200, {"ok": True, "result": result}

    def _result(
        self, method: str, params: JSON, files: dict[str, bytes], filenames: dict[str, str]
    ) -> Any:
        match method:
            case "getUpdates":
                return self._get_updates(params)
            case "getMe":
                return {
                    **self.bot_user(),
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                    "can_connect_to_business": False,
                    "has_main_web_app": False,
                }
            case "sendMessage":
                text = params.get("text")
                if not isinstance(text, str) or not text:
                    raise _BadRequest("message text is empty")
                message = self._outgoing(params)
                _set_text(message, params)
                return self._store(message)
            case "editMessageText" | "editMessageReplyMarkup":
                return self._edit(method, params)
            case "sendDocument":
                return self._send_document(params, files, filenames)
            case "sendPhoto":
                return self._send_photo(params, files)
            case "setMyCommands":
                commands = params.get("commands")
                if not isinstance(commands, list):
                    raise _BadRequest("commands must be a list")
                with self._cond:
                    self._commands[_commands_key(params)] = commands
                return True
            case "deleteMyCommands":
                with self._cond:
                    self._commands.pop(_commands_key(params), None)
                return True
            case "getMyCommands":
                with self._cond:
                    return copy.deepcopy(self._commands.get(_commands_key(params), []))
            case "deleteWebhook":
                if params.get("drop_pending_updates") is True:
                    with self._cond:
                        self._updates.clear()
                return True
            case "getWebhookInfo":
                with self._cond:
                    pending = len(self._updates)
                return {
                    "url": "",
                    "has_custom_certificate": False,
                    "pending_update_count": pending,
                }
            case "getChat":
                return self._chat_full_info(params)
            case "getFile":
                file_id = str(params.get("file_id") or "")
                if not file_id:
                    raise _BadRequest("file_id is empty")
                return {
                    "file_id": file_id,
                    "file_unique_id": f"U{zlib.crc32(file_id.encode()):08x}",
                    "file_size": 1024,
                    "file_path": f"documents/{file_id}",
                }
            case _:
                # sendChatAction, answerCallbackQuery, deleteMessage, setWebhook, close, logOut
                # and unknown methods.
                return True

    def _get_updates(self, params: JSON) -> list[JSON]:
        offset = _as_int(params, "offset", 0)
        limit = max(1, min(100, _as_int(params, "limit", 100)))
        wait = min(max(float(_as_int(params, "timeout", 0)), 0.0), _MAX_POLL_WAIT)
        with self._cond:
            releases = self._releases
            while self._held is not None and offset > self._held and not self._stopping:
                self._cond.wait()
            if self._releases != releases:
                raise _BadRequest("held, then let go")
            deadline = time.monotonic() + wait
            self._confirm(offset)
            while not self._updates and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
                self._confirm(offset)
            return copy.deepcopy(self._updates[:limit])

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by ``offset`` (Telegram semantics, incl. negative offsets)."""
        if offset < 0:
            del self._updates[: max(0, len(self._updates) + offset)]
        elif offset > 0:
            self._updates[:] = [u for u in self._updates if int(u["update_id"]) >= offset]

    def _chat(self, chat_id: Any) -> JSON:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            return {"id": _SUPERGROUP_LIMIT - 1, "type": "channel", "username": chat_id[1:]}
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise _BadRequest("chat not found" if chat_id is not None else "chat_id is empty")
        with self._cond:
            known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Sanne"}
        if chat_id <= _SUPERGROUP_LIMIT:
            return {"id": chat_id, "type": "supergroup", "title": "Testgroep"}
        return {"id": chat_id, "type": "group", "title": "Testgroep"}

    def _chat_full_info(self, params: JSON) -> JSON:
        chat = self._chat(params.get("chat_id"))
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _outgoing(self, params: JSON) -> JSON:
        message: JSON = {
            "message_id": self._new_message_id(),
            "from": self.bot_user(),
            "chat": self._chat(params.get("chat_id")),
            "date": int(time.time()),
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _store(self, message: JSON) -> JSON:
        with self._cond:
            self._messages[(message["chat"]["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _edit(self, method: str, params: JSON) -> Any:
        if method == "editMessageText":
            text = params.get("text")
            if not isinstance(text, str) or not text:
                raise _BadRequest("message text is empty")
        if params.get("inline_message_id"):
            return True
        chat = self._chat(params.get("chat_id"))
        message_id = _as_int(params, "message_id")
        message = self._known_message(chat, message_id)
        message["edit_date"] = int(time.time())
        if method == "editMessageText":
            message.pop("entities", None)
            _set_text(message, params)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        elif method == "editMessageReplyMarkup" or "reply_markup" not in params:
            message.pop("reply_markup", None)
        return self._store(message)

    def _send_document(
        self, params: JSON, files: dict[str, bytes], filenames: dict[str, str]
    ) -> JSON:
        message = self._outgoing(params)
        n = message["message_id"]
        document: JSON = {"file_id": f"BQACAgQAAxkDAAI{n}", "file_unique_id": f"AgAD{n}"}
        if "document" in files:
            document["file_name"] = filenames.get("document", "document")
            document["file_size"] = len(files["document"])
            mime_type = mimetypes.guess_type(document["file_name"])[0]
            document["mime_type"] = mime_type or "application/octet-stream"
        elif isinstance(params.get("document"), str) and params["document"]:
            document["file_id"] = params["document"]
        else:
            raise _BadRequest("there is no document in the request")
        message["document"] = document
        if params.get("caption"):
            message["caption"] = params["caption"]
        return self._store(message)

    def _send_photo(self, params: JSON, files: dict[str, bytes]) -> JSON:
        message = self._outgoing(params)
        n = message["message_id"]
        if "photo" not in files and not (isinstance(params.get("photo"), str) and params["photo"]):
            raise _BadRequest("there is no photo in the request")
        size = len(files.get("photo", b"")) or 52170
        message["photo"] = [
            {
                "file_id": f"AgACAgQAAxkDAAI{n}s",
                "file_unique_id": f"AQAD{n}s",
                "width": 90,
                "height": 90,
                "file_size": min(size, 1311),
            },
            {
                "file_id": f"AgACAgQAAxkDAAI{n}m",
                "file_unique_id": f"AQAD{n}m",
                "width": 800,
                "height": 800,
                "file_size": size,
            },
        ]
        if params.get("caption"):
            message["caption"] = params["caption"]
        return self._store(message)


# HTML tags Telegram reads in a text sent with parse_mode HTML, and the entity each makes.
_ENTITY_OF_TAG = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
}


class _EntityParser(HTMLParser):
    """HTML as Telegram reads it: the plain text, and its entities with offsets and lengths
    in UTF-16 code units."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.entities: list[JSON] = []
        self._open: list[tuple[str, int, JSON]] = []

    def _at(self) -> int:
        return len(self.text.encode("utf-16-le")) // 2

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ENTITY_OF_TAG:
            raise _BadRequest(f"can't parse entities: unsupported start tag {tag!r}")
        entity: JSON = {"type": _ENTITY_OF_TAG[tag]}
        if tag == "a":
            entity["url"] = dict(attrs).get("href") or ""
        self._open.append((tag, self._at(), entity))

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            raise _BadRequest(f"can't parse entities: unexpected end tag {tag!r}")
        _, offset, entity = self._open.pop()
        if self._at() > offset:
            self.entities.append({**entity, "offset": offset, "length": self._at() - offset})

    def handle_data(self, data: str) -> None:
        self.text += data


def _set_text(message: JSON, params: JSON) -> None:
    """The text of a message sent or edited: with parse_mode HTML, stored the way Telegram
    keeps it (plain text and entities), so a client reading it back sees what Telegram
    would give."""
    text = params["text"]
    if str(params.get("parse_mode", "")).upper() == "HTML":
        parser = _EntityParser()
        parser.feed(text)
        parser.close()
        if parser._open:
            raise _BadRequest("can't parse entities: unclosed tag")
        message["text"] = parser.text
        entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
        if entities:
            message["entities"] = entities
        return
    message["text"] = text
    if params.get("entities"):
        message["entities"] = params["entities"]


def _error(code: int, description: str, **extra: Any) -> tuple[int, JSON]:
    return code, {"ok": False, "error_code": code, "description": description, **extra}


def _commands_key(params: JSON) -> str:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)
