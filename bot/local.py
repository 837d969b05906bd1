"""What the terminal and the JSON-lines front ends share: one plan, driven line by line."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.bootstrap import App
from bot.service import Turn
from dialogs import Document, Error, Message, Reply, Text


@dataclass(frozen=True)
class PlanDocument:
    """The plan rendered for the front end to show; also written to `path` if the user chose
    one (nothing is written anywhere else: the plan on disk is only where they put it)."""

    format: str
    text: str
    path: Path | None = None


Item = Reply | PlanDocument


class LocalChat:
    """A plan opened from this machine; answers are recorded with `author`, and the plan
    document goes to `document` if given."""

    def __init__(
        self,
        app: App,
        household: str,
        *,
        author: str,
        new: bool = False,
        document: Path | None = None,
    ) -> None:
        self.app = app
        self.household = household
        self.author = author
        self.new = new
        self.document = document
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
        if not is_text(text):
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
                items += self._document(reply.format, turn)
            else:
                items.append(reply)
        return items

    def _document(self, fmt: str, turn: Turn) -> list[Item]:
        if fmt != "md":
            raise ValueError(f"no renderer for format {fmt!r}")
        text = self.app.renderer.markdown(turn.household, turn.answers, date.today())
        if self.document is None:
            return [PlanDocument(fmt, text)]
        try:
            write_private(self.document, text.encode("utf-8"))
        except OSError as exc:
            # Shown all the same; the answers are stored whatever happens to the file.
            reason = exc.strerror or type(exc).__name__
            failed = self.app.dialog.spec.message(
                "document_niet_geschreven", pad=self.document, reden=reason
            )
            return [PlanDocument(fmt, text), Message(failed)]
        return [PlanDocument(fmt, text, self.document)]


def write_private(path: Path, content: bytes) -> None:
    """Write `content` to `path`, replacing it atomically, readable by its owner only.

    mkstemp creates the temporary file with mode 0600 (os.open, O_EXCL), so the plan is never
    readable by others, not even for a moment; the file that was there is replaced, not
    chmod-ed.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def is_text(text: str) -> bool:
    """False if `text` holds a lone surrogate, which no store or output can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
