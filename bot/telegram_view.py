"""Dialog replies as Telegram messages: HTML text, inline keyboards, callback data, splitting."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from dialogs import Interview, Question
from dialogs.display import progress as step_progress

MAX_MESSAGE = 4096
MAX_CALLBACK_DATA = 64

# Callback data: `<action>|<plan id>|<revision>|<value>`. The revision identifies the
# question a button belongs to: a press on a button of an older question is refused. What
# the value means depends on the action: read it through `choice`, `answer`, `rest` or
# `message_id`.
CHOOSE, SUBMIT, SKIP, RESUME = "c", "k", "s", "h"
# Keep the current answer of a question asked again (after /terug or /wijzig): the dialog
# hears `overslaan`, which keeps an answered question's answer; only the trace differs.
KEEP = "g"
# SKIP's value: 0 passes over the one question, SKIP_REST the optional rest of the step
# (the dialog hears `verder`).
SKIP_REST = 1
# /verwijder's confirmation (answer DELETE_YES or DELETE_NO), and deleting a plan's
# messages from the chat (message_id: the message that carries the button).
DELETE, FORGET = "v", "x"
DELETE_NO, DELETE_YES = 0, 1
# A finished or archived plan: look at it, change it, or start a new one (answer RENEW_ASK:
# ask to confirm, RENEW_YES / RENEW_NO: the answer).
VIEW, CHANGE, RENEW = "b", "w", "n"
RENEW_ASK, RENEW_YES, RENEW_NO = 0, 1, 2
# The wall poster of a plan (bot.telegram.poster), asked for in a private chat.
POSTER = "p"
# Opvolging (bot.telegram.acties): an action, whose id stands in the plan id's place, and a
# plan's evaluation reminder. The value: FOLLOW_DONE, FOLLOW_ASK (which new date?), or a
# new date as one of the choices that bot.telegram.acties numbers from FOLLOW_ASK + 1.
ACT, EVAL = "a", "e"
FOLLOW_DONE, FOLLOW_ASK = 0, 1
# EVAL's value for "Evaluatie starten": the evaluation interview in this chat.
FOLLOW_EVALUATE = 9
# An action's owner (bot.telegram.acties): OWN_ASK lists the team's colleagues, OWN_SET
# makes the one whose professional id stands in the revision's place the owner, OWN_NOBODY
# leaves only the wie as typed.
OWN = "r"
OWN_ASK, OWN_SET, OWN_NOBODY = 0, 1, 2
# A file of the plan on request, under the PDF it belongs to (revision: the plan's revision
# when the PDF was made; value: the index of the format in ON_REQUEST).
WORD = "d"
ON_REQUEST = ("docx", "png")
# The plan's course (bot.telegram.verloop): indienen, a decision (value: 1 + its index in
# dialogs.status.DECISIONS), uitgevoerd.
SUBMIT_PLAN, DECIDE, EXECUTE = "i", "o", "u"
# The escalatieladder (bot.telegram.ladder): a proposal or an escalation, whose id stands in
# the plan id's place. The value: LADDER_UP or LADDER_NO under a proposal, or
# LADDER_OUTCOME + the outcome's place in storage.escalations.OUTCOMES under an escalation.
LADDER = "l"
LADDER_UP, LADDER_NO, LADDER_OUTCOME = 0, 1, 2
# A lesson's Gedaan (bot.telegram.lessen): the lesson's id in the plan id's place.
LESSON = "j"
# Whether the plan's texts go into the team's reflectiesessie material (bot.telegram.delen);
# the value: the choice the button makes.
SHARE = "m"
ACTIONS = (
    CHOOSE, SUBMIT, SKIP, KEEP, RESUME, DELETE, FORGET, VIEW, CHANGE, RENEW, POSTER, ACT, EVAL,
    WORD, SUBMIT_PLAN, DECIDE, EXECUTE, LADDER, OWN, LESSON, SHARE,
)  # fmt: skip
# Callback data comes from the client and can be forged: every number is checked against
# the range it can have before anything is done with it. Plan ids and revisions are 32-bit
# integer columns; message ids and choice indexes are 32-bit in the Bot API as well.
MAX_ID = 2**31 - 1
# The mark before a ticked option of a multiple choice.
TICK = "✅ "
_NUMBER = re.compile(r"(0|[1-9][0-9]{0,9})")


@dataclass(frozen=True)
class Button:
    action: str
    plan_id: int
    revision: int = 0
    # One number whose meaning depends on the action; the properties below name it.
    value: int = 0

    @property
    def choice(self) -> int:
        """CHOOSE: the index of the choice pressed."""
        return self.value

    @property
    def answer(self) -> int:
        """DELETE and RENEW: the answer to a confirmation (DELETE_* / RENEW_*)."""
        return self.value

    @property
    def rest(self) -> bool:
        """SKIP: whether the optional rest of the step is passed over, not one question."""
        return self.value == SKIP_REST

    @property
    def action_id(self) -> int:
        """ACT: the action's id, in the plan id's place."""
        return self.plan_id

    @property
    def message_id(self) -> int:
        """FORGET: the id of the message that carries the button."""
        return self.value

    def encode(self) -> str:
        data = f"{self.action}|{self.plan_id}|{self.revision}|{self.value}"
        if len(data.encode()) > MAX_CALLBACK_DATA:  # pragma: no cover - ids are far smaller
            raise ValueError("callback data too long")
        return data

    @classmethod
    def decode(cls, data: str | None) -> Button | None:
        """The button, or None if the data is not one we could have made."""
        parts = (data or "")[:MAX_CALLBACK_DATA].split("|")
        if len(parts) != 4 or parts[0] not in ACTIONS:
            return None
        # Plain ASCII digits only: int() also takes signs, spaces, `_` and other scripts.
        if not all(_NUMBER.fullmatch(part) for part in parts[1:]):
            return None
        plan_id, revision, value = (int(part) for part in parts[1:])
        if not 1 <= plan_id <= MAX_ID or revision > MAX_ID or value > MAX_ID:
            return None
        return cls(parts[0], plan_id, revision, value)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def question_html(q: Question, spec: Interview, ideas: Sequence[str] = ()) -> str:
    """A question with its progress, the step's intro, help and the current answer."""
    progress = step_progress(spec, q)
    parts = [f"<b>{esc(progress)}</b>"]
    if q.intro:
        parts.append(f"<i>{esc(q.intro)}</i>")
    mark = spec.message(q.mark)
    parts.append(f"<b>{esc(q.text)}</b> {esc(mark)}")
    if q.help:
        parts.append("\n".join(f"• {esc(h)}" for h in q.help))
    if q.ticks:
        key = "telegram_vink_aan" if q.limited else "telegram_vink_aan_vrij"
        parts.append(esc(spec.message(key, max=q.max)))
    if q.current is not None:
        parts.append(esc(spec.message("huidig_antwoord", antwoord=q.current)))
    if ideas:
        lines = [esc(spec.message("telegram_ideeen_kop"))]
        lines += [f"💡 {esc(idea)}" for idea in ideas]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def pressed_label(markup: InlineKeyboardMarkup | None, data: str | None) -> str | None:
    """The label of the button with callback `data` in a message's keyboard, if it has one."""
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            if data is not None and button.callback_data == data:
                return button.text
    return None


