"""The JSON-lines protocol: one JSON object per input line, one per output line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, BinaryIO, TextIO

from bot.local import Item, LocalChat, PlanDocument, PlanFile, is_text
from dialogs import Done, Error, Interview, Message, Question


def encode(item: Item) -> dict[str, Any]:
    if isinstance(item, Question):
        return {
            "type": "question",
            "field": item.field,
            "kind": item.kind,
            "text": item.text,
            "help": list(item.help),
            "choices": list(item.choices),
            "max": item.max,
            "required": item.required,
            "step": item.step,
            "steps": item.steps,
            "step_name": item.step_name,
            "intro": item.intro,
            "current": item.current,
            "part": item.part,
            "skip_rest": item.skip_rest,
        }
    if isinstance(item, Error):
        return {"type": "error", "text": item.text}
    if isinstance(item, Message):
        return {"type": "message", "text": item.text}
    if isinstance(item, PlanDocument):
        path = None if item.path is None else str(item.path)
        return {
            "type": "document",
            "format": item.format,
            "text": item.text,
            "path": path,
            "also": list(item.also),
        }
    if isinstance(item, PlanFile):
        return {"type": "file", "format": item.format, "path": str(item.path)}
    if isinstance(item, Done):
        return {"type": "done"}
    raise TypeError(f"cannot encode {item!r}")


class Unreadable(Exception):
    """An input line that is not `{"text": "..."}` in UTF-8; `key` names the message to send."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def decode(line: bytes) -> str:
    """The text of one raw input line; raises Unreadable if there is none to be read."""
    try:
        data = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Unreadable("jsonl_geen_utf8") from exc
    except (ValueError, RecursionError) as exc:
        # RecursionError: deeply nested brackets exhaust the decoder's stack.
        raise Unreadable("jsonl_ongeldig") from exc
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise Unreadable("jsonl_ongeldig")
    text: str = data["text"]
    if not is_text(text):
        # JSON can escape a lone surrogate (\ud800).
        raise Unreadable("jsonl_ongeldig_teken")
    return text


def run_jsonl(chat: LocalChat, spec: Interview, stdin: BinaryIO, stdout: TextIO) -> int:
    """Answer lines until `stop` or the end of input; the exit code.

    `stdin` is read as bytes so that a line that is not UTF-8 is refused on its own instead of
    ending the loop.
    """

    def emit(items: Iterable[Item]) -> None:
        for item in items:
            stdout.write(json.dumps(encode(item), ensure_ascii=False) + "\n")
        stdout.flush()

    emit(chat.begin())
    for line in stdin:
        if not line.strip():
            continue
        try:
            text = decode(line)
        except Unreadable as exc:
            emit([Error(spec.message(exc.key)), *chat.repeat()])
            continue
        items, stopped = chat.send(text)
        emit(items)
        if stopped:
            break
    return 0
