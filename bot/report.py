"""The report over all plans for the quarterly reflectiesessie: per quarter and team, counts,
medians and sums made from the plans' facts (storage.facts), with small cells suppressed."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from itertools import combinations
from typing import Any, Final

from bot.bundle import bundle_sections
from bot.clock import AMSTERDAM, Clock, SystemClock
from bot.facts import FactsKeeper
from bot.lessons import report_lessons
from bot.report_outcomes import (
    answer_names,
    gather_outcomes,
    outcome_measures,
    outcomes_json,
    protect_answers,
)
from bot.suppression import HIDDEN, MIN_COUNT, SMALL, Shown, shown_count
from dialogs.facts import DOMAINS, LAWS, SCHUURT
from storage import UnitOfWork, UnitOfWorkFactory
from storage.access import BELEIDSMEDEWERKER, TEAMLEIDER, ProfessionalRecord
from storage.facts import GRANTED, MONEY, PARTLY, REFUSED, FactFilter, quarter_of

log = logging.getLogger(__name__)

FORMAT: Final = "doorbraakbot-rapport"
# 2: each row also holds what came true (`outcomes`, `actions`: bot.report_outcomes).
VERSION: Final = 2
# The audit action of a report (bot.access names the others).
REPORTED: Final = "rapport"
# The counts of a cell, in the report's order; those after `finished` are the plan's course
# after it is finished (issue 15 fills them; zero until then).
COUNTS: Final = (
    "started",
    "finished",
    "submitted",
    "granted",
    "partly",
    "refused",
    "escalated",
    "evaluated",
)
_COURSE_COLUMNS: Final = {
    "submitted": "submitted_on",
    "escalated": "escalated_on",
    "evaluated": "evaluated_on",
}
_DECISIONS: Final = {GRANTED: "granted", PARTLY: "partly", REFUSED: "refused"}
# The name kinds of the facts, by their key in the report.
NAME_KINDS: Final = {"domains": DOMAINS, "schuurt": SCHUURT, "laws": LAWS}
# The key of the whole period among the quarters, and of all teams in scope among the teams.
PERIOD: Final = 0
ALL: Final = "\x00alle"


class ReportDenied(Exception):
    """This professional's role does not give this report."""


@dataclass(frozen=True)
class Scope:
    """Which teams (None: every team) and days a report covers."""

    teams: tuple[str | None, ...] | None = None
    since: date | None = None
    until: date | None = None
    # The one team whose plans' shared texts the appendix shows (issue 16): set only for a
    # report of that team seen from within it (its teamleider, or the administrator's
    # `--team`); never for a report over several teams.
    texts: str | None = None

    def filter(self) -> FactFilter:
        return FactFilter(self.teams, self.since, self.until)


