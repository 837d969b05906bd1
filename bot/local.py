"""What the terminal and the JSON-lines front ends share: one plan, driven line by line."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.access import EXPORTED
from bot.actions import day_text, listing, reminder_times
from bot.bootstrap import App
from bot.course import course_word, run_word
from bot.escalations import LocalLadder
from bot.evaluations import is_evaluation
from bot.service import PlanFinished, Turn
from dialogs import (
    Command,
    Document,
    Done,
    Error,
    Message,
    Question,
    Reply,
    Summary,
    Text,
    noted_open,
)
from dialogs.answers import match_choice
from dialogs.spec import Field, Kind

# The field names of the two questions about a finished plan, asked before it is opened; they
# are not fields of the interview (see docs/protocol.md).
FINISHED_CHOICE = "plan_af"
RENEW_CONFIRM = "plan_af_nieuw"
# The finished plan's choices, in the order shown: look at it, change a step, start anew.
VIEW, CHANGE, RENEW = 1, 2, 3


@dataclass(frozen=True)
class PlanDocument:
    """The plan rendered for the front end to show; also written to `path` if the user chose
    one (nothing is written anywhere else: the plan on disk is only where they put it).
    `also`: the formats that can be asked for next to it (the Word file, with `word`)."""

    format: str
    text: str
    path: Path | None = None
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanFile:
    """The plan as a file asked for (`word`), written to `path`, next to the chosen one."""

    format: str
    path: Path


Item = Reply | PlanDocument | PlanFile

# Formats a user can ask for next to the plan document, only with --document (so that the
# file goes next to a file they chose).
ON_REQUEST = ("docx",)


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
        # The household's plan is finished and the user has not chosen yet what to do with
        # it; `confirming` while a new plan waits for a yes.
        self.finished: PlanFinished | None = None
        self.confirming = False
        # The escalatieladder: `opschalen`, `uitkomst`, and the plan's proposals.
        self.ladder = LocalLadder(app.escalations, author)

    def begin(self) -> list[Item]:
        try:
            turn = self.app.service.open(
                self.household, actor=self.author, new=self.new, ask_if_finished=not self.new
            )
        except PlanFinished as finished:
            # Opening a finished plan must not change it, and starting anew must be a choice.
            self.finished = finished
            self.plan_id = finished.plan_id
            return [*self.ladder.proposals(self.plan_id), self._finished_question()]
        self.plan_id = turn.plan_id
        return [*self.ladder.proposals(self.plan_id), *self._items(turn)]

    def repeat(self) -> list[Item]:
        """The question the plan is at, asked again (after input that could not be read)."""
        assert self.plan_id is not None, "begin() first"
        if self.finished is not None:
            return [self._finished_question(confirm=self.confirming)]
        turn = self.app.service.open_plan(self.plan_id, actor=self.author)
        return [] if turn is None else self._items(turn)

    def send(self, text: str) -> tuple[list[Item], bool]:
        assert self.plan_id is not None, "begin() first"
        if not is_text(text):
            # Bytes that were not UTF-8 (the terminal decodes with surrogateescape).
            error = Error(self.app.dialog.spec.message("invoer_geen_utf8"))
            return [error, *self.repeat()], False
        if self._asks_actions(text):
            actions = self.app.actions.of_plan(self.plan_id)
            shown = Message(listing(self.app.dialog.spec, actions, self.household))
            return [shown, *self.repeat()], False
        proposed = self.ladder.proposals(self.plan_id)
        reminders = self._reminders(text)
        if reminders is not None:
            return [*proposed, Message(reminders), *self.repeat()], False
        shared = self.app.consent.word(self.plan_id, text, actor=self.author)
        if shared is not None:
            return [*proposed, Message(shared), *self.repeat()], False
        said = self._course(text)
        if said is not None:
            return [*proposed, *said, *self.repeat()], False
        ladder = self.ladder.handle(self.plan_id, text, free=self.finished is not None)
        if ladder is not None:
            again = [] if self.ladder.asking else self.repeat()
            return [*proposed, *ladder, *again], False
        if _is_word(text, self.app.dialog.spec.commands):
            return [*proposed, *self._word()], False
        if self.finished is not None and is_evaluation(self.app.dialog.spec, Text(text)):
            # `evaluatie` on a finished plan not opened: the evaluation is a turn on it.
            self.finished, self.confirming = None, False
        if self.finished is not None:
            items, stopped = self._choose(text)
            return [*proposed, *items], stopped
        turn = self.app.service.handle(self.plan_id, Text(text), author=self.author)
        return [*proposed, *self._items(turn)], turn.outcome.stopped

    def _asks_actions(self, text: str) -> bool:
        """`acties` (or `/acties`): the plan's actions, in every front end of the interview."""
        words = self.app.dialog.spec.commands.get("acties", ())
        return text.strip().lower().lstrip("/") in words

    def _course(self, text: str) -> list[Item] | None:
        """The plan's course (indienen, besluit, uitgevoerd, verloop), the contacts and the
        budget: command words in every front end of the interview."""
        spec = self.app.dialog.spec
        found = course_word(spec, text)
        if found is None:
            return None
        name, arg = found
        said = run_word(
            self.app.course, name, arg, self.plan_id, actor=self.author, who=self._who()
        )
        items: list[Item] = [Message(said.text)]
        if said.propose is not None:
            items.append(Message(spec.message("uitgevoerd_voorstel")))
        return items

    def _who(self) -> str:
        """Who records a step here, as the plan's history shows it: the professional by the
        name in the plan (a terminal has no registered name), else the terminal's actor."""
        found = self.app.service.plan(self.plan_id) if self.plan_id is not None else None
        name = str(found[0].answers.get("plan.professional") or "") if found else ""
        return name or self.author

    def _reminders(self, text: str) -> str | None:
        """`herinneringen [uit|aan]`: the reminders about this plan, shown or switched (the
        terminal has no professional of its own; whoever gets them in Telegram, does not)."""
        assert self.plan_id is not None
        spec, actions = self.app.dialog.spec, self.app.actions
        words = text.strip().lower().lstrip("/").split(maxsplit=1)
        if not words or words[0] not in spec.commands.get("herinneringen", ()):
            return None
        arg = words[1].strip() if len(words) > 1 else ""
        off, on = (
            spec.commands.get("herinneringen_uit", ()),
            spec.commands.get("herinneringen_aan", ()),
        )
        if arg and arg not in off and arg not in on:
            return None  # an answer that starts with the word
        if arg in off:
            actions.switch_plan_reminders(self.plan_id, on=False, actor=self.author)
            return spec.message("herinneringen_plan_nu_uit", huishouden=self.household)
        if arg in on:
            actions.switch_plan_reminders(self.plan_id, on=True, actor=self.author)
            return spec.message("herinneringen_plan_nu_aan", huishouden=self.household)
        since = actions.plan_reminders_off_since(self.plan_id)
        if since is None:
            state = spec.message("herinneringen_plan_aan", huishouden=self.household)
        else:
            day = day_text(since)
            state = spec.message("herinneringen_plan_uit", huishouden=self.household, datum=day)
        return "\n".join((state, reminder_times(spec, self.app.settings, slash=False)))

    # --- the plan as a Word file, on request -------------------------------------------------

    def _word(self) -> list[Item]:
        """`word`: the plan as a Word file next to the --document file, then what `plan`
        gives after its document (the question the plan is at, if any)."""
        assert self.plan_id is not None
        spec = self.app.dialog.spec
        if self.document is None:
            refused = Message(spec.message("word_zonder_pad", huishouden=self.household))
            return [refused, *self.repeat()]
        if self.finished is not None:
            # A finished plan not opened: the file of the plan as it is, then the same choice.
            found = self.app.service.plan(self.plan_id)
            rest: list[Item] = [self._finished_question(confirm=self.confirming)]
        else:
            turn = self.app.service.handle(self.plan_id, Command("plan"), author=self.author)
            found = self.app.service.plan(self.plan_id)
            rest = [r for r in turn.outcome.replies if not isinstance(r, Document)]
        if found is None:  # pragma: no cover - the plan of an open chat is never gone here
            return rest
        record = found[0]
        path = word_path(self.document)
        content = self.app.renderer.render(
            "docx",
            record.household,
            record.answers,
            date.today(),
            noted_open(record.data),
            self.app.after(record.id, record.data),
        )
        self.app.access.record(self.author, EXPORTED, record.id, "docx")
        try:
            write_private(path, content)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            failed = spec.message("word_niet_geschreven", pad=path, reden=reason)
            return [Error(failed), *rest]
        return [PlanFile("docx", path), *rest]

    # --- a finished plan: look at it, change it, or start a new one --------------------------

    def _finished_question(self, *, confirm: bool = False) -> Question:
        assert self.finished is not None
        spec = self.app.dialog.spec
        if confirm:
            text = spec.message("terminal_nieuw_plan_vraag", huishouden=self.household)
            keys: tuple[str, ...] = ("nieuw_plan_ja", "nieuw_plan_nee")
        else:
            text = spec.message("plan_af", huishouden=self.household)
            keys = ("plan_af_bekijken", "plan_af_wijzigen", "plan_af_nieuw")
        return Question(
            field=RENEW_CONFIRM if confirm else FINISHED_CHOICE,
            kind="choice",
            text=text,
            help=(),
            choices=tuple(spec.message(key) for key in keys),
            max=None,
            required=True,
            # Step 0: a question about the plan, asked before it is opened, in no step.
            step=0,
            steps=len(spec.steps),
            step_name="",
            revision=self.finished.revision,
        )

    def _choose(self, text: str) -> tuple[list[Item], bool]:
        assert self.finished is not None and self.plan_id is not None
        spec = self.app.dialog.spec
        question = self._finished_question(confirm=self.confirming)
        if text.strip().lower() in spec.commands["stop"]:
            return [Message(spec.message("gepauzeerd")), Done()], True
        picked = _pick(text, question, spec.commands)
        if picked is None:
            keuzes = ", ".join(f"{n}. {c}" for n, c in enumerate(question.choices, 1))
            return [Error(spec.message("geen_keuze", keuzes=keuzes)), question], False
        if self.confirming:
            self.confirming = False
            if picked != 1:
                return [Message(spec.message("nieuw_plan_niet")), self._finished_question()], False
            turn = self.app.service.renew(
                self.plan_id, actor=self.author, revision=self.finished.revision
            )
            if turn is None:  # changed meanwhile, say by another front end: look again
                self.finished = None
                return self.begin(), False
            self.finished, self.plan_id = None, turn.plan_id
            intro = Message(spec.message("nieuw_plan", huishouden=self.household))
            return [intro, *self._items(turn)], False
        if picked == RENEW:
            self.confirming = True
            return [self._finished_question(confirm=True)], False
        if picked == VIEW:
            seen = self.app.service.view(self.plan_id, actor=self.author)
            items = [] if seen is None else self._items(seen)
            return [*items, self._finished_question()], False
        turn = self.app.service.open_plan(self.plan_id, actor=self.author)
        self.finished = None
        return ([] if turn is None else self._items(turn)), False

    def _items(self, turn: Turn) -> list[Item]:
        items: list[Item] = []
        for reply in turn.outcome.replies:
            if isinstance(reply, Summary):
                items.append(Message(self.app.renderer.message(reply.part, turn.answers)))
            elif isinstance(reply, Document):
                items += self._document(reply.format, turn)
            else:
                items.append(reply)
        return items

    def _document(self, fmt: str, turn: Turn) -> list[Item]:
        if fmt != "md":
            raise ValueError(f"no renderer for format {fmt!r}")
        text = self.app.renderer.markdown(
            turn.household,
            turn.answers,
            date.today(),
            noted_open(turn.outcome.data),
            self.app.after(turn.plan_id, turn.outcome.data),
        )
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
            return [PlanDocument(fmt, text, also=ON_REQUEST), Message(failed)]
        return [PlanDocument(fmt, text, self.document, ON_REQUEST)]


