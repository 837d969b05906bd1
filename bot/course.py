"""The plan's course after the interview: indienen at the Doorbraakteam, the besluit (with a
claim on the doorbraakbudget), uitgevoerd and geëvalueerd; every step kept with its author.

Other parts of the bot call two things here: `Course.evaluated` when an evaluation is
completed, and `Course.on_rejected` (callbacks) to hear of a negative decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bot.clock import AMSTERDAM, Clock, SystemClock
from bot.documents import NO_COURSE, CourseShown
from bot.formatting import DutchFormatter
from dialogs import Interview
from dialogs.money import AmountError, parse_money
from dialogs.opvolging import Opvolging
from dialogs.status import ALLOWED_FROM, DECISIONS, GRANTING, Stage, stage_of
from storage import UnitOfWork, UnitOfWorkFactory
from storage.access import OWNER, ProfessionalRecord
from storage.course import ClaimRecord, StepRecord
from storage.models import ACTION_DONE, ACTION_LAPSED

# The audit action of a step of the course (bot.access names the others).
COURSE_CHANGED = "verloop"
# Stages whose claim counts as spent: the plan was carried out.
SPENT = (Stage.EXECUTED, Stage.EVALUATED)
_FORMAT = DutchFormatter()


class CourseRefused(Exception):
    """The step cannot be taken; `key` is the message that says why."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Submitted:
    """A plan sent to the Doorbraakteam: to whom the bot sends it (Telegram user ids of the
    members, or the group), and its household."""

    plan_id: int
    household: str
    team: str
    user_ids: tuple[int, ...]
    group: int | None
    step: StepRecord


@dataclass(frozen=True)
class BudgetLine:
    """A team's budget for one period, with what was granted and spent from it (exact)."""

    team: str
    start: date
    end: date
    budget: Decimal
    granted: Decimal
    spent: Decimal

    @property
    def left(self) -> Decimal:
        return self.budget - self.granted


# Called after a negative decision is committed: (plan id, the step).
RejectedHook = Callable[[int, StepRecord], None]