def scope_for(
    professional: ProfessionalRecord | None,
    team: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Scope:
    """The scope a professional may see: a teamleider their own team, a beleidsmedewerker
    every team (or the one asked), others none (ReportDenied). None: the administrator in
    the terminal, who holds the database and sees every team."""
    if professional is None:
        return Scope(None if team is None else (team,), since, until, texts=team)
    if professional.role == BELEIDSMEDEWERKER:
        return Scope(None if team is None else (team,), since, until)
    if professional.role == TEAMLEIDER and team in (None, professional.team):
        return Scope((professional.team,), since, until, texts=professional.team)
    raise ReportDenied


@dataclass
class Cell:
    """What is counted for one quarter and team (or the period, or all teams)."""

    counts: Counter[str] = field(default_factory=Counter)
    names: dict[str, Counter[str]] = field(default_factory=dict)
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    finished_days: Counter[int] = field(default_factory=Counter)
    decision_days: list[int] = field(default_factory=list)
    money: dict[str, list[int]] = field(default_factory=dict)
    # The evaluated plans' comparisons, projected and realised (bot.report_outcomes).
    outcomes: dict[str, list[int]] = field(default_factory=dict)

    def merge(self, other: Cell) -> None:
        self.counts.update(other.counts)
        for kind, counter in other.names.items():
            self.names.setdefault(kind, Counter()).update(counter)
        self.pairs.update(other.pairs)
        self.finished_days.update(other.finished_days)
        self.decision_days.extend(other.decision_days)
        for key, values in other.money.items():
            self.money.setdefault(key, []).extend(values)
        for key, values in other.outcomes.items():
            self.outcomes.setdefault(key, []).extend(values)


class ReportService:
    """Builds the report's data (the versioned JSON document) from the facts, and audits it."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        facts: FactsKeeper,
        clock: Clock | None = None,
    ) -> None:
        self.units = units
        self.facts = facts
        self.clock = clock or SystemClock()

    def build(self, scope: Scope, *, actor: str, fmt: str) -> dict[str, Any]:
        """The report as its JSON document; the report is audited (no content, only who
        asked for which teams and format)."""
        self.facts.backfill()
        if fmt == "json":
            # The exchange format leaves the team's shared texts out: an owner shares them
            # within the team, never beyond it, and a JSON file is made to be sent on.
            scope = replace(scope, texts=None)
        with self.units(read_only=True, snapshot=True) as uow:
            document = build_report(uow, scope, self.clock.now())
        teams = "alle" if scope.teams is None else ",".join(t or "-" for t in scope.teams)
        with self.units() as uow:
            uow.access.audit(actor, REPORTED, None, f"{fmt} {teams}"[:64])
        return document


def build_report(uow: UnitOfWork, scope: Scope, now: datetime) -> dict[str, Any]:
    """The report's JSON document (bot/rapport.schema.json) over the facts in `uow`."""
    names = uow.facts.names()
    cells = _gather(uow, scope, names)
    teams = _teams(scope, cells)
    quarters = _quarters(scope, cells)
    _margins(cells, quarters, teams)
    shown = _protect(cells, quarters, teams)
    columns, lines = protection_lines(quarters, teams)
    keys = [(quarter, team) for quarter in (*quarters, PERIOD) for team in columns]
    shown.update(protect_answers(cells, keys, lines, shown))
    answers = answer_names(cells.values())
    kinds = {key: _ordered(names.get(kind, {})) for key, kind in NAME_KINDS.items()}
    law_pairs = list(combinations(kinds["laws"], 2))
    columns = [*teams, ALL] if len(teams) > 1 else teams

    def cell_json(quarter: int, team: str) -> dict[str, Any]:
        found = cells.get((quarter, team), Cell())
        return {
            **_cell_json(found, shown, (quarter, team), kinds, law_pairs),
            **outcomes_json(found, shown, (quarter, team), answers, _median_text),
        }

    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_on": now.astimezone(AMSTERDAM).date().isoformat(),
        "scope": {
            "teams": None if scope.teams is None else list(scope.teams),
            "from": None if scope.since is None else scope.since.isoformat(),
            "to": None if scope.until is None else scope.until.isoformat(),
        },
        "min_count": MIN_COUNT,
        "small": SMALL,
        "hidden": HIDDEN,
        "names": kinds,
        "quarters": [
            {
                "quarter": quarter_label(quarter),
                "rows": [
                    {"team": _team_out(team), **cell_json(quarter, team)} for team in columns
                ],
            }
            for quarter in quarters
        ],
        "period": {
            "rows": [{"team": _team_out(team), **cell_json(PERIOD, team)} for team in columns]
        },
        # Lessons with an owner (issue 16), within the same scope.
        "lessen": report_lessons(uow, scope.teams, scope.since, scope.until),
        **bundle_sections(uow, scope.filter(), names, _texts_team(scope)),
    }


def _texts_team(scope: Scope) -> str | None:
    # Texts only in a report of exactly the one team they may be shown in.
    return scope.texts if scope.teams == (scope.texts,) else None


def quarter_label(quarter: int) -> str:
    """20264 as `2026-K4` (kwartaal)."""
    return f"{quarter // 10}-K{quarter % 10}"


def _team_out(team: str | None) -> str | None:
    # In the document: a team's name; None for plans made in the terminal; "*" for all teams.
    return "*" if team == ALL else team


# --- gathering ---------------------------------------------------------------------------


Key = tuple[int, Any]


