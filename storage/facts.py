"""Per plan the few facts the report over all plans counts, in columns the database can
group without decrypting anything; and the names behind their bit sets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, aliased, mapped_column

from storage.models import Base, Meta, Plan, UTCDateTime, utcnow
from storage.tx import Tx

# Whether the plan's texts may appear in the report's appendix: within its team (the
# default), or nowhere. The question is asked once the appendix is built (issue 16).
SHARE_TEAM, SHARE_NONE = "team", "nee"
# Decisions on a submitted plan (issue 15 fills them).
GRANTED, PARTLY, REFUSED = "toegekend", "deels", "afgewezen"
DECISIONS: Final = (GRANTED, PARTLY, REFUSED)
# The plan's course after it is finished, by column; issue 15 fills these dates.
COURSE: Final = ("submitted_on", "decided_on", "escalated_on", "evaluated_on")
MONEY: Final = ("huidig", "dreigend", "doorbraak", "directe", "reele")
# The meta key holding the highest plan id from before the report (migration 0013): those
# plans get their facts before the first report; "0" once they have them.
BEFORE: Final = "report_facts_before"
# A bit set holds at most this many names of one kind.
MAX_BITS: Final = 62


class PlanFactsRow(Base):
    """One plan's facts. Nothing in it names a household: a team, dates, choices of the
    interview's lists as bits, and totals rounded to whole euros (see the README)."""

    __tablename__ = "plan_facts"
    __table_args__ = (
        # Covering: the report reads the started and the finished plans from these alone.
        Index(
            "ix_plan_facts_started",
            "started_quarter",
            "team",
            "started_on",
            "domains",
            "schuurt",
            "laws",
        ),
        Index(
            "ix_plan_facts_finished",
            "finished_quarter",
            "team",
            "finished_on",
            "finished_days",
            "huidig",
            "dreigend",
            "doorbraak",
            "directe",
            "reele",
        ),
        # What came true (storage.outcomes): the evaluated plans, and the finished plans'
        # actions, each read from its own covering index.
        Index(
            "ix_plan_facts_realised",
            "realised_quarter",
            "team",
            "realised_on",
            "projected_directe",
            "projected_reele",
            "realised_directe",
            "realised_reele",
            "exp_doorbraak",
            "exp_meer",
            "exp_sneller",
            "exp_zinvoller",
        ),
        Index(
            "ix_plan_facts_actions",
            "finished_quarter",
            "team",
            "finished_on",
            "actions_dated",
            "actions_on_time",
        ),
    )

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    # The owner's team when the plan started; NULL for a plan made in the terminal.
    team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    started_on: Mapped[date] = mapped_column(Date, nullable=False)
    # year * 10 + quarter (20264): the report groups by it without date functions.
    started_quarter: Mapped[int] = mapped_column(Integer, nullable=False)
    finished_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    finished_quarter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    finished_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    escalated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    evaluated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Bit sets over report_names: bit n set means the name with that bit was chosen.
    domains: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    schuurt: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    laws: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    huidig: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    dreigend: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    doorbraak: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    directe: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reele: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sharing: Mapped[str] = mapped_column(
        String(8), nullable=False, default=SHARE_TEAM, server_default=SHARE_TEAM
    )
    # What came true (storage.outcomes, migration 0016): the day of the plan's last completed
    # evaluation, its doorbraakscenario projected and realised as the two comparisons over
    # the evaluation's months (whole euros), the professional's fixed-choice answers, and
    # the plan's actions with a date and how many of those were done on or before it.
    realised_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    realised_quarter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    projected_directe: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    projected_reele: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    realised_directe: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    realised_reele: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    exp_doorbraak: Mapped[str | None] = mapped_column(String(32), nullable=True)
    exp_meer: Mapped[str | None] = mapped_column(String(32), nullable=True)
    exp_sneller: Mapped[str | None] = mapped_column(String(32), nullable=True)
    exp_zinvoller: Mapped[str | None] = mapped_column(String(32), nullable=True)
    actions_dated: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    actions_on_time: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class ReportName(Base):
    """Which bit of a bit set stands for which name (a domain, a law): names are kept as
    the interview words them, so a reworded list gets new bits rather than wrong counts."""

    __tablename__ = "report_names"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_report_names_kind_name"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    bit: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)


# Kind of name (dialogs.facts) -> the bit-set column holding it.
BIT_COLUMNS: Final = {"domein": "domains", "schuurt": "schuurt", "wet": "laws"}


def quarter_of(day: date) -> int:
    return day.year * 10 + (day.month - 1) // 3 + 1


@dataclass(frozen=True)
class FactValues:
    """The facts of a plan to store (the course columns are left as they are)."""

    names: Mapping[str, Sequence[str]]
    totals: Mapping[str, int]
    finished_on: date | None
    extra: Mapping[str, Any] = field(default_factory=dict)