def word_path(document: Path) -> Path:
    """Where `word` writes the Word file: next to the plan document, named after it."""
    if document.suffix.lower() == ".docx":  # the Markdown went there: never overwrite it
        return document.with_name(f"{document.name}.docx")
    return document.with_suffix(".docx")


def _is_word(text: str, commands: Mapping[str, tuple[str, ...]]) -> bool:
    return text.strip().lstrip("/").lower() in commands.get("word", ())


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


def _pick(text: str, question: Question, yes_no: Mapping[str, tuple[str, ...]]) -> int | None:
    """The 1-based choice that `text` names, read like every other choice (dialogs.answers):
    its number, its label with a small typo, or a word of four letters or more that only its
    label has (`bekijken`, `nieuw`); for a yes/no, the dialog's words for ja and nee too.
    None if unsure."""
    labels = question.choices
    words = [set(re.findall(r"\w+", label.lower())) for label in labels]
    synonyms = {
        word: label
        for label, own in zip(labels, words, strict=True)
        for word in own
        if len(word) >= 4 and sum(word in other for other in words) == 1
    }
    if len(labels) == 2:
        for label, key in zip(labels, ("ja", "nee"), strict=True):
            synonyms.update(dict.fromkeys(yes_no.get(key, ()), label))
    menu = Field(
        key=question.field,
        kind=Kind.CHOICE,
        text=question.text,
        choices=labels,
        synonyms=tuple(synonyms.items()),
    )
    chosen = match_choice(menu, text)
    return None if chosen is None else labels.index(chosen) + 1


def is_text(text: str) -> bool:
    """False if `text` holds a lone surrogate, which no store or output can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
