"""The report over all plans at scale: `doorbraakbot rapport`'s data over 100,000 plans.

A database of generated plans' facts (households and plans as bare rows, and a plan_facts
row each: 20 teams, eight quarters, domains, laws and totals drawn at random) is made once
per backend and size, SQLite kept in bench/.cache like the resume benchmark, PostgreSQL in a
fresh schema. Then, side by side on the same database: the report's data for every team and
for one team (bot.report.ReportService.build: the facts of older plans looked for, every
GROUP BY, medians and Decimal sums, suppression, the audit row), and the baseline, the one
aggregate a report cannot do without: `SELECT count(*), sum(huidig) FROM plan_facts`, a scan
of the same rows. The goal is the report in at most 2 s.

Run: python -m bench.rapport [--sizes 100000] [--runs N]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, text

import prompts
from bench.common import CACHE, Stats, postgres_base_url, postgres_schema, stats
from bot.facts import FactsKeeper
from bot.report import ReportService, Scope
from storage import Household, Plan, Units, create_engine_for, migrate
from storage.crypto import Keyring
from storage.db import alembic_config
from storage.facts import MONEY, PlanFactsRow, ReportName, quarter_of
from storage.outcomes import EXPERIENCE_COLUMNS, OUTCOME_MONEY

GENERATION = 2  # 2: what came true (evaluations, actions on time) filled in
SIZES = (100_000,)
TEAMS = tuple(f"Team {n:02d}" for n in range(1, 21))
DOMAINS = ("Wonen", "Welzijn", "Werk", "Financieel", "Opleiding")
LAWS = (
    "Participatiewet",
    "Wet primair onderwijs",
    "Wet voortgezet onderwijs",
    "Wmo",
    "Zorgverzekeringswet",
    "Woningwet",
    "Anders, namelijk",
)
FIRST_DAY = date(2025, 1, 1)
DAYS = 730  # eight quarters
BATCH = 10_000
GOAL_S = 2.0
# A key for the units of work; nothing is encrypted or decrypted in a report.
KEYRING = Keyring.from_secret("YmVuY2gta2V5LWZvci1pbnZlbnRlZC1kYXRhLW9ubHk=")


def cache_file(size: int, directory: Path = CACHE) -> Path:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return directory / f"rapport-{size}-g{GENERATION}-m{head}.db"


def _bits(rng: random.Random, count: int, most: int) -> int:
    picked = rng.sample(range(count), rng.randrange(0, most + 1))
    return sum(1 << bit for bit in picked)


def fill(
    engine: Engine, size: int, seed: int = 16, teams: Sequence[str] = TEAMS, days: int = DAYS
) -> float:
    """Generate `size` plans with their facts into a migrated database; the seconds it took."""
    start = time.perf_counter()
    rng = random.Random(seed)
    stamp = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        names = [("domein", DOMAINS), ("schuurt", DOMAINS), ("wet", LAWS)]
        connection.execute(
            insert(ReportName),
            [
                {"kind": kind, "bit": bit, "name": name}
                for kind, values in names
                for bit, name in enumerate(values)
            ],
        )
        for first in range(0, size, BATCH):
            numbers = range(first + 1, min(size, first + BATCH) + 1)
            connection.execute(
                insert(Household),
                [{"id": n, "number": f"{n:064x}", "created_at": stamp} for n in numbers],
            )
            connection.execute(
                insert(Plan),
                [
                    {
                        "id": n,
                        "household_id": n,
                        "status": "klaar",
                        "state": "klaar",
                        "data": "{}",
                        "revision": 1,
                        "owner": None,
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                    for n in numbers
                ],
            )
            connection.execute(
                insert(PlanFactsRow), [_facts(rng, n, stamp, teams, days) for n in numbers]
            )
    return time.perf_counter() - start


def _facts(
    rng: random.Random, plan_id: int, stamp: datetime, teams: Sequence[str], days: int
) -> dict[str, object]:
    started = FIRST_DAY + timedelta(days=rng.randrange(days))
    finished = started + timedelta(days=rng.randrange(2, 120)) if rng.random() < 0.7 else None
    row: dict[str, object] = {
        "plan_id": plan_id,
        "team": rng.choice(teams),
        "started_on": started,
        "started_quarter": quarter_of(started),
        "finished_on": finished,
        "finished_quarter": None if finished is None else quarter_of(finished),
        "finished_days": None if finished is None else (finished - started).days,
        "domains": _bits(rng, len(DOMAINS), 3) or 1,
        "schuurt": _bits(rng, len(DOMAINS), 3),
        "laws": _bits(rng, len(LAWS), 4),
        "updated_at": stamp,
        **dict.fromkeys(MONEY),
    }
    if finished is not None and rng.random() < 0.9:
        huidig, dreigend, doorbraak = (rng.randrange(0, 150_000) for _ in range(3))
        row.update(
            huidig=huidig,
            dreigend=dreigend,
            doorbraak=doorbraak,
            directe=doorbraak - huidig,
            reele=dreigend - doorbraak,
        )
    row.update(_outcomes(rng, finished))
    return row


ANSWERS = (("Ja", "Deels", "Nee"), *[("Ja", "Nee", "Weet niet")] * 3)


def _outcomes(rng: random.Random, finished: date | None) -> dict[str, object]:
    """What came true (storage.outcomes): of a finished plan its actions with a date and
    those done on time, and for about half of them a last evaluation 3 to 12 months on."""
    row: dict[str, object] = {
        "actions_dated": 0,
        "actions_on_time": 0,
        **dict.fromkeys(("realised_on", "realised_quarter", *OUTCOME_MONEY)),
        **dict.fromkeys(EXPERIENCE_COLUMNS.values()),
    }
    if finished is None:
        return row
    dated = rng.randrange(0, 6)
    row.update(actions_dated=dated, actions_on_time=rng.randrange(0, dated + 1))
    if rng.random() < 0.5:
        realised = finished + timedelta(days=rng.randrange(90, 366))
        projected = [rng.randrange(-60_000, 90_000) for _ in range(2)]
        row.update(
            realised_on=realised,
            realised_quarter=quarter_of(realised),
            projected_directe=projected[0],
            projected_reele=projected[1],
            realised_directe=projected[0] + rng.randrange(-9_000, 9_000),
            realised_reele=projected[1] + rng.randrange(-9_000, 9_000),
            **{
                column: rng.choice(choices)
                for column, choices in zip(EXPERIENCE_COLUMNS.values(), ANSWERS, strict=True)
            },
        )
    return row


@dataclass(frozen=True)
class Measured:
    backend: str
    plans: int
    generated_s: float | None  # None: taken from the cache
    baseline: Stats  # ms
    all_teams: Stats  # ms
    one_team: Stats  # ms
    # The CPU time of this process in the report for all teams (the database server's not
    # counted): what the wall-clock time would be on an idle machine, near enough for SQLite.
    all_teams_cpu: Stats  # ms


def measure(
    engine: Engine, runs: int
) -> tuple[list[float], list[float], list[float], list[float]]:
    units = Units(engine, KEYRING)
    spec = prompts.load_interview()
    report = ReportService(units, FactsKeeper(spec, units))
    baseline: list[float] = []
    everyone: list[float] = []
    one: list[float] = []
    cpu: list[float] = []

    def timed(work: object) -> float:
        begin = time.perf_counter()
        work()  # type: ignore[operator]
        return (time.perf_counter() - begin) * 1000

    def scan() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*), sum(huidig) FROM plan_facts")).one()

    for attempt in range(runs + 1):  # one to warm up
        scanned = timed(scan)
        begin = time.process_time()
        whole = timed(lambda: report.build(Scope(), actor="bench", fmt="json"))
        used = (time.process_time() - begin) * 1000
        single = timed(lambda: report.build(Scope((TEAMS[0],)), actor="bench", fmt="json"))
        if attempt:
            baseline.append(scanned)
            everyone.append(whole)
            cpu.append(used)
            one.append(single)
    return baseline, everyone, one, cpu


def run(
    sizes: Sequence[int], runs: int, *, cache: Path = CACHE, postgres: str | None = None
) -> Iterator[Measured]:
    for size in sizes:
        path = cache_file(size, cache)
        generated: float | None = None
        engine = create_engine_for(f"sqlite:///{path}")
        try:
            if not path.exists() or _plans(engine) != size:
                engine.dispose()
                path.unlink(missing_ok=True)
                engine = create_engine_for(f"sqlite:///{path}")
                migrate(engine)
                generated = fill(engine, size)
            yield Measured("SQLite", size, generated, *map(stats, measure(engine, runs)))
        finally:
            engine.dispose()
        if postgres is None:
            continue
        with ExitStack() as stack:
            url = stack.enter_context(postgres_schema(postgres, "rapport"))
            engine = create_engine_for(url)
            stack.callback(engine.dispose)
            migrate(engine)
            generated = fill(engine, size)
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
            yield Measured("PostgreSQL", size, generated, *map(stats, measure(engine, runs)))


def _plans(engine: Engine) -> int:
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM plan_facts")).scalar_one())
    except Exception:
        return -1


def table(rows: Sequence[Measured]) -> str:
    lines = [
        "| database | plans | baseline p50 ms | report, all teams p50 ms | p95 ms"
        " | CPU p50 ms | all teams / baseline | report, one team p50 ms | goal ≤ 2 s | data |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        made = "cached" if r.generated_s is None else f"generated in {r.generated_s:.0f} s"
        ratio = r.all_teams.p50 / r.baseline.p50 if r.baseline.p50 else float("nan")
        met = "yes" if max(r.all_teams.p95, r.one_team.p95) <= GOAL_S * 1000 else "no"
        lines.append(
            f"| {r.backend} | {r.plans:,} | {r.baseline.p50:.1f} | {r.all_teams.p50:.0f}"
            f" | {r.all_teams.p95:.0f} | {r.all_teams_cpu.p50:.0f} | {ratio:.1f}"
            f" | {r.one_team.p50:.0f} | {met} | {made} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = list(run(args.sizes, args.runs, cache=args.cache, postgres=postgres_base_url()))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