class Course:
    """The use cases of the course; each is one unit of work, `evaluated` may join one."""

    def __init__(
        self,
        spec: Interview,
        config: Opvolging,
        units: UnitOfWorkFactory,
        clock: Clock | None = None,
    ) -> None:
        self.spec = spec
        self.config = config
        self.units = units
        self.clock = clock or SystemClock()
        self.on_rejected: list[RejectedHook] = []

    def today(self) -> date:
        return self.clock.now().astimezone(AMSTERDAM).date()

    @property
    def team(self) -> str:
        return self.config.team.name if self.config.team is not None else ""

    # --- reading -------------------------------------------------------------------------

    def stage(self, plan_id: int) -> Stage | None:
        with self.units(read_only=True) as uow:
            return self._stage(uow, plan_id)

    def history(self, plan_id: int) -> tuple[list[StepRecord], list[ClaimRecord]]:
        with self.units(read_only=True) as uow:
            return uow.course.steps(plan_id), uow.course.claims(plan_id)

    def shown(self, plan_id: int, uow: UnitOfWork | None = None) -> CourseShown:
        """The plan's course for its documents: its stage (once it is klaar) and steps; read
        in `uow` if one is passed (App.after reads all it shows in one)."""
        if uow is None:
            with self.units(read_only=True) as own:
                return self.shown(plan_id, own)
        stage = self._stage(uow, plan_id)
        if stage in (None, Stage.CONCEPT):
            return NO_COURSE
        steps, claims = uow.course.steps(plan_id), uow.course.claims(plan_id)
        lines = course_text(self.spec, stage, steps, claims).splitlines()[1:]
        return CourseShown(stage_name(self.spec, stage), tuple(line.strip() for line in lines))

    def owner_chat(self, plan_id: int) -> int | None:
        """The private chat of the plan's owner (to hear of a decision), if they have one."""
        with self.units(read_only=True) as uow:
            return uow.course.owner(plan_id)

    def all_done(self, plan_id: int) -> bool:
        """Every action of the plan is gedaan or vervallen (and it has some): propose
        uitgevoerd."""
        with self.units(read_only=True) as uow:
            actions = uow.actions.of_plan(plan_id)
        return bool(actions) and all(a.status in (ACTION_DONE, ACTION_LAPSED) for a in actions)

    @staticmethod
    def _stage(uow: UnitOfWork, plan_id: int) -> Stage | None:
        status = uow.course.plan_status(plan_id)
        if status is None:
            return None
        return stage_of(status, uow.course.last(plan_id))

    # --- steps ---------------------------------------------------------------------------

    def submit(
        self, plan_id: int, *, actor: str, professional: ProfessionalRecord | None = None
    ) -> Submitted:
        """Indienen: record ingediend bij the Doorbraakteam and let its members read the
        plan; the caller sends it."""
        if self.config.team is None:
            raise CourseRefused("indienen_geen_team")
        team = self.config.team
        with self.units() as uow:
            record = self._allowed(uow, plan_id, Stage.SUBMITTED, professional, owner=True)
            members = uow.course.members(team.name)
            uow.course.share_read_only(plan_id, [m for m, _ in members], self.clock.now())
            step = uow.course.record(
                plan_id,
                Stage.SUBMITTED,
                author=actor,
                who=team.name,
                day=self.today(),
                now=self.clock.now(),
            )
            uow.access.audit(actor, COURSE_CHANGED, plan_id, Stage.SUBMITTED)
            users = () if team.group is not None else tuple(user for _, user in members)
            return Submitted(plan_id, record, team.name, users, team.group, step)

    def decide(
        self,
        plan_id: int,
        outcome: Stage,
        *,
        actor: str,
        who: str,
        day: date | None = None,
        amount: Decimal | None = None,
        professional: ProfessionalRecord | None = None,
    ) -> StepRecord:
        """The besluit: toegekend, deels or afgewezen, by `who` on `day` (today if not
        given); a granting decision may claim `amount` from the team's budget."""
        if outcome not in DECISIONS:
            raise ValueError(f"not a decision: {outcome!r}")
        if amount is not None and outcome not in GRANTING:
            raise CourseRefused("besluit_bedrag_afgewezen")
        day = day or self.today()
        if amount is not None and self.config.budget_for(self.team, day) is None:
            raise CourseRefused("budget_geen", team=self.team or "-")
        with self.units() as uow:
            self._allowed(uow, plan_id, outcome, professional, owner=True, team=True)
            now = self.clock.now()
            step = uow.course.record(plan_id, outcome, author=actor, who=who, day=day, now=now)
            uow.course.claim(plan_id, self.team, amount, day=day, author=actor, now=now)
            uow.access.audit(actor, COURSE_CHANGED, plan_id, outcome)
        if outcome is Stage.REJECTED:
            for hook in self.on_rejected:
                hook(plan_id, step)
        return step

    def executed(
        self, plan_id: int, *, actor: str, professional: ProfessionalRecord | None = None
    ) -> StepRecord:
        """Uitgevoerd: the plan was carried out (its claim counts as spent from now on)."""
        with self.units() as uow:
            self._allowed(uow, plan_id, Stage.EXECUTED, professional, owner=True)
            step = uow.course.record(
                plan_id,
                Stage.EXECUTED,
                author=actor,
                who="",
                day=self.today(),
                now=self.clock.now(),
            )
            uow.access.audit(actor, COURSE_CHANGED, plan_id, Stage.EXECUTED)
            return step

    def evaluated(
        self, plan_id: int, *, actor: str, uow: UnitOfWork | None = None
    ) -> StepRecord | None:
        """Geëvalueerd, for the evaluation when one is completed: in its unit of work if it
        passes one. None (nothing recorded) if the plan was never decided positively."""
        if uow is None:
            with self.units() as own:
                return self.evaluated(plan_id, actor=actor, uow=own)
        if self._stage(uow, plan_id) not in ALLOWED_FROM[Stage.EVALUATED]:
            return None
        step = uow.course.record(
            plan_id, Stage.EVALUATED, author=actor, who="", day=self.today(), now=self.clock.now()
        )
        uow.access.audit(actor, COURSE_CHANGED, plan_id, Stage.EVALUATED)
        return step

    def _allowed(
        self,
        uow: UnitOfWork,
        plan_id: int,
        step: Stage,
        professional: ProfessionalRecord | None,
        *,
        owner: bool = False,
        team: bool = False,
    ) -> str:
        """The plan's household, if `step` may be taken now by `professional` (the owner,
        or for a decision a member of the Doorbraakteam; the terminal may all)."""
        record = uow.plans.get(plan_id)
        if record is None:
            raise CourseRefused("telegram_plan_weg")
        if professional is not None:
            role = uow.access.role(plan_id, professional.id)
            mine = owner and role == OWNER
            member = team and professional.team == self.team and role is not None
            if not (mine or member):
                raise CourseRefused("verloop_niet_jouw_plan")
        now = self._stage(uow, plan_id)
        if now not in ALLOWED_FROM[step]:
            shown = self.spec.message(f"verloop_{(now or Stage.CONCEPT).name.lower()}")
            raise CourseRefused(f"verloop_niet_na_{step.name.lower()}", stand=shown)
        return record.household

    # --- the budget ----------------------------------------------------------------------

    def budget(self) -> list[BudgetLine]:
        """Every budget of opvolging.yaml with what was granted from it (claims of plans
        whose decision is toegekend or deels, or that went further) and spent (claims of
        plans marked uitgevoerd)."""
        with self.units(read_only=True) as uow:
            claims = uow.course.claims()
        lines = []
        for budget in self.config.budgets:
            mine = [c for c in claims if c.team == budget.team and budget.holds(c.day)]
            granted = sum((c.amount for c in mine), Decimal(0))
            spent = sum((c.amount for c in mine if c.stage in SPENT), Decimal(0))
            lines.append(
                BudgetLine(budget.team, budget.start, budget.end, budget.amount, granted, spent)
            )
        return lines


