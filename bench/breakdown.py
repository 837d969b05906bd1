"""Where a turn's time goes: the product's main calls timed from outside, per answer turn.

One professional does complete interviews on SQLite (as in bench.turns); the methods below
are wrapped with timers for the duration (class attributes, put back afterwards), and SQL
statements, transactions and commits are counted with SQLAlchemy events. Document turns are
left out: they are about rendering, measured by bench.render.

Run: python -m bench.breakdown [--interviews N]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import logging
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event

from bench.common import (
    postgres_available,
    postgres_base_url,
    postgres_schema,
    settings,
    shut_down,
)
from bench.turns import Driver, Professional, Run, Step, _started, interview_script
from bot.access import AccessService
from bot.bootstrap import bootstrap
from bot.service import PlanService
from bot.telegram.replies import Replies
from dialogs import Dialog
from storage.repository import PlanRepository

InboxRepository: Any
try:
    from storage.inbox import InboxRepository
except ImportError:  # before the webhook inbox
    InboxRepository = None

# (label, owner, attribute, depth): what is timed, indented under what contains it.
TIMED: tuple[tuple[str, Any, str, int], ...] = (
    ("who is this? professional lookup (own read transaction)", AccessService, "professional", 0),
    ("which plan? chat binding read afresh (only when not remembered)", PlanService, "chat", 0),
    ("the turn: PlanService.handle (write transaction)", PlanService, "handle", 0),
    ("webhook inbox: mark the update done", InboxRepository, "mark_done", 1),
    (
        "load the plan, chat binding and access role: one statement (answers from the cache)",
        PlanRepository,
        "turn",
        1,
    ),
    ("the dialog decides (transitions)", Dialog, "handle", 1),
    ("save: encrypt, UPDATE plans, INSERT answers", PlanRepository, "save_turn", 1),
    ("replies: HTML, keyboard, handed to the Bot (PTB)", Replies, "deliver", 0),
)
TIMED = tuple(t for t in TIMED if t[1] is not None and t[2] in t[1].__dict__)
COMMIT = "commit: COMMIT (the log flushed to disk)"


@dataclass(frozen=True)
class Part:
    label: str
    depth: int
    ms: float  # mean per answer turn


@dataclass(frozen=True)
class Breakdown:
    backend: str
    turns: int
    total_ms: float  # mean per answer turn
    parts: list[Part]
    statements: float  # SQL statements per turn
    transactions: float  # per turn
    commits: float  # per turn


def _timer(function: Callable[..., Any], totals: dict[str, float], label: str) -> Any:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - start

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - start

    return timed


@contextmanager
def _instrumented(totals: dict[str, float]) -> Iterator[None]:
    originals = [(owner, name, owner.__dict__[name]) for _, owner, name, _ in TIMED]
    try:
        for label, owner, name, _ in TIMED:
            setattr(owner, name, _timer(owner.__dict__[name], totals, label))
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


async def _measure(
    interviews: int, script: Sequence[Step], backend: str, postgres: str | None
) -> Breakdown:
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    with tempfile.TemporaryDirectory() as directory, ExitStack() as stack:
        url = stack.enter_context(postgres_schema(postgres)) if postgres else ""
        app = bootstrap(settings(Path(directory), url))
        application, request = await _started(app)
        try:
            for user in (1, 2):
                app.access.register(app.access.invite("Bench"), user)
            warm = Driver(application, request, Run("warm-up", 1))
            await Professional(warm, 1, None).interview("WARM-1", script)

            def on_statement(*_: Any) -> None:
                counts["statements"] += 1

            def on_begin(*_: Any) -> None:
                counts["transactions"] += 1

            # Every commit, a Session's or a unit of work's connection's, ends here.
            commit_impl = Connection._commit_impl

            def timed_commit(connection: Connection) -> None:
                counts["commits"] += 1
                begun = time.perf_counter()
                try:
                    commit_impl(connection)
                finally:
                    totals[COMMIT] += time.perf_counter() - begun

            stack.callback(setattr, Connection, "_commit_impl", commit_impl)
            Connection._commit_impl = timed_commit  # type: ignore[method-assign]
            listeners: list[tuple[Any, str, Callable[..., None]]] = [
                (app.engine, "before_cursor_execute", on_statement),
                (app.engine, "begin", on_begin),
            ]
            for target, name, listener in listeners:
                event.listen(target, name, listener)
            run = Run("breakdown", 1)
            driver = Driver(application, request, run)
            try:
                with _instrumented(totals):
                    for number in range(interviews):
                        # The last step ends the interview with documents: left out.
                        await Professional(driver, 2, None).interview(f"D-{number}", script[:-1])
            finally:
                for target, name, listener in listeners:
                    event.remove(target, name, listener)
        finally:
            await shut_down(application)
            app.engine.dispose()
    turns = len(run.question_ms)
    per_turn = {label: seconds * 1000 / turns for label, seconds in totals.items()}
    parts = [Part(label, depth, per_turn.get(label, 0.0)) for label, _, _, depth in TIMED]
    parts.insert(-1, Part(COMMIT, 1, per_turn.get(COMMIT, 0.0)))
    return Breakdown(
        backend=backend,
        turns=turns,
        total_ms=sum(run.question_ms) / turns,
        parts=parts,
        statements=counts["statements"] / turns,
        transactions=counts["transactions"] / turns,
        commits=counts["commits"] / turns,
    )


def measure(interviews: int = 3, postgres: str | None = None) -> list[Breakdown]:
    """On SQLite, and on PostgreSQL when a server URL is given."""
    script = interview_script()
    found = [asyncio.run(_measure(interviews, script, "SQLite", None))]
    if postgres:
        found.append(asyncio.run(_measure(interviews, script, "PostgreSQL", postgres)))
    return found


def table(found: Sequence[Breakdown]) -> str:
    lines = [
        "Mean per answer turn, one professional: "
        + "; ".join(
            f"{b.backend} {b.turns} turns, {b.statements:.1f} SQL statements,"
            f" {b.transactions:.1f} transactions, {b.commits:.1f} commits"
            for b in found
        )
        + ".",
        "",
        "| part of a turn | " + " | ".join(f"{b.backend} ms | share" for b in found) + " |",
        "|---|" + "---:|---:|" * len(found),
    ]
    for index, part in enumerate(found[0].parts):
        indent = "&nbsp;&nbsp;&nbsp;&nbsp;" * part.depth
        cells = [(b.parts[index].ms, b.total_ms) for b in found]
        lines.append(
            f"| {indent}{part.label} | "
            + " | ".join(f"{ms:.2f} | {ms / total:.0%}" for ms, total in cells)
            + " |"
        )
    rests = [(b.total_ms - sum(p.ms for p in b.parts if p.depth == 0), b.total_ms) for b in found]
    lines.append(
        "| the rest: PTB dispatch, handler glue, lock | "
        + " | ".join(f"{ms:.2f} | {ms / total:.0%}" for ms, total in rests)
        + " |"
    )
    lines.append(
        "| **whole turn** | " + " | ".join(f"**{b.total_ms:.2f}** | 100%" for b in found) + " |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interviews", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    postgres = postgres_base_url()
    print(table(measure(args.interviews, None if postgres_available(postgres) else postgres)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