class FactsRepository:
    """plan_facts and report_names; the caller owns the transaction."""

    def __init__(self, tx: Tx) -> None:
        self._tx = Tx.of(tx)
        self._bits: dict[tuple[str, str], int] = {}

    def start(self, plan_id: int, *, team: str | None, started_on: date) -> None:
        """The facts row of a plan just started: its team and its day."""
        self._tx.execute(
            insert(PlanFactsRow).values(
                plan_id=plan_id,
                team=team,
                started_on=started_on,
                started_quarter=quarter_of(started_on),
                updated_at=utcnow(),
            )
        )

    def finished_on(self, plan_id: int) -> tuple[bool, date | None]:
        """(whether the plan has facts, the day it was finished)."""
        row = self._tx.execute(
            select(PlanFactsRow.finished_on).where(PlanFactsRow.plan_id == plan_id)
        ).one_or_none()
        return (False, None) if row is None else (True, row.finished_on)

    def store(
        self,
        plan_id: int,
        values: FactValues,
        *,
        started_on: date,
        team: Callable[[], str | None],
    ) -> None:
        """Update the plan's facts, or insert them with the `team` (asked only then)."""
        row: dict[str, Any] = {
            column: self.bits(kind, values.names.get(kind, ()))
            for kind, column in BIT_COLUMNS.items()
        }
        row.update({key: values.totals.get(key) for key in MONEY})
        row.update(values.extra)
        day = values.finished_on
        row.update(
            finished_on=day,
            finished_quarter=None if day is None else quarter_of(day),
            finished_days=None if day is None else (day - started_on).days,
            updated_at=utcnow(),
        )
        updated = self._tx.execute(
            update(PlanFactsRow).where(PlanFactsRow.plan_id == plan_id).values(**row)
        )
        if updated.rowcount == 1:
            return
        self._tx.execute(
            insert(PlanFactsRow).values(
                plan_id=plan_id,
                team=team(),
                started_on=started_on,
                started_quarter=quarter_of(started_on),
                **row,
            )
        )

    def set_course(self, plan_id: int, **values: Any) -> None:
        """Set course columns (COURSE, decision) or `sharing`: issue 15's hooks call this."""
        allowed = {*COURSE, "decision", "sharing"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not a course column: {sorted(unknown)}")
        self._tx.execute(
            update(PlanFactsRow)
            .where(PlanFactsRow.plan_id == plan_id)
            .values(**values, updated_at=utcnow())
        )

    def supersede(self, plan_id: int) -> int:
        """Drop the facts of the household's other plans that are this same plan imported
        before (the same start time): a plan imported twice is counted once."""
        this = self._tx.execute(
            select(Plan.household_id, Plan.created_at).where(Plan.id == plan_id)
        ).one()
        twins = select(Plan.id).where(
            and_(
                Plan.household_id == this.household_id,
                Plan.created_at == this.created_at,
                Plan.id != plan_id,
            )
        )
        result = self._tx.execute(delete(PlanFactsRow).where(PlanFactsRow.plan_id.in_(twins)))
        return int(result.rowcount or 0)

    def missing(self) -> list[int]:
        """Plans from before the report (see the migration's marker) without facts and not
        a copy of a plan with facts (see supersede); [] at once when there are none."""
        before = self._tx.scalar(select(Meta.value).where(Meta.key == BEFORE))
        if not before or before == "0":
            return []
        twin = aliased(Plan)
        counted = (
            select(twin.id)
            .join(PlanFactsRow, PlanFactsRow.plan_id == twin.id)
            .where(twin.household_id == Plan.household_id)
            .where(twin.created_at == Plan.created_at)
        )
        query = (
            select(Plan.id)
            .outerjoin(PlanFactsRow, PlanFactsRow.plan_id == Plan.id)
            .where(Plan.id <= int(before))
            .where(PlanFactsRow.plan_id.is_(None))
            .where(~counted.exists())
            .order_by(Plan.id)
        )
        return list(self._tx.scalars(query))

    def all_filled_in(self) -> None:
        """Every plan from before the report has its facts: no more looking."""
        self._tx.execute(update(Meta).where(Meta.key == BEFORE).values(value="0"))

    # --- names ---------------------------------------------------------------------------

    def bits(self, kind: str, names: Iterable[str]) -> int:
        mask = 0
        for name in names:
            mask |= 1 << self.bit(kind, name)
        return mask

    def bit(self, kind: str, name: str) -> int:
        key = (kind, name)
        if key not in self._bits:
            self._bits.update(self.names_of(kind))
            if key not in self._bits:
                self._bits[key] = self._new_bit(kind, name)
        return self._bits[key]

    def names_of(self, kind: str) -> dict[tuple[str, str], int]:
        query = select(ReportName.name, ReportName.bit).where(ReportName.kind == kind)
        return {(kind, name): bit for name, bit in self._tx.rows(query)}

    def names(self) -> dict[str, dict[int, str]]:
        """Every kind's names by bit."""
        found: dict[str, dict[int, str]] = {}
        for kind, bit, name in self._tx.rows(
            select(ReportName.kind, ReportName.bit, ReportName.name)
        ):
            found.setdefault(kind, {})[bit] = name
        return found

    def _new_bit(self, kind: str, name: str) -> int:
        # A name the database has not seen (a municipality's own choice): the next free bit.
        # Two workers adding the same name at once: the second one's insert fails in its
        # savepoint, and it reads the first one's bit.
        for _ in range(3):
            taken = self._tx.scalar(
                select(func.max(ReportName.bit)).where(ReportName.kind == kind)
            )
            bit = 0 if taken is None else int(taken) + 1
            if bit > MAX_BITS:
                raise ValueError(f"more than {MAX_BITS + 1} names of kind {kind!r}")
            try:
                with self._tx.connection.begin_nested():
                    self._tx.execute(insert(ReportName).values(kind=kind, bit=bit, name=name))
                return bit
            except IntegrityError:
                found = self.names_of(kind).get((kind, name))
                if found is not None:
                    return found
        raise RuntimeError(f"could not give {kind!r} name a bit")


# --- what the report reads ---------------------------------------------------------------


@dataclass(frozen=True)
class FactFilter:
    """Which plans the report covers: teams (None: all; a None team is the terminal's) and
    days, each measure by its own date (a plan started in one quarter and finished in the
    next counts as started in the first and finished in the second)."""

    teams: tuple[str | None, ...] | None = None
    since: date | None = None
    until: date | None = None

    def where(self, query: Any, day: Any) -> Any:
        if self.teams is not None:
            named = [team for team in self.teams if team is not None]
            condition: ColumnElement[bool] = PlanFactsRow.team.in_(named)
            if None in self.teams:
                condition = or_(condition, PlanFactsRow.team.is_(None))
            query = query.where(condition)
        query = query.where(day.is_not(None))
        if self.since is not None:
            query = query.where(day >= self.since)
        if self.until is not None:
            query = query.where(day <= self.until)
        return query


class FactsReader:
    """The grouped counts and the per-plan figures the report is made of; every count is
    the database's GROUP BY, nothing is decrypted."""

    def __init__(self, tx: Tx) -> None:
        self._tx = Tx.of(tx)

    def started(
        self, scope: FactFilter, names: Mapping[str, Iterable[int]], pairs: Iterable[int]
    ) -> list[tuple[Any, ...]]:
        """(start quarter, team, plans, then per kind and bit of `names` the plans with that
        name, then per mask of `pairs` the laws plans with both of its laws) of the plans
        started in scope: one scan, one row per quarter and team."""
        columns: list[Any] = [func.count()]
        for kind, bits in names.items():
            column = PlanFactsRow.__table__.c[BIT_COLUMNS[kind]]
            columns += [_plans_with(column, 1 << bit) for bit in bits]
        columns += [_plans_with(PlanFactsRow.laws, mask) for mask in pairs]
        query = select(PlanFactsRow.started_quarter, PlanFactsRow.team, *columns).group_by(
            PlanFactsRow.started_quarter, PlanFactsRow.team
        )
        return _all(self._tx, scope.where(query, PlanFactsRow.started_on))

    def finished(self, scope: FactFilter) -> list[tuple[Any, ...]]:
        """(finish quarter, team, days from start to finish, *MONEY) of every plan finished
        in scope; the figures are NULL for a plan without them."""
        columns = [PlanFactsRow.__table__.c[name] for name in MONEY]
        query = select(
            PlanFactsRow.finished_quarter, PlanFactsRow.team, PlanFactsRow.finished_days, *columns
        )
        return _all(self._tx, scope.where(query, PlanFactsRow.finished_on))

    def on_day(self, scope: FactFilter, column: str) -> list[tuple[date, str | None, int]]:
        """(day, team, plans) by one course date (submitted_on, escalated_on, ...)."""
        day = PlanFactsRow.__table__.c[column]
        query = select(day, PlanFactsRow.team, func.count()).group_by(day, PlanFactsRow.team)
        return _all(self._tx, scope.where(query, day))

    def decisions(self, scope: FactFilter) -> list[tuple[date, str | None, str | None, date]]:
        """(decided on, team, decision, started on) of every plan decided in scope."""
        query = select(
            PlanFactsRow.decided_on,
            PlanFactsRow.team,
            PlanFactsRow.decision,
            PlanFactsRow.started_on,
        )
        return _all(self._tx, scope.where(query, PlanFactsRow.decided_on))

    def teams(self) -> list[str | None]:
        return list(self._tx.scalars(select(PlanFactsRow.team).distinct()))


def _plans_with(column: Any, mask: int) -> Any:
    """How many plans of the group have every bit of `mask` set in `column`."""
    return func.sum(case((column.op("&")(mask) == mask, 1), else_=0))


def _all(tx: Tx, query: Any) -> list[Any]:
    # fetchall in one call: tens of thousands of rows one fetchone at a time cost twice.
    return list(tx.execute(query).all())
