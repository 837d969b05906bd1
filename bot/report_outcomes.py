"""What came true, in the report over all plans (version 2 of its document): per quarter and
team the evaluated plans' comparisons projected against realised (sums and medians), the
finished plans' actions with a date and done on time, and the evaluations' fixed-choice
answers, with the report's suppression. Read from the facts (storage.outcomes) alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from bot.suppression import HIDDEN, shown_count
from storage import UnitOfWork
from storage.facts import FactFilter
from storage.outcomes import EXPERIENCE_COLUMNS, OUTCOME_MONEY, OutcomeReader

# The counts of a cell (bot.report.Cell.counts) this part adds, each protected like the rest:
# the plans whose last evaluation was completed in the cell, those of them with realised
# costs, and the finished plans with actions that have a date.
EVALUATED: Final = "outcome"
WITH_FIGURES: Final = "outcome_figures"
ACTION_PLANS: Final = "actions"
_DATED, _ON_TIME = "actions_dated", "actions_on_time"
QUESTIONS: Final = tuple(EXPERIENCE_COLUMNS)
# Answers in this order first (the evaluation's own lists), then any other alphabetically.
_ORDER: Final = ("Ja", "Deels", "Nee", "Weet niet")
_SHARE = Decimal("0.001")
_ANSWER = "answer"


def _answer_key(question: str, answer: str) -> str:
    return f"{_ANSWER}\x00{question}\x00{answer}"


def gather_outcomes(uow: UnitOfWork, where: FactFilter, cell: Callable[[int, Any], Any]) -> None:
    """Add the outcomes in scope to the cells (`cell(quarter, team)` gives or makes one)."""
    reader = OutcomeReader(uow.tx)
    money = len(OUTCOME_MONEY)
    # One row per evaluated plan (the medians need them), taken a cell at a time.
    evaluated: dict[tuple[int, Any], list[Any]] = {}
    for row in reader.evaluated(where):
        evaluated.setdefault((row[0], row[1]), []).append(row)
    for (quarter, team), rows in evaluated.items():
        target = cell(quarter, team)
        target.counts[EVALUATED] += len(rows)
        complete = [row[2 : 2 + money] for row in rows if None not in row[2 : 2 + money]]
        target.counts[WITH_FIGURES] += len(complete)
        for key, amounts in zip(OUTCOME_MONEY, zip(*complete, strict=True), strict=False):
            target.outcomes.setdefault(key, []).extend(amounts)
        for n, question in enumerate(QUESTIONS):
            for answer, plans in Counter(row[2 + money + n] for row in rows).items():
                if answer is not None:
                    target.counts[_answer_key(question, answer)] += plans
        # Sorted once here: the medians of the periods and of all teams sort runs of these.
        for amounts in target.outcomes.values():
            amounts.sort()
    for quarter, team, plans, dated, on_time in reader.actions(where):
        target = cell(quarter, team)
        target.counts[ACTION_PLANS] += int(plans)
        target.counts[_DATED] += int(dated or 0)
        target.counts[_ON_TIME] += int(on_time or 0)


def outcome_measures(cell: Any) -> dict[tuple[str, ...], int]:
    """The plan counts of this part that bot.report._protect protects with the others."""
    return {("count", name): cell.counts[name] for name in (EVALUATED, WITH_FIGURES, ACTION_PLANS)}


def answer_names(cells: Iterable[Any]) -> dict[str, list[str]]:
    """Per question the answers given anywhere in the report, in the evaluation's order."""
    found: dict[str, set[str]] = {question: set() for question in QUESTIONS}
    for cell in cells:
        for key in cell.counts:
            if key.startswith(_ANSWER + "\x00"):
                _, question, answer = key.split("\x00", 2)
                found[question].add(answer)
    return {
        question: sorted(
            answers,
            key=lambda a: (_ORDER.index(a) if a in _ORDER else len(_ORDER), a),
        )
        for question, answers in found.items()
    }