# --- how the course reads, in every front end ------------------------------------------------


def stage_name(spec: Interview, stage: Stage | None) -> str:
    return spec.message(f"verloop_{(stage or Stage.CONCEPT).name.lower()}")


def step_line(spec: Interview, step: StepRecord) -> str:
    """One step on one line: `12 maart 2027: ingediend bij Doorbraakteam`."""
    key = f"verloop_regel_{step.stage.name.lower()}"
    return spec.message(key, datum=_FORMAT.date(step.day), wie=step.who)


def course_text(
    spec: Interview,
    stage: Stage | None,
    steps: Sequence[StepRecord],
    claims: Sequence[ClaimRecord],
) -> str:
    """The plan's stage, its steps and any budget claim, as a short text."""
    lines = [spec.message("verloop_kop", stand=stage_name(spec, stage))]
    lines += [f"  {step_line(spec, step)}" for step in steps]
    lines += [
        f"  {spec.message('verloop_claim', bedrag=money(c.amount), team=c.team)}" for c in claims
    ]
    return "\n".join(lines)


def money(amount: Decimal) -> str:
    return _FORMAT.money(amount, exact=True)


def budget_text(spec: Interview, lines: Sequence[BudgetLine]) -> str:
    if not lines:
        return spec.message("budget_geen_budget")
    shown = [spec.message("budget_kop")]
    for line in lines:
        shown.append(
            spec.message(
                "budget_regel",
                team=line.team,
                van=_FORMAT.date(line.start),
                tot=_FORMAT.date(line.end),
                budget=money(line.budget),
                toegekend=money(line.granted),
                besteed=money(line.spent),
                over=money(line.left),
            )
        )
    return "\n".join(shown)


def contacts_text(spec: Interview, config: Opvolging) -> str:
    if not config.contacts:
        return spec.message("contacten_geen")
    shown = [spec.message("contacten_kop")]
    for contact in config.contacts:
        key = "contacten_regel" if contact.decides else "contacten_regel_kort"
        shown.append(
            spec.message(
                key, rol=contact.role, organisatie=contact.organisation, beslist=contact.decides
            )
        )
    return "\n".join(shown)


def budget_json(line: BudgetLine) -> dict[str, Any]:
    """A budget line for `doorbraakbot budget --jsonl`: amounts as exact decimal strings."""
    return {
        "type": "budget",
        "team": line.team,
        "from": line.start.isoformat(),
        "to": line.end.isoformat(),
        "budget": str(line.budget),
        "granted": str(line.granted),
        "spent": str(line.spent),
        "left": str(line.left),
    }


# --- the command words, shared by the terminal, JSON-lines and Telegram ----------------------

# Command words of the course (their words under `commands:` in prompts/messages.yaml).
WORDS = ("indienen", "besluit", "uitgevoerd", "verloop", "contacten", "budget")
# The outcome a decision names by its first word.
_OUTCOMES = {stage.value: stage for stage in DECISIONS}


