"""Resume time at scale: `/hervat` → the first question sent, among 1,000 to 1,000,000 plans.

The plans are generated straight into a SQLite database in bulk (households with keyed-hash
numbers and encrypted copies, plans, their owners in plan_access, two answers each) and kept
in bench/.cache, so a later run reuses them. The benchmark's professional owns a handful of
them, made through the real service with real answers. A resume is two turns: `/hervat` (the
list of the professional's unfinished plans, as buttons) and the press on one of them (the
plan reopened and its first open question sent).

Run: python -m bench.resume [--sizes 1000 100000 1000000] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from telegram import Update

from bench.common import CACHE, Stats, Updates, settings, shut_down, stats
from bench.stand_in import BASE_URL, TOKEN, RecordingRequest
from bench.turns import Step, interview_script
from bot.bootstrap import App, bootstrap
from bot.telegram import TelegramFrontEnd
from dialogs import Text
from storage.access import USER_ID
from storage.db import alembic_config
from storage.models import ANSWER_VALUE, HOUSEHOLD_NUMBER, PLAN_DATA

# Bump when the generated data changes, so an old cache is not reused.
GENERATION = 1
USER = 4242  # the benchmark's professional (a Telegram user id)
OWN_PLANS = 5  # the handful of plans the professional has
OWN_ANSWERS = 25  # answers given in each of them
FILLER_TEAMS = 1000  # other professionals, who own the generated plans
BATCH = 20_000
SIZES = (1_000, 100_000, 1_000_000)


def cache_file(size: int, directory: Path = CACHE) -> Path:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return directory / f"resume-{size}-g{GENERATION}-m{head}.db"


def generate(path: Path, size: int, script: Sequence[Step]) -> float:
    """Make a database of `size` plans at `path` (through a temporary file); the seconds it
    took."""
    start = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    for leftover in (temp, Path(f"{temp}-wal"), Path(f"{temp}-shm")):
        leftover.unlink(missing_ok=True)
    app = bootstrap(settings(path.parent, f"sqlite:///{temp}"))
    try:
        professional = app.access.register(app.access.invite("Bench"), USER)
        assert professional is not None
        answers = [Text(step.text) for step in script[:OWN_ANSWERS]]
        for number in range(OWN_PLANS):
            turn = app.service.open(
                f"EIGEN-{number}", actor=professional.actor, professional=professional
            )
            for event in answers:
                app.service.handle(turn.plan_id, event, author=professional.actor)
    finally:
        app.engine.dispose()
    _fill(temp, size - OWN_PLANS, app)
    temp.rename(path)
    return time.perf_counter() - start


def _fill(path: Path, count: int, app: App) -> None:
    """Add `count` households, each with one open plan, its owner and two answers."""
    keyring = app.keyring
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-200000")
        # Stored values in the shapes the app writes them (timestamps, encrypted values).
        # Each value is bound to its row, so each is encrypted for its own row.
        first, stamp, data = connection.execute(
            "SELECT id, created_at, data FROM plans LIMIT 1"
        ).fetchone()
        data = PLAN_DATA.open(keyring, data, {"id": first})
        answer_of, field_of, answer, at = connection.execute(
            "SELECT plan_id, field, value, created_at FROM answers LIMIT 1"
        ).fetchone()
        moment = datetime.fromisoformat(at)
        answer = ANSWER_VALUE.open(
            keyring, answer, {"plan_id": answer_of, "field": field_of, "created_at": moment}
        )
        moment = datetime.fromisoformat(stamp)
        connection.execute("BEGIN")
        first_team = _max_id(connection, "professionals") + 1
        connection.executemany(
            "INSERT INTO professionals (id, user_key, user_enc, team, created_at)"
            " VALUES (?, ?, ?, 'Vulling', ?)",
            (
                (
                    first_team + n,
                    key := keyring.hash(f"vulling-{n}", purpose="telegram"),
                    USER_ID.seal(keyring, f"vulling-{n}", {"user_key": key}),
                    stamp,
                )
                for n in range(FILLER_TEAMS)
            ),
        )
        household = _max_id(connection, "households") + 1
        plan = _max_id(connection, "plans") + 1
        for start in range(0, count, BATCH):
            numbers = range(start, min(count, start + BATCH))
            connection.executemany(
                "INSERT INTO households (id, number, number_enc, created_at) VALUES (?, ?, ?, ?)",
                (
                    (
                        household + n,
                        key := keyring.hash(f"V-{n}", purpose="household"),
                        HOUSEHOLD_NUMBER.seal(keyring, f"V-{n}", {"number": key}),
                        stamp,
                    )
                    for n in numbers
                ),
            )
            connection.executemany(
                "INSERT INTO plans (id, household_id, status, state, data, revision, owner,"
                " created_at, updated_at)"
                " VALUES (?, ?, 'open', 'plan.professional', ?, 2, ?, ?, ?)",
                (
                    (
                        plan + n,
                        household + n,
                        PLAN_DATA.seal(keyring, data, {"id": plan + n}),
                        f"prof:{first_team + n % FILLER_TEAMS}",
                        stamp,
                        stamp,
                    )
                    for n in numbers
                ),
            )
            connection.executemany(
                "INSERT INTO plan_access (plan_id, professional_id, role, created_at)"
                " VALUES (?, ?, 'eigenaar', ?)",
                ((plan + n, first_team + n % FILLER_TEAMS, stamp) for n in numbers),
            )
            connection.executemany(
                "INSERT INTO answers (plan_id, field, value, author, created_at)"
                " VALUES (?, ?, ?, 'prof:1', ?)",
                (
                    (plan + n, field, ANSWER_VALUE.seal(keyring, answer, row), stamp)
                    for n in numbers
                    for field in ("plan.titel", "plan.professional")
                    for row in [{"plan_id": plan + n, "field": field, "created_at": moment}]
                ),
            )
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _max_id(connection: sqlite3.Connection, table: str) -> int:
    return int(connection.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])


def _plans(path: Path) -> int:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM plans").fetchone()[0])
    finally:
        connection.close()


@dataclass(frozen=True)
class Resume:
    plans: int
    generated_s: float | None  # None: taken from the cache
    listing: Stats  # /hervat
    opening: Stats  # the press → the plan's first question
    total: Stats  # both


async def measure(path: Path, runs: int) -> tuple[list[float], list[float]]:
    app = bootstrap(settings(path.parent, f"sqlite:///{path}"))
    request = RecordingRequest()
    front = TelegramFrontEnd(app)
    application = front.build(
        TOKEN, base_url=BASE_URL, request=request, updates_request=request, rate_limiter=False
    )
    await application.initialize()
    updates = Updates()
    chat = request.chat(USER)
    listing: list[float] = []
    opening: list[float] = []

    async def timed(raw: dict[str, object]) -> float:
        update = Update.de_json(raw, application.bot)
        start = time.perf_counter()
        await application.process_update(update)
        return (time.perf_counter() - start) * 1000

    try:
        for attempt in range(runs + 3):  # three to warm up
            texts = len(chat.texts)
            hervat = await timed(updates.text(USER, "/hervat"))
            buttons = [data for _, data in chat.buttons if data.startswith("h|")]
            if len(buttons) != OWN_PLANS:
                raise RuntimeError(f"/hervat offered {len(buttons)} plans, not {OWN_PLANS}")
            opened = await timed(updates.press(USER, buttons[attempt % len(buttons)]))
            if not any("<b>Stap " in text for text in chat.texts[texts:]):
                raise RuntimeError("the resumed plan's question was not sent")
            if attempt >= 3:
                listing.append(hervat)
                opening.append(opened)
    finally:
        await shut_down(application)
        app.engine.dispose()
    return listing, opening


def run(sizes: Sequence[int], runs: int, *, cache: Path = CACHE) -> Iterator[Resume]:
    """Measure each size; a database is generated into `cache` unless it is there."""
    script: list[Step] | None = None
    for size in sizes:
        path = cache_file(size, cache)
        generated: float | None = None
        if not path.exists():
            script = script or interview_script()
            generated = generate(path, size, script)
        if _plans(path) != size:
            raise RuntimeError(f"{path} holds {_plans(path)} plans, not {size}")
        listing, opening = asyncio.run(measure(path, runs))
        total = [a + b for a, b in zip(listing, opening, strict=True)]
        yield Resume(size, generated, stats(listing), stats(opening), stats(total))


def table(rows: Sequence[Resume]) -> str:
    lines = [
        "| stored plans | /hervat p50 ms | press → question p50 ms | total p50 ms | total p95 ms"
        " | database |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        made = "cached" if r.generated_s is None else f"generated in {r.generated_s:.0f} s"
        lines.append(
            f"| {r.plans:,} | {r.listing.p50:.2f} | {r.opening.p50:.2f} | {r.total.p50:.2f}"
            f" | {r.total.p95:.2f} | {made} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(table(list(run(args.sizes, args.runs))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
