"""The owner's choice whether a plan's doorbraak and rule texts go into the reflectiesessie
material of their own team (the report's appendix, bot.bundle): said in one line when the
plan is first finished, changed at any time with `delen ja|nee` (Telegram: /delen and its
buttons). Stored in plan_facts.sharing; audited without content."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.access import NotOwner
from bot.evaluations import FINISHED_AT
from bot.facts import FactsKeeper
from dialogs import Done, Interview, Message, Outcome
from dialogs.status import PlanStatus
from storage import PlanRecord, UnitOfWorkFactory
from storage.access import OWNER, ProfessionalRecord
from storage.bundle import BundleRepository
from storage.facts import SHARE_NONE, SHARE_TEAM

# The audit action of a change; its detail is the new choice, never a text of the plan.
SHARING_SET = "delen_keuze"


@dataclass(frozen=True)
class SharingNote(Message):
    """The finish message with its line about sharing: `text` as the terminal and JSON-lines
    show it, `finish` the finish message alone (Telegram adds its own line and button)."""

    finish: str = ""


def with_sharing_note(spec: Interview, record: PlanRecord, outcome: Outcome) -> Outcome:
    """The outcome of a turn that finishes the plan for the first time, its finish message
    followed by the line about sharing (in the same message, so the replies keep their
    kinds and order); any other outcome as it is."""
    first = (
        outcome.status == PlanStatus.FINISHED
        and record.status != PlanStatus.FINISHED
        and FINISHED_AT not in record.data
    )
    if not first:
        return outcome
    finish = spec.message("klaar")
    line = spec.message("delen_klaar")
    replies = list(outcome.replies)
    for at, reply in enumerate(replies):
        if type(reply) is Message and reply.text == finish:
            replies[at] = SharingNote(f"{finish}\n{line}", finish=finish)
            break
    else:
        at = next((i for i, r in enumerate(replies) if isinstance(r, Done)), len(replies))
        replies.insert(at, SharingNote(line))
    return replace(outcome, replies=tuple(replies))


class Consent:
    """Reads and changes a plan's sharing choice; each call one unit of work."""

    def __init__(self, spec: Interview, units: UnitOfWorkFactory, facts: FactsKeeper) -> None:
        self.spec = spec
        self.units = units
        self.facts = facts

    def shares(self, plan_id: int) -> bool:
        with self.units(read_only=True) as uow:
            return BundleRepository(uow.tx).sharing(plan_id) != SHARE_NONE

    def set(
        self,
        plan_id: int,
        share: bool,
        *,
        actor: str,
        professional: ProfessionalRecord | None = None,
    ) -> bool:
        """Share (or not) the plan's texts within its team. Only its owner may (NotOwner);
        the terminal, which holds the database, may too. Returns the choice stored."""
        value = SHARE_TEAM if share else SHARE_NONE
        for _ in range(2):
            with self.units() as uow:
                owner = professional is None or uow.access.role(plan_id, professional.id) == OWNER
                if not owner:
                    raise NotOwner
                if BundleRepository(uow.tx).set_sharing(plan_id, value):
                    uow.access.audit(actor, SHARING_SET, plan_id, value)
                    return share
            # A plan from before the report has no facts yet: fill them in, then again.
            self.facts.backfill()
        raise LookupError(f"plan {plan_id} has no facts")

    def state_text(self, plan_id: int) -> str:
        return self.spec.message("delen_staat_ja" if self.shares(plan_id) else "delen_staat_nee")

    def word(
        self,
        plan_id: int,
        text: str,
        *,
        actor: str,
        professional: ProfessionalRecord | None = None,
        slash: bool = False,
    ) -> str | None:
        """`delen`, `delen ja`, `delen nee` (with or without `/`): what it answers; None if
        the text is not that command (an answer that starts with the word)."""
        words = text.strip().lower().lstrip("/").split(maxsplit=1)
        commands = self.spec.commands
        if not words or words[0] not in commands.get("delen", ()):
            return None
        arg = words[1].strip() if len(words) > 1 else ""
        if not arg:
            usage = "delen_gebruik_telegram" if slash else "delen_gebruik"
            return "\n".join((self.state_text(plan_id), self.spec.message(usage)))
        if arg not in (*commands.get("delen_ja", ()), *commands.get("delen_nee", ())):
            return None
        share = arg in commands.get("delen_ja", ())
        try:
            self.set(plan_id, share, actor=actor, professional=professional)
        except NotOwner:
            return self.spec.message("delen_geen_eigenaar")
        return self.state_text(plan_id)