@dataclass(frozen=True)
class Said:
    """What a course command answers: its text, and for indienen what to send where."""

    text: str
    submitted: Submitted | None = None
    # The step asked to be proposed next (uitgevoerd, when every action is done).
    propose: Stage | None = None
    # A decision was recorded: the owner hears of it.
    decided: bool = False


def course_word(spec: Interview, text: str) -> tuple[str, str] | None:
    """(command, the rest) if `text` is a course command word, with or without `/`; a
    `besluit` only with nothing, or an outcome, after it (an answer may start with it)."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return None
    head = words[0].lower().lstrip("/").split("@", 1)[0]
    rest = words[1].strip() if len(words) > 1 else ""
    for name in WORDS:
        if head not in spec.commands.get(name, ()):
            continue
        if name == "besluit":
            return (name, rest) if not rest or read_outcome(rest) is not None else None
        return (name, rest) if not rest else None
    return None


def read_outcome(text: str) -> tuple[Stage, str] | None:
    """The outcome a decision's text starts with and the rest (`deels toegekend` is deels)."""
    words = text.strip().split(maxsplit=1)
    outcome = _OUTCOMES.get(words[0].lower()) if words else None
    if outcome is None:
        return None
    rest = words[1].strip() if len(words) > 1 else ""
    if outcome is Stage.PARTLY and rest.lower().startswith(Stage.GRANTED.value):
        rest = rest[len(Stage.GRANTED.value) :].strip()
    return outcome, rest


def read_decision(text: str) -> tuple[Stage, Decimal | None]:
    """`toegekend € 1.250,-` as (toegekend, 1250); CourseRefused if it is not one."""
    found = read_outcome(text)
    if found is None:
        raise CourseRefused("besluit_gebruik")
    outcome, rest = found
    if not rest:
        return outcome, None
    try:
        return outcome, parse_money(rest).value
    except AmountError as exc:
        raise CourseRefused(exc.reason) from None


def run_word(
    course: Course,
    name: str,
    arg: str,
    plan_id: int | None,
    *,
    actor: str,
    who: str,
    professional: ProfessionalRecord | None = None,
) -> Said:
    """A course command for the plan `plan_id` (None: no plan, only contacten and budget).
    Refusals come back as their text; nothing is changed then."""
    spec = course.spec
    try:
        if name == "contacten":
            return Said(contacts_text(spec, course.config))
        if name == "budget":
            return Said(budget_text(spec, course.budget()))
        if plan_id is None:
            raise CourseRefused("telegram_geen_plan")
        if name == "verloop":
            steps, claims = course.history(plan_id)
            shown = course_text(spec, course.stage(plan_id), steps, claims)
            return Said(shown, propose=_proposal(course, plan_id))
        if name == "indienen":
            submitted = course.submit(plan_id, actor=actor, professional=professional)
            day = _FORMAT.date(submitted.step.day)
            text = spec.message("indienen_gedaan", team=submitted.team, datum=day)
            if not submitted.user_ids and submitted.group is None:
                # Recorded, but nobody received it: say so rather than let it wait unseen.
                text += "\n" + spec.message("indienen_niemand", team=submitted.team)
            return Said(text, submitted)
        if name == "uitgevoerd":
            step = course.executed(plan_id, actor=actor, professional=professional)
            return Said(spec.message("uitgevoerd_gedaan", datum=_FORMAT.date(step.day)))
        if not arg:
            raise CourseRefused("besluit_gebruik")
        outcome, amount = read_decision(arg)
        step = course.decide(
            plan_id, outcome, actor=actor, who=who, amount=amount, professional=professional
        )
        text = decided_text(spec, step, amount)
        return Said(text, propose=_proposal(course, plan_id), decided=True)
    except CourseRefused as refused:
        return Said(spec.message(refused.key, **refused.params))


def decided_text(spec: Interview, step: StepRecord, amount: Decimal | None) -> str:
    text = spec.message(
        "besluit_gedaan",
        uitkomst=stage_name(spec, step.stage),
        datum=_FORMAT.date(step.day),
        wie=step.who,
    )
    if amount is not None:
        text += " " + spec.message("besluit_bedrag", bedrag=money(amount))
    return text


def _proposal(course: Course, plan_id: int) -> Stage | None:
    """Uitgevoerd, if the plan was granted and every action is done."""
    if course.stage(plan_id) in GRANTING and course.all_done(plan_id):
        return Stage.EXECUTED
    return None