def ticked_labels(markup: InlineKeyboardMarkup | None) -> list[str]:
    """The options ticked in a multiple choice's keyboard, in the order shown."""
    rows = markup.inline_keyboard if markup is not None else ()
    return [b.text.removeprefix(TICK) for row in rows for b in row if b.text.startswith(TICK)]


def keyboard(q: Question, spec: Interview, plan_id: int) -> InlineKeyboardMarkup | None:
    """Choices as buttons; ticks and a `Klaar` button for a multiple choice."""
    rows: list[list[InlineKeyboardButton]] = []
    ticking = q.ticks
    for index, label in enumerate(q.choices):
        shown = f"{TICK}{label}" if ticking and label in q.selected else label
        data = Button(CHOOSE, plan_id, q.revision, index).encode()
        rows.append([InlineKeyboardButton(shown, callback_data=data)])
    if ticking:
        done = Button(SUBMIT, plan_id, q.revision).encode()
        rows.append([InlineKeyboardButton(spec.message("knop_klaar"), callback_data=done)])
    # A cost line's sub-questions (`part`) get neither: `overslaan` means more there.
    if not q.part and q.current is not None:
        # `overslaan` on an answered question keeps its answer: say so on the button.
        keep = Button(KEEP, plan_id, q.revision).encode()
        rows.append([InlineKeyboardButton(spec.message("knop_houden"), callback_data=keep)])
    elif not q.part and not q.required:
        skip = Button(SKIP, plan_id, q.revision).encode()
        rows.append([InlineKeyboardButton(spec.message("knop_overslaan"), callback_data=skip)])
        if q.skip_rest:
            rest = Button(SKIP, plan_id, q.revision, SKIP_REST).encode()
            label = spec.message("knop_rest_overslaan")
            rows.append([InlineKeyboardButton(label, callback_data=rest)])
    return InlineKeyboardMarkup(rows) if rows else None


