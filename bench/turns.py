"""Per-turn time and throughput: simulated professionals doing complete interviews over Telegram.

A turn is one Update handed to `Application.process_update` until it returns: our handlers
store the answer (committed) and hand every reply to the Bot before they return. The Bot's
network layer is bench.stand_in.RecordingRequest. Measured side by side, with the same
Application type, stand-in and Update stream:

* ours: the real handlers (bot.telegram.TelegramFrontEnd) on SQLite or PostgreSQL;
* echo: a handler that only echoes (text back; a button is answered and its data sent back);
* floor: the echo plus one bare SQLAlchemy commit of one answer row to the same database.

The last turn of an interview sends the plan's documents (the document turn). Its baseline,
run side by side at 100 professionals, is the delivery before issue 14 (`deliver_as_before`):
one worker process renders the PDF, the Word file and the chart for every finished plan, and
all three are sent at once. Ours sends the PDF, from one worker per core but one; the Word
file and the chart are rendered when their buttons are pressed. Every professional presses
the Word button once all have finished (the Word turn, timed apart).

Run: python -m bench.turns [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import functools
import gc
import logging
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bench.common import (
    Stats,
    Updates,
    postgres_available,
    postgres_base_url,
    postgres_schema,
    settings,
    shut_down,
    stats,
)
from bench.render import EVELINE_COSTS, build_plan
from bench.stand_in import BASE_URL, TOKEN, RecordingRequest
from bot.access import EXPORTED
from bot.bootstrap import App, bootstrap
from bot.render_pool import DocumentPool
from bot.service import Turn
from bot.telegram import TelegramFrontEnd
from bot.telegram.files import DOCUMENT_WORKER_IDLE
from bot.telegram.sending import retried
from bot.telegram_view import WORD
from dialogs import noted_open
from storage import Answer
from storage.models import utcnow

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
FIRST_USER = 10_000
WARM_USER = 9_999


@dataclass(frozen=True)
class Step:
    """One scripted answer: the kind of question it answers and what the professional gives."""

    kind: str
    part: str
    text: str


def interview_script() -> list[Step]:
    """A complete interview with the Eveline cost lines, as bench.render makes it."""
    with tempfile.TemporaryDirectory() as directory:
        app = bootstrap(settings(Path(directory)))
        try:
            typed: list[tuple[Any, str]] = []
            build_plan(app, "9999", EVELINE_COSTS, long=False, typed=typed)
        finally:
            app.engine.dispose()
    return [Step(question.kind, question.part, text) for question, text in typed]


@dataclass
class Run:
    """What one benchmark run measured."""

    label: str
    concurrency: int
    question_ms: list[float] = field(default_factory=list)
    document_ms: list[float] = field(default_factory=list)
    # Pressing "Ook als Word-bestand" (ours only), timed apart from the turns above.
    word_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    interviews: int = 0
    errors: int = 0
    # Each professional's Updates in order, replayed by the echo and the floor.
    streams: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.question_ms) + len(self.document_ms)

    @property
    def question(self) -> Stats:
        return stats(self.question_ms)

    @property
    def per_second(self) -> float:
        """Turns per second of wall-clock time, document turns and the simulation included."""
        return self.turns / self.wall_s if self.wall_s else 0.0

    @property
    def busy_per_second(self) -> float:
        """Question turns per second of time spent processing them: the rate one process
        sustains on answers (the event loop runs one such turn at a time)."""
        busy = sum(self.question_ms) / 1000
        return len(self.question_ms) / busy if busy else 0.0


class Driver:
    """Feeds Updates to an Application one at a time and times each."""

    def __init__(self, application: AnyApplication, request: RecordingRequest, run: Run) -> None:
        self.application = application
        self.request = request
        self.run = run
        self.updates = Updates()

    async def turn(
        self,
        raw: dict[str, Any],
        stream: list[dict[str, Any]] | None,
        into: list[float] | None = None,
    ) -> None:
        """Hand one Update over and time it: into `into` if given, else as a document turn
        (if it sent a document) or an answer turn."""
        if stream is not None:
            stream.append(copy.deepcopy(raw))
        update = Update.de_json(raw, self.application.bot)
        chat_id = update.effective_chat.id if update.effective_chat else 0
        chat = self.request.chat(chat_id)
        documents = chat.documents
        start = time.perf_counter()
        await self.application.process_update(update)
        elapsed = (time.perf_counter() - start) * 1000
        if into is not None:
            into.append(elapsed)
        elif chat.documents > documents:
            self.run.document_ms.append(elapsed)
        else:
            self.run.question_ms.append(elapsed)
        # The professional reads and types: the next Update comes later, others go first.
        await asyncio.sleep(0)


class Professional:
    """One professional on a phone: types answers, presses buttons, as the script says."""

    def __init__(self, driver: Driver, user_id: int, stream: list[dict[str, Any]] | None) -> None:
        self.driver = driver
        self.user_id = user_id
        self.stream = stream
        self.chat = driver.request.chat(user_id)

    async def say(self, text: str) -> None:
        await self.driver.turn(self.driver.updates.text(self.user_id, text), self.stream)

    async def press(self, data: str) -> None:
        await self.driver.turn(self.driver.updates.press(self.user_id, data), self.stream)

    def _buttons(self, action: str) -> list[tuple[str, str]]:
        return [
            (label.removeprefix("✅ "), data)
            for label, data in self.chat.buttons
            if data.startswith(f"{action}|")
        ]

    async def ask_word(self) -> None:
        """Press the Word button under the latest PDF; timed as a Word turn."""
        [data] = [
            data
            for _, data in self.chat.document_buttons
            if data.startswith(f"{WORD}|") and data.endswith("|0")  # ON_REQUEST[0]: docx
        ]
        update = self.driver.updates.press(self.user_id, data)
        await self.driver.turn(update, None, into=self.driver.run.word_ms)

    async def interview(self, household: str, script: Sequence[Step]) -> None:
        await self.say(f"/nieuw {household}")
        if self.driver.request.keep_texts and "<b>Stap " not in self.chat.texts[-1]:
            raise RuntimeError(f"/nieuw {household} did not ask a question: {self.chat.texts[-1]}")
        for step in script:
            await self.answer(step)

    async def answer(self, step: Step) -> None:
        choices = dict(self._buttons("c"))
        if step.kind == "multichoice" and not step.part:
            for label in step.text.split(";"):
                await self.press(dict(self._buttons("c"))[label])
            await self.press(self._buttons("k")[0][1])
        elif step.text == "overslaan" and self._buttons("s"):
            await self.press(self._buttons("s")[0][1])
        elif step.text in choices:
            await self.press(choices[step.text])
        elif step.text.isdigit() and 1 <= int(step.text) <= len(choices):
            await self.press(list(choices.values())[int(step.text) - 1])
        else:
            await self.say(step.text)


def deliver_as_before(front: TelegramFrontEnd) -> None:
    """The baseline of the document turn: the delivery before issue 14, on the same front end.
    One worker process renders the PDF, the Word file and the chart of every finished plan,
    and all three are sent with the turn."""
    files = front.kit.files
    files.documents = DocumentPool(
        front.app.settings.prompts_dir, idle_after=DOCUMENT_WORKER_IDLE, workers=1
    )

    async def send(bot: Any, chat_id: int, turn: Turn, *, actor: str, offer_forget: bool) -> None:
        await retried(lambda: bot.send_chat_action(chat_id, "upload_document"))
        files.access.record(actor, EXPORTED, turn.plan_id, "pdf docx png")
        args = (turn.household, turn.answers, date.today(), noted_open(turn.outcome.data))
        name = f"doorbraakplan-{turn.household}"
        for fmt in ("pdf", "docx"):
            content = await files.documents.render(fmt, *args)
            await retried(
                functools.partial(
                    bot.send_document, chat_id, document=content, filename=f"{name}.{fmt}"
                )
            )
        chart = await files.documents.render("png", *args)
        await retried(lambda: bot.send_photo(chat_id, photo=chart, filename=f"{name}.png"))
        if offer_forget:
            await files._offer_forget(bot, chat_id, turn.plan_id)

    files.send = send  # type: ignore[method-assign]


async def _started(app: App, *, before: bool = False) -> tuple[AnyApplication, RecordingRequest]:
    request = RecordingRequest()
    front = TelegramFrontEnd(app)
    if before:
        deliver_as_before(front)
    application = front.build(
        TOKEN, base_url=BASE_URL, request=request, updates_request=request, rate_limiter=False
    )
    await application.initialize()
    # As `doorbraakbot run` does once it is wired (bot.telegram.run); the echo gets it too.
    gc.freeze()
    return application, request


async def _concurrently(count: int, work: Callable[[int], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(work(i) for i in range(count)))
    return time.perf_counter() - start


async def run_ours(
    app: App,
    label: str,
    concurrency: int,
    interviews: int,
    script: Sequence[Step],
    *,
    before: bool = False,
) -> Run:
    """`concurrency` professionals, each doing `interviews` complete interviews one after
    another; one interview before, by another professional, warms everything up. Then (not
    `before`) each presses the Word button under their last PDF, all at once.
    With `before`, the documents are delivered as before issue 14 (deliver_as_before)."""
    application, request = await _started(app, before=before)
    run = Run(label, concurrency)
    try:
        for user_id in (WARM_USER, *range(FIRST_USER, FIRST_USER + concurrency)):
            if app.access.register(app.access.invite("Bench"), user_id) is None:
                raise RuntimeError("could not register a professional")
        warm = Driver(application, request, Run("warm-up", 1))
        await Professional(warm, WARM_USER, None).interview("WARM-1", script)
        driver = Driver(application, request, run)
        run.streams = [[] for _ in range(concurrency)]

        async def professional(index: int) -> None:
            user = Professional(driver, FIRST_USER + index, run.streams[index])
            for number in range(interviews):
                await user.interview(f"B{index}-{number}", script)

        run.wall_s = await _concurrently(concurrency, professional)
        run.interviews = concurrency * interviews
        # A complete interview ends with the PDF (before: the PDF and the Word file).
        per_interview = 2 if before else 1
        if not before:
            await _concurrently(
                concurrency,
                lambda index: Professional(driver, FIRST_USER + index, None).ask_word(),
            )
            per_interview = 1
        for index in range(concurrency):
            chat = request.chat(FIRST_USER + index)
            run.errors += sum(1 for text in chat.texts if text.startswith("⚠️"))
            # Ours: one Word file more, the last interview's, on request.
            words = 0 if before else 1
            if chat.documents != per_interview * interviews + words:
                run.errors += 1
        if run.errors:
            # The simulated professionals went off script: the figures would be of error paths.
            raise RuntimeError(f"{label}: {run.errors} refused answers or unfinished interviews")
    finally:
        await shut_down(application)
    return run


def echo_application(request: RecordingRequest, engine: Engine | None) -> AnyApplication:
    """The same Application type with a handler that only echoes; with `engine`, each update
    also commits one answer row first (the floor)."""
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(BASE_URL)
        .concurrent_updates(True)
        .request(request)
        .get_updates_request(request)
        .build()
    )

    def commit(chat_id: int) -> None:
        if engine is not None:
            with engine.begin() as connection:
                connection.execute(
                    insert(Answer).values(
                        plan_id=1, field="bench", value="x", author="bench", created_at=utcnow()
                    )
                )

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        commit(message.chat_id)
        await context.bot.send_message(message.chat_id, message.text)

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None and query.data is not None
        commit(query.message.chat.id)
        await query.answer()
        await context.bot.send_message(query.message.chat.id, query.data)

    application.add_handler(MessageHandler(filters.TEXT, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    return application


async def run_echo(
    label: str, streams: Sequence[Sequence[dict[str, Any]]], engine: Engine | None
) -> Run:
    """Replay the Updates of a run of ours, with the same concurrency, to the echo."""
    request = RecordingRequest(keep_texts=False)
    application = echo_application(request, engine)
    await application.initialize()
    gc.freeze()
    run = Run(label, len(streams))
    driver = Driver(application, request, run)
    try:
        for raw in streams[0][:20]:  # warm up
            await Driver(application, request, Run("warm-up", 1)).turn(raw, None)

        async def replay(index: int) -> None:
            for raw in streams[index]:
                await driver.turn(raw, None)

        run.wall_s = await _concurrently(len(streams), replay)
    finally:
        await shut_down(application)
    return run


def _first_plan_id(app: App) -> None:
    """The floor inserts answer rows of plan 1 (the warm-up plan): make sure it exists."""
    with app.engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT count(*) FROM plans WHERE id = 1").scalar()
    if not found:
        raise RuntimeError("plan 1 is missing; the floor has no plan to add answers to")


BEFORE = "before: PDF, Word and chart, one worker, SQLite"


def render_workers() -> int:
    """The document workers ours runs with (the setting's default: the cores)."""
    return settings(Path(tempfile.gettempdir())).render_workers


async def measure(
    loads: Sequence[tuple[int, int]], script: Sequence[Step], *, postgres: str | None
) -> tuple[list[Run], str | None]:
    """Every run for each (concurrency, interviews each): ours on SQLite (and PostgreSQL),
    the floor on the same database, and the echo; at the largest load also the document
    delivery as it was before (BEFORE), right after ours. Returns the runs and why
    PostgreSQL was skipped (None if it ran)."""
    runs: list[Run] = []
    skipped = postgres_available(postgres)
    largest = max(concurrency for concurrency, _ in loads)
    for concurrency, interviews in loads:
        with tempfile.TemporaryDirectory() as directory:
            app = bootstrap(settings(Path(directory)))
            try:
                ours = await run_ours(app, "ours, SQLite", concurrency, interviews, script)
                _first_plan_id(app)
                floor = await run_echo("floor, SQLite", ours.streams, app.engine)
            finally:
                app.engine.dispose()
        runs += [ours, floor, await run_echo("echo", ours.streams, None)]
        if concurrency == largest:
            with tempfile.TemporaryDirectory() as directory:
                app = bootstrap(settings(Path(directory)))
                try:
                    runs.append(
                        await run_ours(app, BEFORE, concurrency, interviews, script, before=True)
                    )
                finally:
                    app.engine.dispose()
        if skipped is None:
            assert postgres is not None
            with (
                tempfile.TemporaryDirectory() as directory,
                postgres_schema(postgres) as url,
            ):
                app = bootstrap(settings(Path(directory), url))
                try:
                    ours = await run_ours(app, "ours, PostgreSQL", concurrency, interviews, script)
                    _first_plan_id(app)
                    floor = await run_echo("floor, PostgreSQL", ours.streams, app.engine)
                finally:
                    app.engine.dispose()
            runs += [ours, floor]
    return runs, skipped


async def durability(app: App, script: Sequence[Step], database: Path) -> tuple[int, int]:
    """Check that a turn's answers are committed before its first reply is handed to the Bot:
    at that moment another connection must already see every answer row the turn wrote.
    Returns (turns checked, turns where a reply went out first)."""
    reader = sqlite3.connect(f"file:{database}?mode=ro", uri=True, isolation_level=None)

    def answers() -> int:
        return int(reader.execute("SELECT count(*) FROM answers").fetchone()[0])

    application, request = await _started(app)
    seen: list[int] = []

    def on_call(method: str, chat_id: int) -> None:
        if not seen and method != "sendChatAction":
            seen.append(answers())

    try:
        user = WARM_USER - 1
        app.access.register(app.access.invite("Bench"), user)
        run = Run("durability", 1)
        driver = Driver(application, request, run)
        professional = Professional(driver, user, None)
        checked = late = 0
        original = driver.turn

        async def turn(
            raw: dict[str, Any],
            stream: list[dict[str, Any]] | None,
            into: list[float] | None = None,
        ) -> None:
            nonlocal checked, late
            seen.clear()
            await original(raw, stream, into)
            checked += 1
            if seen and seen[0] < answers():
                late += 1

        driver.turn = turn  # type: ignore[method-assign]
        request.on_call = on_call
        await professional.interview("DUUR-1", script)
        chat = request.chat(user)
        if any(text.startswith("⚠️") for text in chat.texts) or chat.documents != 1:
            raise RuntimeError("the durability interview did not finish")
    finally:
        await shut_down(application)
        reader.close()
    return checked, late


def synchronous_mode(app: App) -> str:
    with app.engine.connect() as connection:
        value = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(int(value or 0), str(value))


FULL_LOADS = ((1, 4), (10, 2), (100, 1))
QUICK_LOADS = ((1, 1), (3, 1))


def table(runs: Sequence[Run]) -> str:
    floors = {
        (r.label.split(", ")[-1], r.concurrency): r for r in runs if r.label.startswith("floor")
    }
    befores = {r.concurrency: r for r in runs if r.label == BEFORE}
    lines = [
        "| professionals | what | turns | p50 ms | p95 ms | p99 ms | max ms | ours / floor p50"
        " | turns/s (wall) | answer turns/s (busy) | document turn p50 ms"
        " | document turn: ours / before | Word turn p50 ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        q = run.question
        ratio = ""
        if run.label.startswith("ours"):
            floor = floors.get((run.label.split(", ")[-1], run.concurrency))
            if floor is not None:
                ratio = f"{q.p50 / floor.question.p50:.2f}"
        documents = f"{stats(run.document_ms).p50:.0f}" if run.document_ms else ""
        before = befores.get(run.concurrency)
        versus = ""
        if run.label == "ours, SQLite" and before is not None and run.document_ms:
            versus = f"{stats(run.document_ms).p50 / stats(before.document_ms).p50:.2f}"
        word = f"{stats(run.word_ms).p50:.0f}" if run.word_ms else ""
        lines.append(
            f"| {run.concurrency} | {run.label} | {run.turns} | {q.p50:.2f} | {q.p95:.2f}"
            f" | {q.p99:.2f} | {q.max:.1f} | {ratio} | {run.per_second:,.0f}"
            f" | {run.busy_per_second:,.0f} | {documents} | {versus} | {word} |"
        )
    return "\n".join(lines)


async def paired(times: int, concurrency: int, script: Sequence[Step]) -> list[tuple[Run, Run]]:
    """Ours and the delivery before issue 14 (BEFORE), alternately, `times` each, on SQLite,
    with `concurrency` professionals finishing together: on a busy machine the pairs show
    what the load did to both."""
    pairs = []
    for _ in range(times):
        pair = []
        for before in (False, True):
            with tempfile.TemporaryDirectory() as directory:
                app = bootstrap(settings(Path(directory)))
                try:
                    label = BEFORE if before else "ours, SQLite"
                    run = await run_ours(app, label, concurrency, 1, script, before=before)
                    pair.append(run)
                finally:
                    app.engine.dispose()
        pairs.append((pair[0], pair[1]))
    return pairs


def paired_table(pairs: Sequence[tuple[Run, Run]]) -> str:
    lines = [
        "| pair | ours: document turn p50 ms | before: document turn p50 ms | ours / before"
        " | ours: Word turn p50 ms | answer turn p50 ms, ours / before |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for number, (ours, before) in enumerate(pairs, 1):
        mine, was = stats(ours.document_ms).p50, stats(before.document_ms).p50
        lines.append(
            f"| {number} | {mine:.0f} | {was:.0f} | {mine / was:.2f}"
            f" | {stats(ours.word_ms).p50:.0f}"
            f" | {ours.question.p50:.2f} / {before.question.p50:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tiny load (the smoke test's)")
    parser.add_argument(
        "--paired",
        type=int,
        metavar="N",
        help="only the document turn: ours and before, alternately, N times each",
    )
    parser.add_argument("--professionals", type=int, default=100, help="with --paired")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    script = interview_script()
    if args.paired:
        print(paired_table(asyncio.run(paired(args.paired, args.professionals, script))))
        return 0
    loads = QUICK_LOADS if args.quick else FULL_LOADS
    runs, skipped = asyncio.run(measure(loads, script, postgres=postgres_base_url()))
    print(table(runs))
    if skipped:
        print(f"\nPostgreSQL skipped: {skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