def _gather(
    uow: UnitOfWork, scope: Scope, names: Mapping[str, Mapping[int, str]]
) -> dict[Key, Cell]:
    where = scope.filter()
    cells: dict[Key, Cell] = {}

    def cell(quarter: int, team: str | None) -> Cell:
        key = (quarter, team)
        found = cells.get(key)
        if found is None:
            found = cells[key] = Cell()
        return found

    # Every name's and law pair's count by the database, in one scan of the started plans.
    bits = {kind: sorted(names.get(kind, {})) for kind in NAME_KINDS.values()}
    laws = bits[LAWS]
    pairs = list(combinations(laws, 2))
    masks = [(1 << a) | (1 << b) for a, b in pairs]
    for quarter, team, plans, *counts in uow.report.started(where, bits, masks):
        target = cell(quarter, team)
        target.counts["started"] += plans
        found = iter(counts)
        for key, kind in NAME_KINDS.items():
            counter = target.names.setdefault(key, Counter())
            for bit in bits[kind]:
                counter[names[kind][bit]] += int(next(found))
        for (a, b), plans_with in zip(pairs, found, strict=True):
            target.pairs[(names[LAWS][a], names[LAWS][b])] += int(plans_with)
    # One row per finished plan (the medians need them), taken a cell at a time.
    finished: dict[Key, list[tuple[Any, ...]]] = {}
    for row in uow.report.finished(where):
        finished.setdefault((row[0], row[1]), []).append(row)
    for (quarter, team), rows in finished.items():
        target = cell(quarter, team)
        target.counts["finished"] += len(rows)
        target.finished_days.update(row[2] for row in rows if row[2] is not None)
        with_figures = [row[3:] for row in rows if row[3] is not None]
        target.counts["rendement"] += len(with_figures)
        for key, amounts in zip(MONEY, zip(*with_figures, strict=True), strict=False):
            target.money.setdefault(key, []).extend(amounts)
    for measure, column in _COURSE_COLUMNS.items():
        for day, team, plans in uow.report.on_day(where, column):
            cell(quarter_of(day), team).counts[measure] += plans
    for day, team, decision, started in uow.report.decisions(where):
        target = cell(quarter_of(day), team)
        if decision in _DECISIONS:
            target.counts[_DECISIONS[decision]] += 1
        target.decision_days.append((day - started).days)
    gather_outcomes(uow, where, cell)
    # Sorted once here: the medians of the periods and of all teams sort runs of these.
    for gathered in cells.values():
        for figures in gathered.money.values():
            figures.sort()
        gathered.decision_days.sort()
    return cells


def _ordered(names: Mapping[int, str]) -> list[str]:
    return [name for _, name in sorted(names.items())]


def _teams(scope: Scope, cells: Mapping[Key, Cell]) -> list[Any]:
    found = set(scope.teams) if scope.teams is not None else {team for _, team in cells}
    # Named teams in order, then the terminal's plans (no team).
    return sorted(found, key=lambda team: (team is None, team or ""))


def _quarters(scope: Scope, cells: Mapping[Key, Cell]) -> list[int]:
    found = {quarter for quarter, _ in cells}
    if scope.since is not None and scope.until is not None:
        quarter = quarter_of(scope.since)
        while quarter <= quarter_of(scope.until):
            found.add(quarter)
            quarter = quarter + 7 if quarter % 10 == 4 else quarter + 1
    return sorted(found)


def _margins(cells: dict[Key, Cell], quarters: Sequence[int], teams: Sequence[Any]) -> None:
    """Add the period (all quarters) per team, and all teams per quarter and period."""
    for team in teams:
        total = cells.setdefault((PERIOD, team), Cell())
        for quarter in quarters:
            if (quarter, team) in cells:
                total.merge(cells[(quarter, team)])
    if len(teams) > 1:
        for quarter in (*quarters, PERIOD):
            total = cells.setdefault((quarter, ALL), Cell())
            for team in teams:
                if (quarter, team) in cells:
                    total.merge(cells[(quarter, team)])


# --- suppression -------------------------------------------------------------------------


Measure = tuple[str, ...]


def _measures(cell: Cell) -> dict[Measure, int]:
    found: dict[Measure, int] = {("count", name): cell.counts[name] for name in COUNTS}
    found[("count", "rendement")] = cell.counts["rendement"]
    for kind, counter in cell.names.items():
        for name, plans in counter.items():
            found[(kind, name)] = plans
    for pair, plans in cell.pairs.items():
        found[("pair", *pair)] = plans
    found.update(outcome_measures(cell))
    return found


