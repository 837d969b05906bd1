"""What the terminal and the JSON-lines front ends share: one plan, driven line by line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.bootstrap import App
from bot.service import Turn
from dialogs import Document, Error, Message, Reply, Text


@dataclass(frozen=True)
class WrittenDocument:
    """A document the front end has rendered and written to disk."""

    format: str
    path: Path


Item = Reply | WrittenDocument


class LocalChat:
    """A plan opened from this machine; answers are recorded with `author`."""

    def __init__(self, app: App, household: str, *, author: str, new: bool = False) -> None:
        self.app = app
        self.household = household
        self.author = author
        self.new = new
        self.plan_id: int | None = None

    def begin(self) -> list[Item]:
        turn = self.app.service.open(self.household, owner=self.author, new=self.new)
        self.plan_id = turn.plan_id
        return self._items(turn)

    def repeat(self) -> list[Item]:
        """The question the plan is at, asked again (after input that could not be read)."""
        assert self.plan_id is not None, "begin() first"
        turn = self.app.service.open_plan(self.plan_id, owner=self.author)
        return [] if turn is None else self._items(turn)

    def send(self, text: str) -> tuple[list[Item], bool]:
        assert self.plan_id is not None, "begin() first"
        if not _is_text(text):
            # Bytes that were not UTF-8 (the terminal decodes with surrogateescape).
            error = Error(self.app.dialog.spec.message("invoer_geen_utf8"))
            return [error, *self.repeat()], False
        turn = self.app.service.handle(self.plan_id, Text(text), author=self.author)
        return self._items(turn), turn.outcome.stopped

    def _items(self, turn: Turn) -> list[Item]:
        items: list[Item] = []
        for reply in turn.outcome.replies:
            if isinstance(reply, Document) and reply.format == "text":
                items.append(Message(self.app.renderer.message(reply.part, turn.answers)))
            elif isinstance(reply, Document):
                items.append(self._write(reply.format, turn))
            else:
                items.append(reply)
        return items

    def _write(self, fmt: str, turn: Turn) -> WrittenDocument:
        if fmt != "md":
            raise ValueError(f"no renderer for format {fmt!r}")
        text = self.app.renderer.markdown(turn.household, turn.answers, date.today())
        directory = self.app.settings.resolved_export_dir
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"doorbraakplan-{turn.household}.md"
        tmp = path.with_suffix(".md.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        return WrittenDocument(fmt, path)


def _is_text(text: str) -> bool:
    """False if `text` holds a lone surrogate, which no store or output can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