Key = tuple[int, Any]
Measure = tuple[str, ...]


def protect_answers(
    cells: Mapping[Key, Any],
    keys: Sequence[Key],
    lines: Sequence[tuple[Sequence[Key], Key | None]],
    shown: Mapping[tuple[Measure, Key], Any],
) -> dict[tuple[Measure, Key], Any]:
    """The answers' counts as shown. Besides the rows and columns of cells (`lines`, each
    with the cell of its total, as bot.report._protect), the answers to one question in a
    cell add up to the cell's evaluated plans: where that count is shown and one answer is
    hidden, or that count is hidden and no answer is, the smallest other answer is hidden
    too, until nothing changes (bot.suppression)."""
    names = answer_names(cells.values())
    grid: dict[tuple[Measure, Key], int] = {}
    for question, answers in names.items():
        for answer in answers:
            for key in keys:
                cell = cells.get(key)
                plans = 0 if cell is None else cell.counts[_answer_key(question, answer)]
                grid[((_ANSWER, question, answer), key)] = plans
    state: dict[tuple[Measure, Key], Any] = {k: shown_count(v) for k, v in grid.items()}

    def hide_smallest(members: Sequence[tuple[Measure, Key]]) -> bool:
        open_ = [m for m in members if isinstance(state[m], int) and grid[m]]
        if not open_:
            return False
        smallest = min(open_, key=lambda m: (grid[m], m[1][0], str(m[1][1]), m[0]))
        state[smallest] = HIDDEN
        return True

    changed = True
    while changed:
        changed = False
        for question, answers in names.items():
            measures = [(_ANSWER, question, answer) for answer in answers]
            for measure in measures:
                for members, margin in lines:
                    if margin is None or not isinstance(state[(measure, margin)], int):
                        continue
                    cells_of = [(measure, key) for key in members]
                    masked = [m for m in cells_of if not isinstance(state[m], int)]
                    if len(masked) == 1:
                        changed = hide_smallest(cells_of) or changed
            for key in keys:
                in_cell = [(measure, key) for measure in measures]
                masked = [m for m in in_cell if not isinstance(state[m], int)]
                total_open = isinstance(shown.get((("count", EVALUATED), key), 0), int)
                if len(masked) == (1 if total_open else 0):
                    changed = hide_smallest(in_cell) or changed
    return state


def outcomes_json(
    cell: Any,
    shown: Mapping[tuple[Measure, Key], Any],
    key: Key,
    answers: Mapping[str, Sequence[str]],
    median: Callable[[Sequence[int]], str | None],
) -> dict[str, Any]:
    """The row's `outcomes` and `actions` in the report's document; `median` gives a list's
    median as the report writes it."""

    def count(*measure: str) -> Any:
        return shown.get((measure, key), 0)

    with_figures = count("count", WITH_FIGURES)
    figures = isinstance(with_figures, int) and with_figures > 0
    action_plans = count("count", ACTION_PLANS)
    actions_open = isinstance(action_plans, int) and action_plans > 0
    dated, on_time = cell.counts[_DATED], cell.counts[_ON_TIME]
    share = None
    if actions_open and dated:
        exact = Decimal(on_time) / Decimal(dated)
        share = str(exact.quantize(_SHARE, rounding=ROUND_HALF_UP))
    return {
        "outcomes": {
            "plans": count("count", EVALUATED),
            "with_figures": with_figures,
            "sum": (
                {k: str(sum(cell.outcomes.get(k, []))) for k in OUTCOME_MONEY} if figures else None
            ),
            "median": (
                {k: median(cell.outcomes.get(k, [])) for k in OUTCOME_MONEY} if figures else None
            ),
            "answers": {
                question: {answer: count(_ANSWER, question, answer) for answer in found}
                for question, found in answers.items()
            },
        },
        "actions": {
            "plans": action_plans,
            "dated": dated if actions_open else None,
            "on_time": on_time if actions_open else None,
            "share": share,
        },
    }