_TAG = re.compile(r"<[^>]*>|&[#a-zA-Z0-9]+;")


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split a message on paragraph boundaries, then lines, then words; never inside a tag.

    Our messages open and close their tags within one paragraph, so a cut between
    paragraphs or lines leaves every part well-formed. A single line longer than `limit`
    (a very long answer) is cut between words, outside any tag or entity; tags open at the
    cut are closed and reopened so that each part stays valid HTML.
    """
    if len(text) <= limit:
        return [text]
    pieces = (piece for paragraph in text.split("\n\n") for piece in _pieces(paragraph, limit))
    return _pack(pieces, "\n\n", limit)


def _pieces(paragraph: str, limit: int) -> list[str]:
    if len(paragraph) <= limit:
        return [paragraph]
    chunks = (
        chunk
        for line in paragraph.split("\n")
        for chunk in (_cut_line(line, limit) if len(line) > limit else [line])
    )
    return _pack(chunks, "\n", limit)


def _pack(chunks: Iterable[str], separator: str, limit: int) -> list[str]:
    """Join consecutive chunks with `separator` into as few parts within `limit` as fit."""
    packed: list[str] = []
    current = ""
    for chunk in chunks:
        candidate = f"{current}{separator}{chunk}" if current else chunk
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                packed.append(current)
            current = chunk
    if current:
        packed.append(current)
    return packed


def _cut_line(line: str, limit: int) -> list[str]:
    chunks: list[str] = []
    rest = line
    carried = ""  # tags reopened at the start of the next chunk
    while len(carried) + len(rest) > limit:
        room = limit - len(carried) - 16  # leave room to close open tags
        cut = _safe_cut(rest, room)
        head, rest = rest[:cut], rest[cut:].lstrip(" ")
        opened = _open_tags(carried + head)
        closing = "".join(f"</{name}>" for name in reversed(opened))
        chunks.append(carried + head + closing)
        carried = "".join(f"<{name}>" for name in opened)
    chunks.append(carried + rest)
    return chunks


def _safe_cut(text: str, room: int) -> int:
    """The last space before `room` that is outside a tag or entity, else a hard cut there."""
    spans = [(m.start(), m.end()) for m in _TAG.finditer(text[: room + 64])]

    def inside(position: int) -> bool:
        return any(start < position < end for start, end in spans)

    for position in range(room, max(room // 2, 1), -1):
        if text[position - 1 : position] == " " and not inside(position):
            return position
    position = room
    while inside(position) and position > 1:
        position -= 1
    return position


def _open_tags(text: str) -> list[str]:
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-z]+)[^>]*>", text):
        closing, name = match.group(1), match.group(2)
        if closing and stack and stack[-1] == name:
            stack.pop()
        elif not closing:
            stack.append(name)
    return stack
