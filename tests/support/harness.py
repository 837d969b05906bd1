"""A real python-telegram-bot Application with our handlers, talking to the recording Bot API
stand-in without HTTP; professionals 1001, 2001 and 2002 are registered, 2003 is not."""

from __future__ import annotations

import html
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.bootstrap import App, bootstrap
from bot.clock import Clock
from bot.config import Settings
from bot.telegram import TelegramFrontEnd
from dialogs import Interview, Kind, Question, Text
from dialogs.status import PlanStatus
from storage import PlanRepository
from tests.conftest import sample_answer
from tests.support.botapi import BotApiStandIn, Call
from tests.support.request import StandInRequest

FACILITATOR, MEMBER_A, MEMBER_B = 2001, 2002, 2003


class Harness:
    def __init__(
        self, stand_in: BotApiStandIn, application: Application[Any, Any, Any, Any, Any, Any],
        app: App, front: TelegramFrontEnd,
    ) -> None:  # fmt: skip
        self.stand_in = stand_in
        self.application = application
        self.app = app
        self.spec: Interview = app.dialog.spec
        self._ids = itertools.count(1)
        self.presses = 0
        self.professionals: dict[int, str] = {}
        self.front = front

    async def push(self, update: dict[str, Any]) -> list[Call]:
        """Process one update; return the Bot API calls it caused."""
        before = len(self.stand_in.calls)
        update = {"update_id": next(self._ids), **update}
        await self.application.process_update(Update.de_json(update, self.application.bot))
        return self.stand_in.calls[before:]

    async def say(self, text: str, **kw: Any) -> list[Call]:
        return await self.push(self.stand_in.text_update(text, **kw))

    async def press(self, data: str, *, message_id: int | None = None, **kw: Any) -> list[Call]:
        """Press a button; by default under the bot's latest message that carries it, as a
        client does (or message 1 when no message carries it any more: an old keyboard)."""
        self.presses += 1
        if message_id is None:
            message_id = self.carrier(data)
        return await self.push(self.stand_in.callback_update(data, message_id=message_id, **kw))

    def carrier(self, data: str) -> int:
        """The id of the bot's latest message with this button, or 1 if there is none."""
        with self.stand_in._cond:
            ids = [
                message_id
                for (_, message_id), message in self.stand_in._messages.items()
                if any(
                    button.get("callback_data") == data
                    for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                    for button in row
                )
            ]
        return max(ids, default=1)

    def _asked(self, text: str) -> str | None:
        """The key of the field of the plan or of its evaluation asked in a message, if any."""
        for field in (*self.spec.fields, *self.app.service.evaluations.spec.fields):
            if f"<b>{html.escape(field.text, quote=False)}" in text:
                return field.key
        return None

    def _is_question(self, text: str) -> bool:
        """A question of the plan ("Stap 2 van 6: ...") or of its evaluation (one step,
        headed by its name alone)."""
        names = [step.name for step in self.app.service.evaluations.spec.steps]
        return "Stap " in text or any(f"<b>{name}</b>" in text for name in names)

    def last_question(self) -> Call:
        calls = self.stand_in.calls_of("sendMessage")
        return [c for c in calls if self._is_question(c.params["text"])][-1]

    def current_field(self) -> str:
        text = self.last_question().params["text"]
        found = self._asked(text)
        if found is None:
            raise AssertionError(f"no field in {text[:200]}")
        return found

    def buttons(self, call: Call | None = None) -> list[tuple[str, str]]:
        """The buttons under a message; by default those the user sees under the question
        now (a tick edits the keyboard in place)."""
        if call is None:
            call = self.last_question()
            edits = [c for c in self.stand_in.calls_of("editMessageReplyMarkup") if c.at > call.at]
            call = edits[-1] if edits else call
        markup = call.params.get("reply_markup") or {}
        return [
            (b["text"], b["callback_data"])
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    def button(self, label: str) -> str:
        return next(data for text, data in self.buttons() if text.endswith(label))

    def plans(self) -> PlanRepository:
        return PlanRepository(self.app.sessions(), self.app.keyring)


@pytest.fixture
def harness_settings() -> dict[str, Any]:
    """Settings for the harness's app beyond its data directory; a test module may override
    this fixture (a short SQLite busy timeout, say, to fail at a locked database fast)."""
    return {}


@pytest.fixture
def harness_clock() -> Clock | None:
    """The clock of the harness's app (None: the system clock); a test module may override
    this fixture with a bot.clock.FixedClock to control "now"."""
    return None


@pytest.fixture
async def bot(
    tmp_path: Path, harness_settings: dict[str, Any], harness_clock: Clock | None
) -> AsyncIterator[Harness]:
    stand_in = BotApiStandIn()
    app = bootstrap(Settings(data_dir=tmp_path, **harness_settings), clock=harness_clock)
    front = TelegramFrontEnd(app)
    application = front.build(
        stand_in.token,
        base_url="http://stand-in/bot",
        request=StandInRequest(stand_in),
        updates_request=StandInRequest(stand_in),
        rate_limiter=False,
    )
    await application.initialize()
    await front.post_init(application)
    harness = Harness(stand_in, application, app, front)
    for user_id in (1001, FACILITATOR, MEMBER_A):  # MEMBER_B is not registered
        professional = app.access.register(app.access.invite("Noord"), user_id)
        assert professional is not None
        harness.professionals[user_id] = professional.actor
    yield harness
    await application.shutdown()
    await front.post_shutdown(application)
    app.engine.dispose()


async def answer_current(bot: Harness, **kw: Any) -> list[Call]:
    """Answer whatever is asked now the way a professional on a phone would."""
    field = bot.spec.field(bot.current_field())
    if field.kind is Kind.CHOICE:
        return await bot.press(bot.button(sample_answer(field)), **kw)
    if field.kind is Kind.MULTICHOICE:
        for label in sample_answer(field).split(";"):
            await bot.press(bot.button(label), **kw)
        return await bot.press(bot.button("Klaar"), **kw)
    return await bot.say(sample_answer(field), **kw)


def texts(calls: list[Call]) -> list[str]:
    """What the user read: the texts of the messages sent and of the toasts shown."""
    return [
        html.unescape(str(c.params["text"]))
        for c in calls
        if c.method in ("sendMessage", "answerCallbackQuery")
        and not c.failed
        and c.params.get("text")
    ]


def finish_plan(bot: Harness, household: str = "3012", user_id: int = 1001) -> int:
    """A finished plan of `user_id` for `household`, made through the service (no documents
    rendered); its id."""
    who = bot.app.access.professional(user_id)
    assert who is not None
    service = bot.app.service
    turn = service.open(household, actor=who.actor, professional=who)
    for _ in range(300):
        if turn.outcome.status == PlanStatus.FINISHED:
            return turn.plan_id
        [question] = [r for r in turn.outcome.replies if isinstance(r, Question)][-1:]
        answer = sample_answer(bot.spec.field(question.field))
        turn = service.handle(turn.plan_id, Text(answer), author=who.actor, professional=who)
    raise AssertionError("the plan did not finish")
