"""The JSON-lines protocol: one JSON object per input line, one per output line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from bot.local import Item, LocalChat, WrittenDocument
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
        }
    if isinstance(item, Error):
        return {"type": "error", "text": item.text}
    if isinstance(item, Message):
        return {"type": "message", "text": item.text}
    if isinstance(item, WrittenDocument):
        return {"type": "document", "format": item.format, "path": str(item.path)}
    if isinstance(item, Done):
        return {"type": "done"}
    raise TypeError(f"cannot encode {item!r}")


def decode(line: str) -> str | None:
    """The text of one input line, or None if the line is not `{"text": "..."}`."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return None
    return data["text"]


def run_jsonl(chat: LocalChat, spec: Interview, stdin: TextIO, stdout: TextIO) -> int:
    def emit(items: Iterable[Item]) -> None:
        for item in items:
            stdout.write(json.dumps(encode(item), ensure_ascii=False) + "\n")
        stdout.flush()

    emit(chat.begin())
    for line in stdin:
        if not line.strip():
            continue
        text = decode(line)
        if text is None:
            emit([Error(spec.message("jsonl_ongeldig")), *chat.repeat()])
            continue
        items, stopped = chat.send(text)
        emit(items)
        if stopped:
            break
    return 0
