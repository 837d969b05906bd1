"""The escalatieladder: proposing the next rung (an action overdue, a negative decision, or
by hand), escalating with who, when and why, and recording the outcome; every front end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.actions import cells, due_text
from bot.clock import AMSTERDAM, Clock, SystemClock, local_today
from bot.documents import Section
from dialogs import Error, Interview, Message, Question, Reply
from dialogs.answers import match_choice
from dialogs.screening import Screener
from dialogs.spec import Field, Kind
from prompts.ladder import Ladder, Rung
from storage import UnitOfWork, UnitOfWorkFactory
from storage.access import ProfessionalRecord
from storage.escalations import (
    BY_HAND,
    DECISION,
    DECLINED,
    ESCALATED,
    LAPSED,
    OUTCOMES,
    OVERDUE,
    PROPOSED,
    SOLVED,
    ClaimedProposal,
    EscalationRecord,
)

# The audit action for every step on the ladder (bot.access names the others).
ESCALATION_AUDIT = "opschalen"
# A reason is one short text.
MAX_REASON = 300


@dataclass(frozen=True)
class Refused:
    """Nothing was changed; `key` is the message that says why (with its values)."""

    key: str
    values: tuple[tuple[str, str], ...] = ()

    def text(self, spec: Interview) -> str:
        return spec.message(self.key, **dict(self.values))


@dataclass(frozen=True)
class Escalated:
    """The plan was escalated: the record, and the rung it is now on."""

    record: EscalationRecord
    rung: Rung


class EscalationService:
    """The use cases of the ladder; each is one unit of work."""

    def __init__(
        self,
        spec: Interview,
        ladder: Ladder,
        units: UnitOfWorkFactory,
        clock: Clock | None = None,
    ) -> None:
        self.spec = spec
        self.ladder = ladder
        self.units = units
        self.clock = clock or SystemClock()
        self.screener = Screener(spec)

    # --- proposals -----------------------------------------------------------------------

    def claim(self, *, plan_id: int | None = None, limit: int = 50) -> list[ClaimedProposal]:
        """Propose the next rung for every action overdue by the ladder's days (once per
        action and date), then claim the proposals not sent yet (of one plan, or all) and
        mark them sent, in one unit of work: what is claimed goes out once."""
        now = self.clock.now()
        due_by = local_today(self.clock) - timedelta(days=self.ladder.overdue_days)
        # After a step on the ladder, the plan gets as long again before the next one is
        # proposed: one proposal per plan at a time, however many actions are overdue.
        quiet = now - timedelta(days=self.ladder.overdue_days)
        with self.units(claim=False) as uow:
            seen: set[int] = set()
            for plan, action_id, due in uow.escalations.overdue(due_by=due_by, plan_id=plan_id):
                if plan in seen:  # one proposal per plan and round, the soonest action's
                    continue
                seen.add(plan)
                uow.escalations.lock_plan(plan)
                last = uow.escalations.last_activity(plan)
                if last is not None and last > quiet:
                    continue
                self._propose(uow, plan, OVERDUE, now, action_id=action_id, due_on=due)
            return uow.escalations.claim_due(now=now, plan_id=plan_id, limit=limit)

    def failed(self, claimed: ClaimedProposal) -> None:
        """A claimed proposal could not be sent: tried again later."""
        with self.units(claim=False) as uow:
            uow.escalations.failed(claimed.escalation.id, claimed.attempts, self.clock.now())

    def propose_after_decision(self, plan_id: int, *, actor: str) -> EscalationRecord | None:
        """A negative decision on the plan (afgewezen, or only deels toegekend): propose its
        next rung, sent to the professional like an overdue action's. None if the plan is
        gone or on the top rung already."""
        with self.units() as uow:
            if uow.plans.get(plan_id) is None:
                return None
            made = self._propose(uow, plan_id, DECISION, self.clock.now())
            if made is None:
                return None
            uow.access.audit(actor, ESCALATION_AUDIT, plan_id, f"{PROPOSED} {DECISION}")
            return uow.escalations.get(made)

    def _propose(
        self,
        uow: UnitOfWork,
        plan_id: int,
        cause: str,
        now: datetime,
        *,
        action_id: int | None = None,
        due_on: date | None = None,
        sent: bool = False,
    ) -> int | None:
        index = uow.escalations.next_rung(plan_id)
        rung = self.ladder.rung(index)
        if rung is None:
            return None
        made = uow.escalations.propose(
            plan_id,
            cause=cause,
            rung=index,
            rung_name=rung.name,
            now=now,
            action_id=action_id,
            due_on=due_on,
        )
        if made is not None and sent:
            uow.escalations.mark_sent(made, now)
        return made

    # --- answering a proposal, or escalating by hand ----------------------------------------

    def next_rung(self, plan_id: int) -> Rung | None:
        """The rung the plan would be escalated to now; None on the top rung."""
        with self.units(read_only=True) as uow:
            return self.ladder.rung(uow.escalations.next_rung(plan_id))

    def top(self) -> Rung:
        return self.ladder.rungs[-1]

    def answer(
        self,
        escalation_id: int,
        escalate: bool,
        *,
        actor: str,
        professional: ProfessionalRecord | None = None,
    ) -> Escalated | Refused:
        """The button under a proposal: escalate (the reason is the proposal's cause), or
        decline. Refused if it is gone, not the professional's, or answered already."""
        now = self.clock.now()
        with self.units() as uow:
            found = uow.escalations.get(escalation_id)
            if found is None or not self._may(uow, found.plan_id, professional):
                return Refused("opschalen_weg")
            if found.state != PROPOSED:
                return Refused("opschalen_beantwoord")
            index = uow.escalations.next_rung(found.plan_id)
            if found.rung < index:
                uow.escalations.decide(found.id, LAPSED, author=actor, now=now)
                return Refused("opschalen_al", (("trede", found.rung_name),))
            if not escalate:
                uow.escalations.decide(found.id, DECLINED, author=actor, now=now)
                uow.access.audit(actor, ESCALATION_AUDIT, found.plan_id, f"{DECLINED} {index}")
                return Refused("opschalen_niet")
            return self._escalate(uow, found, self.cause_text(found), actor, now)

    def by_hand(
        self,
        plan_id: int,
        reason: str,
        *,
        actor: str,
        professional: ProfessionalRecord | None = None,
    ) -> Escalated | Refused:
        """`opschalen <waarom>`: escalate the plan to its next rung with this reason,
        screened for personal data like an answer. A proposal for that rung waiting for an
        answer is answered by it."""
        reason = " ".join(reason.split())
        if not reason:
            return Refused("opschalen_waarom_leeg")
        if len(reason) > MAX_REASON:
            return Refused("opschalen_waarom_lang", (("max", str(MAX_REASON)),))
        kinds, _ = self.screener.redact_text(reason)
        if kinds:
            warning = self.screener.warning(kinds)
            return Refused("opschalen_waarom_pii", (("waarschuwing", warning),))
        now = self.clock.now()
        with self.units() as uow:
            if uow.plans.get(plan_id) is None or not self._may(uow, plan_id, professional):
                return Refused("opschalen_weg")
            index = uow.escalations.next_rung(plan_id)
            if self.ladder.rung(index) is None:
                return Refused("opschalen_hoogste", (("trede", self.top().name),))
            waiting = [
                e
                for e in uow.escalations.of_plan(plan_id)
                if e.state == PROPOSED and e.rung == index
            ]
            if waiting:
                found = waiting[-1]
            else:
                made = self._propose(uow, plan_id, BY_HAND, now)
                assert made is not None
                new = uow.escalations.get(made)
                assert new is not None
                found = new
            return self._escalate(uow, found, reason, actor, now)

    def _escalate(
        self, uow: UnitOfWork, found: EscalationRecord, reason: str, actor: str, now: datetime
    ) -> Escalated:
        uow.escalations.decide(found.id, ESCALATED, author=actor, now=now, reason=reason)
        # Proposals of this rung or lower that still wait are answered by this one.
        for other in uow.escalations.of_plan(found.plan_id):
            if other.state == PROPOSED and other.rung <= found.rung:
                uow.escalations.decide(other.id, LAPSED, author=actor, now=now)
        uow.access.audit(actor, ESCALATION_AUDIT, found.plan_id, f"{ESCALATED} {found.rung}")
        record = uow.escalations.get(found.id)
        assert record is not None
        rung = self.ladder.rung(found.rung) or self.top()
        return Escalated(record, rung)

    # --- the outcome ----------------------------------------------------------------------

    def waiting_outcome(self, plan_id: int) -> EscalationRecord | None:
        """The plan's latest escalation, if its outcome is not recorded yet."""
        with self.units(read_only=True) as uow:
            done = [e for e in uow.escalations.of_plan(plan_id) if e.state == ESCALATED]
        return done[-1] if done and done[-1].outcome is None else None

    def record_outcome(
        self,
        escalation_id: int,
        outcome: str,
        *,
        actor: str,
        professional: ProfessionalRecord | None = None,
        propose_next: bool = False,
    ) -> tuple[EscalationRecord, EscalationRecord | None] | Refused:
        """Record what escalating achieved. Unless it solved it, the next rung is proposed
        (with `propose_next`, as a proposal sent now: a front end shows it at once). The
        escalation, and the new proposal or None (solved, or on the top rung)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        now = self.clock.now()
        with self.units() as uow:
            found = uow.escalations.get(escalation_id)
            if found is None or not self._may(uow, found.plan_id, professional):
                return Refused("opschalen_weg")
            if found.state != ESCALATED:
                return Refused("uitkomst_geen")
            if found.outcome is not None:
                return Refused("uitkomst_al", (("uitkomst", self.outcome_text(found.outcome)),))
            uow.escalations.set_outcome(found.id, outcome, author=actor, now=now)
            uow.access.audit(actor, ESCALATION_AUDIT, found.plan_id, f"uitkomst {outcome}")
            proposal = None
            if outcome != SOLVED and propose_next:
                made = self._propose(uow, found.plan_id, BY_HAND, now, sent=True)
                proposal = None if made is None else uow.escalations.get(made)
            record = uow.escalations.get(found.id)
            assert record is not None
            return record, proposal

    # --- reading --------------------------------------------------------------------------

    def of_plan(self, plan_id: int) -> list[EscalationRecord]:
        with self.units(read_only=True) as uow:
            return uow.escalations.of_plan(plan_id)

    def get(self, escalation_id: int) -> EscalationRecord | None:
        with self.units(read_only=True) as uow:
            return uow.escalations.get(escalation_id)

    @staticmethod
    def _may(uow: UnitOfWork, plan_id: int, professional: ProfessionalRecord | None) -> bool:
        return professional is None or uow.access.role(plan_id, professional.id) is not None

    # --- wording --------------------------------------------------------------------------

    def rung_values(self, index: int, name: str) -> dict[str, str]:
        rung = self.ladder.rung(index)
        if rung is None or rung.name != name:  # the ladder changed since: the name only
            return {"trede": name, "trede_wie": "", "beslist": ""}
        return {"trede": rung.name, "trede_wie": rung.who, "beslist": rung.decides}

    def proposal_text(self, record: EscalationRecord) -> str:
        """What a proposal says: why, and which rung, who that is and what they decide."""
        values = self.rung_values(record.rung, record.rung_name)
        values["huishouden"] = record.household
        point = None if record.action_id is None else self._point(record.action_id)
        if record.cause == OVERDUE and point is not None:
            parts = cells(point)
            values |= {"wat": parts.what, "wie": parts.who}
            values["datum"] = due_text(self.spec, record.due_on)
            values["dagen"] = str(self.ladder.overdue_days)
            return self.spec.message("opschalen_voorstel_te_laat", **values)
        return self.spec.message(f"opschalen_voorstel_{record.cause}", **values)

    def _point(self, action_id: int) -> str | None:
        with self.units(read_only=True) as uow:
            action = uow.actions.get(action_id)
        return None if action is None else action.point

    def cause_text(self, record: EscalationRecord) -> str:
        """The reason an escalation from a proposal's button records."""
        if record.cause == OVERDUE:
            day = due_text(self.spec, record.due_on)
            return self.spec.message("opschalen_reden_te_laat", datum=day)
        return self.spec.message(f"opschalen_reden_{record.cause}")

    def escalated_text(self, done: Escalated) -> str:
        values = self.rung_values(done.record.rung, done.record.rung_name)
        return self.spec.message("opgeschaald", **values)

    def outcome_text(self, outcome: str) -> str:
        return self.spec.message(f"uitkomst_{outcome}")

    def next_text(self, plan_id: int) -> str:
        """After an outcome that did not solve it: the next rung, or that there is none."""
        rung = self.next_rung(plan_id)
        if rung is None:
            return self.spec.message("opschalen_hoogste", trede=self.top().name)
        return self.spec.message(
            "opschalen_volgende", trede=rung.name, trede_wie=rung.who, beslist=rung.decides
        )

    def sections(self, plan_id: int) -> list[Section]:
        """The plan's escalations as a section of its documents (none if never escalated)."""
        return self.sections_of(self.of_plan(plan_id))

    def sections_of(self, records: Sequence[EscalationRecord]) -> list[Section]:
        """These escalations of a plan as a section of its documents (none if none)."""
        lines = overview_lines(self.spec, records)
        if not lines:
            return []
        return [Section(self.spec.message("document_escalaties"), tuple(lines))]

    def overview(self, records: Sequence[EscalationRecord]) -> str | None:
        """The plan's escalations as a short text for `overzicht` and the documents; None
        if it was never escalated."""
        lines = overview_lines(self.spec, records)
        if not lines:
            return None
        return "\n".join([self.spec.message("escalaties_kop"), *lines])


def overview_lines(spec: Interview, records: Sequence[EscalationRecord]) -> list[str]:
    """One line per escalation: when, to which rung, why, and the outcome."""
    lines = []
    for record in records:
        if record.state != ESCALATED or record.decided_at is None:
            continue
        outcome = (
            spec.message("uitkomst_open")
            if record.outcome is None
            else spec.message(f"uitkomst_{record.outcome}")
        )
        lines.append(
            spec.message(
                "escalatie_regel",
                datum=due_text(spec, record.decided_at.astimezone(AMSTERDAM).date()),
                trede=record.rung_name,
                waarom=record.reason or "",
                uitkomst=outcome,
            )
        )
    return lines


# --- the terminal and JSON-lines ------------------------------------------------------------

# The field names of the ladder's two questions in the terminal and JSON-lines; not fields of
# the interview (see docs/protocol.md).
REASON_FIELD, OUTCOME_FIELD = "opschalen", "uitkomst"


class LocalLadder:
    """`opschalen [waarom]` and `uitkomst [keuze]` for one plan opened on this machine, and
    the proposals for it, shown once with the next line after they are due."""

    def __init__(self, service: EscalationService, author: str) -> None:
        self.service = service
        self.spec = service.spec
        self.author = author
        # The ladder's question being answered: REASON_FIELD, OUTCOME_FIELD or None.
        self.asking: str | None = None
        # The day proposals were last looked for.
        self.checked: date | None = None

    def proposals(self, plan_id: int) -> list[Reply]:
        """The plan's proposals due now (claimed, so shown once), as messages; looked for
        once a day at most, and when the plan is opened."""
        today = local_today(self.service.clock)
        if self.checked == today:
            return []
        self.checked = today
        shown: list[Reply] = []
        for claimed in self.service.claim(plan_id=plan_id):
            text = self.service.proposal_text(claimed.escalation)
            shown.append(Message(f"{text} {self.spec.message('opschalen_typ')}"))
        return shown

    def handle(self, plan_id: int, text: str, *, free: bool = True) -> list[Reply] | None:
        """The replies to `text` if it is the ladder's (a command word, or the answer to
        its question); None if it is not, and the plan's dialog should have it. Unless
        `free` (no question of the interview waits), a command word with more after it
        counts only with a `/` before it."""
        words = text.strip().split(maxsplit=1)
        head = words[0].lower().lstrip("/") if words else ""
        rest = words[1] if len(words) > 1 else ""
        if rest and not (free or text.lstrip().startswith("/")):
            # In the interview an answer may start with the word: only `/opschalen ...`.
            head = ""
        commands = self.spec.commands
        if head in commands.get("opschalen", ()):
            self.asking = None
            return self._escalate(plan_id, rest) if rest else self._ask_reason(plan_id)
        if head in commands.get("uitkomst", ()):
            self.asking = None
            return self._outcome(plan_id, rest)
        if self.asking is None:
            return None
        if text.strip().lower() in commands.get("stop", ()):
            self.asking = None
            return [Message(self.spec.message("opschalen_niet"))]
        if self.asking == REASON_FIELD:
            return self._escalate(plan_id, text)
        return self._outcome(plan_id, text)

    def _ask_reason(self, plan_id: int) -> list[Reply]:
        rung = self.service.next_rung(plan_id)
        if rung is None:
            return [Message(self.spec.message("opschalen_hoogste", trede=self.service.top().name))]
        self.asking = REASON_FIELD
        text = self.spec.message(
            "opschalen_vraag", trede=rung.name, trede_wie=rung.who, beslist=rung.decides
        )
        return [_question(self.spec, REASON_FIELD, "text", text)]

    def _escalate(self, plan_id: int, reason: str) -> list[Reply]:
        done = self.service.by_hand(plan_id, reason, actor=self.author)
        if isinstance(done, Refused):
            if done.key.startswith("opschalen_waarom"):
                self.asking = REASON_FIELD  # a reason that cannot be taken: typed again
                return [Error(done.text(self.spec))]
            self.asking = None
            return [Message(done.text(self.spec))]
        self.asking = None
        values = self.service.rung_values(done.record.rung, done.record.rung_name)
        return [Message(self.spec.message("opgeschaald_lokaal", **values))]

    def _outcome(self, plan_id: int, text: str) -> list[Reply]:
        waiting = self.service.waiting_outcome(plan_id)
        if waiting is None:
            self.asking = None
            return [Message(self.spec.message("uitkomst_geen"))]
        labels = tuple(self.service.outcome_text(o) for o in OUTCOMES)
        question = _question(
            self.spec,
            OUTCOME_FIELD,
            "choice",
            self.spec.message("uitkomst_vraag", trede=waiting.rung_name),
            labels,
        )
        if not text.strip():
            self.asking = OUTCOME_FIELD
            return [question]
        picked = match_choice(
            Field(key=OUTCOME_FIELD, kind=Kind.CHOICE, text=question.text, choices=labels), text
        )
        if picked is None:
            self.asking = OUTCOME_FIELD
            keuzes = ", ".join(f"{n}. {c}" for n, c in enumerate(labels, 1))
            return [Error(self.spec.message("geen_keuze", keuzes=keuzes)), question]
        self.asking = None
        outcome = OUTCOMES[labels.index(picked)]
        done = self.service.record_outcome(waiting.id, outcome, actor=self.author)
        if isinstance(done, Refused):
            return [Message(done.text(self.spec))]
        said: list[Reply] = [Message(self.spec.message("uitkomst_vastgelegd", uitkomst=picked))]
        if outcome != SOLVED:
            said.append(Message(self.service.next_text(plan_id)))
        return said


def _question(
    spec: Interview, field: str, kind: str, text: str, choices: tuple[str, ...] = ()
) -> Question:
    return Question(
        field=field,
        kind=kind,
        text=text,
        help=(),
        choices=choices,
        max=MAX_REASON if kind == "text" else None,
        required=True,
        # Step 0: a question about the plan's opvolging, in no step of the interview.
        step=0,
        steps=len(spec.steps),
        step_name="",
    )
