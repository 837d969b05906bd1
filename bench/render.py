"""Document rendering times: each format for a typical (Eveline) and a large plan.

Run: python -m bench.render [--runs N]. Prints a Markdown table of medians (and p95) in
milliseconds, measured in this process, one format after another.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import settings
from bot.bootstrap import App, bootstrap
from bot.local import LocalChat
from dialogs import Done, Error, Field, Kind, Question

TODAY = date(2026, 11, 23)

# The Eveline case of the book (part II), as the professional types it.
EVELINE_COSTS = [
    "Klaar",
    "Maatschappelijke opvang", "1", "182", "eenmalig in de periode",
    "Schuldhulpverlening", "1", "1", "eenmalig in de periode",
    "Jeugdbescherming", "1", "3", "eenmalig in de periode",
    "Pleegzorgplaats", "1", "1,5", "eenmalig in de periode",
    "Ondertoezichtstelling", "1", "1,5", "eenmalig in de periode",
    "Klaar",
    "Ja, overnemen", "0", "1", "0", "0", "0",
    "Huurtoeslag", "1", "1", "per jaar",
    "Klaar",
]  # fmt: skip


def _answer(field: Any, long: bool) -> str:
    """An invented answer for any field; `long` makes free text about 4,000 characters."""
    match field.kind:
        case Kind.CHOICE:
            return str(field.choices[0])
        case Kind.MULTICHOICE:
            return str(field.choices[0])
        case Kind.MONEY:
            return "1250"
        case Kind.NUMBER:
            return "12"
        case Kind.DATE:
            return "15-03-2027"
        case Kind.LIST if field.columns:
            return "Wijkteam - bespreekt het plan met de Wmo - binnen een week"
        case Kind.LIST:
            return "rust in huis; een eigen woning"
        case Kind.GROUP:
            return "Nee"  # no further rules in the way: the first rule has its own fields
    base = "Het huishouden woont sinds een half jaar bij vrienden en zoekt een eigen plek. "
    return base * 50 if long and not field.max_length else base


def drive_plan(
    app: App,
    household: str,
    costs: list[str],
    answer: Callable[[Field], str],
    *,
    author: str = "bench",
    typed: list[tuple[Question, str]] | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Make a complete plan through the dialog and return its stored answers: `answer` gives
    the text for each question (for a group: its first item, typed whole), `costs` the texts
    typed in the cost-line fields, in order;
    `typed` collects each question and the text given to it; `strict` fails on any refusal."""
    chat = LocalChat(app, household, author=author)
    items = chat.begin()
    pending = list(costs)
    grouped: set[str] = set()
    for _ in range(2000):
        if any(isinstance(i, Done) for i in items):
            break
        question = [i for i in items if isinstance(i, Question)][-1]
        field = app.dialog.spec.field(question.field)
        if field.kind is Kind.COSTS:
            text = pending.pop(0)
        elif field.kind is Kind.GROUP and field.key in grouped:
            text = "Nee"  # a group's question comes back after each item: one is enough
        else:
            text = answer(field)
            if field.kind is Kind.GROUP:
                grouped.add(field.key)
        if typed is not None:
            typed.append((question, text))
        items, _ = chat.send(text)
        if strict and any(isinstance(i, Error) for i in items):
            raise RuntimeError(f"{field.key}: the answer was refused")
    else:
        raise RuntimeError("the plan did not finish; an answer is refused again and again")
    if pending:
        raise RuntimeError(f"{len(pending)} cost-line texts were not asked for")
    found = app.service.current(household)
    assert found is not None
    return found[0].answers


def build_plan(
    app: App,
    household: str,
    costs: list[str],
    *,
    long: bool,
    typed: list[tuple[Question, str]] | None = None,
) -> dict[str, Any]:
    """A complete plan with invented answers (the script the Telegram benchmark replays)."""

    def answer(field: Field) -> str:
        return "overslaan" if field.key == "rendement.periode" else _answer(field, long)

    return drive_plan(app, household, costs, answer, typed=typed)


def large_costs() -> list[str]:
    lines: list[str] = []
    for n in range(60):
        lines += [f"Kostenpost {n:02d}", "12,50", "stuk", str(n % 7 + 1), "per maand"]
    return ["Klaar", *lines, "Klaar", "Nee, nieuwe posten", "Klaar"]


def measure(work: Callable[[int], object], runs: int) -> tuple[float, float]:
    """Median and p95 of `runs` calls of work(n), after one to warm up. Each call gets its
    own n, to render a document that differs from the ones before: Typst remembers layouts
    across compiles, and the same document again takes a third of the time a new one does,
    while every plan a professional finishes is new."""
    work(-1)  # warm up: templates compiled, fonts loaded
    times = []
    for n in range(runs):
        start = time.perf_counter()
        work(n)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def run(runs: int) -> list[tuple[str, str, float, float]]:
    with tempfile.TemporaryDirectory() as directory:
        app = bootstrap(settings(Path(directory)))
        try:
            plans = {
                "typical (Eveline)": build_plan(app, "3012", EVELINE_COSTS, long=False),
                "large (60 lines, long answers)": build_plan(
                    app, "4021", large_costs(), long=True
                ),
            }
            renderer = app.renderer
            rows = []
            for name, answers in plans.items():
                household = "3012" if "Eveline" in name else "4021"
                for label, fmt in (("PDF", "pdf"), ("DOCX", "docx"), ("chart PNG", "png"),
                                   ("HTML", "html"), ("Markdown", "md")):  # fmt: skip
                    median, p95 = measure(
                        lambda n, fmt=fmt, a=answers, h=household: renderer.render(
                            fmt, f"{h}-{n}", a, TODAY
                        ),
                        runs,
                    )
                    rows.append((name, label, median, p95))
            return rows
        finally:
            app.engine.dispose()


def table(rows: list[tuple[str, str, float, float]]) -> str:
    lines = ["| plan | format | median ms | p95 ms |", "|---|---|---:|---:|"]
    lines += [f"| {plan} | {fmt} | {median:.1f} | {p95:.1f} |" for plan, fmt, median, p95 in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    print(table(run(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