def protection_lines(
    quarters: Sequence[int], teams: Sequence[Any]
) -> tuple[list[Any], list[tuple[list[Key], Key | None]]]:
    """The columns (teams, and all teams when several), and every row and column of cells
    with the cell holding its total (None: no total shown)."""
    columns = [*teams, ALL] if len(teams) > 1 else list(teams)
    lines: list[tuple[list[Key], Key | None]] = []
    for quarter in (*quarters, PERIOD):
        margin = (quarter, ALL) if len(teams) > 1 else None
        lines.append(([(quarter, team) for team in teams], margin))
    for team in columns:
        margin = (PERIOD, team) if len(quarters) > 1 else None
        lines.append(([(quarter, team) for quarter in quarters], margin))
    return columns, lines


def _protect(
    cells: Mapping[Key, Cell], quarters: Sequence[int], teams: Sequence[Any]
) -> dict[tuple[Measure, Key], Shown]:
    """Each measure's counts as shown: from 1 to MIN_COUNT - 1 as SMALL, and then, until nothing
    changes, in any row or column whose total is shown and that has exactly one hidden
    count, its smallest shown count as HIDDEN too (else total minus the rest gives it)."""
    values = {key: _measures(cell) for key, cell in cells.items()}
    measures = {measure for found in values.values() for measure in found}
    columns, lines = protection_lines(quarters, teams)
    shown: dict[tuple[Measure, Key], Shown] = {}
    for measure in measures:
        grid = {
            (quarter, team): values.get((quarter, team), {}).get(measure, 0)
            for quarter in (*quarters, PERIOD)
            for team in columns
        }
        state: dict[Key, Shown] = {k: shown_count(v) for k, v in grid.items()}
        changed = True
        while changed:
            changed = False
            for members, margin in lines:
                if margin is None or not isinstance(state[margin], int):
                    continue
                hidden = [k for k in members if not isinstance(state[k], int)]
                # A zero gives nothing away (no plan, no household), and hiding it hides
                # nothing: the cell hidden beside the small one holds plans.
                open_ = [k for k in members if isinstance(state[k], int) and grid[k]]
                if len(hidden) == 1 and open_:
                    smallest = min(open_, key=lambda k: (grid[k], k[0], str(k[1])))
                    state[smallest] = HIDDEN
                    changed = True
        for key, value in state.items():
            shown[(measure, key)] = value
    return shown


# --- the document ------------------------------------------------------------------------


def _cell_json(
    cell: Cell,
    shown: Mapping[tuple[Measure, Key], Shown],
    key: Key,
    kinds: Mapping[str, Sequence[str]],
    law_pairs: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    def count(*measure: str) -> Shown:
        return shown.get((measure, key), 0)

    counts = {name: count("count", name) for name in COUNTS}
    finished_open = isinstance(counts["finished"], int)
    decided = len(cell.decision_days)
    plans = count("count", "rendement")
    rendement: dict[str, Any] = {"plans": plans, "sum": None, "median": None}
    if isinstance(plans, int) and plans:
        rendement["sum"] = {k: str(sum(cell.money.get(k, []))) for k in MONEY}
        rendement["median"] = {k: _text(median(cell.money.get(k, []))) for k in MONEY}
    return {
        **counts,
        "median_days_to_finished": (
            _text(_median_of(cell.finished_days)) if finished_open else None
        ),
        "median_days_to_decision": (
            _text(median(cell.decision_days)) if decided >= MIN_COUNT else None
        ),
        **{kind: {name: count(kind, name) for name in kinds[kind]} for kind in NAME_KINDS},
        "law_pairs": [{"laws": list(pair), "count": count("pair", *pair)} for pair in law_pairs],
        "rendement": rendement,
    }


def median(values: Iterable[int]) -> Decimal | None:
    """The median, exact: of an even number, the mean of the middle two (x.5 at most)."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Decimal(ordered[middle])
    return (Decimal(ordered[middle - 1]) + Decimal(ordered[middle])) / 2


def _median_of(histogram: Mapping[int, int]) -> Decimal | None:
    """The median of values given as value -> how often."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = (total - 1) // 2, total // 2
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        while len(found) < 2 and seen > wanted[len(found)]:
            found.append(value)
        if len(found) == 2:
            break
    return (Decimal(found[0]) + Decimal(found[1])) / 2


def _median_text(values: Sequence[int]) -> str | None:
    return _text(median(values))


def _text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return str(int(value)) if value == value.to_integral_value() else str(value)
