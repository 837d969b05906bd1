"""One turn of a plan in one transaction: load, let the dialog decide, store, then reply."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.access import CHANGED, DELETED, EXPORTED, OPENED, AccessDenied, NotOwner
from bot.actions import Actions
from bot.consent import with_sharing_note
from bot.course import course_text
from bot.escalations import EscalationService
from bot.evaluations import FINISHED_AT, Evaluations
from bot.exchange import ImportedPlan
from bot.facts import FactsKeeper
from bot.outcomes import OutcomeKeeper
from bot.turn import (
    ChatMoved,
    ChatTarget,
    PlanFinished,
    Progress,
    Turn,
    same_binding,
    snapshot_of,
)
from dialogs import (
    Command,
    Dialog,
    Document,
    Error,
    Event,
    Interview,
    Message,
    Outcome,
    Reply,
    Text,
)
from dialogs.commands import parse_command
from dialogs.status import PlanStatus, stage_of
from storage import (
    AnswerRecord,
    ChatRecord,
    PlanRecord,
    StaleRevision,
    StorageUnavailable,
    SuggestionRecord,
    UnitOfWork,
    UnitOfWorkFactory,
)
from storage.access import OWNER, ProfessionalRecord
from storage.cache import PlanCache
from storage.course import READER
from storage.evaluations import EvaluationRecord
from storage.records import with_changes

log = logging.getLogger(__name__)
# The audit detail of a change to a plan's evaluation.
EVALUATION = "evaluatie"


class AlreadySent(Exception):
    """The file asked for under this button was sent already (a second tap)."""


# A concurrent writer to the same plan makes us reload and decide again.
MAX_ATTEMPTS = 3


class PlanService:
    """The use cases every front end shares; the front end only converts input and output."""

    def __init__(
        self,
        dialog: Dialog,
        units: UnitOfWorkFactory,
        actions: Actions | None = None,
        escalations: EscalationService | None = None,
        evaluations: Evaluations | None = None,
    ) -> None:
        self.dialog = dialog
        # The escalatieladder: its steps are shown with `overzicht`.
        self.escalations = escalations
        # Opvolging: the actieplan's points become actions in the turn that stores them.
        self.actions = actions or Actions(dialog.spec, units)
        # A finished plan's evaluations: its turns while one is in progress go there.
        self.evaluations = evaluations or Evaluations.default(dialog.spec, self.actions)
        # The report over all plans: a plan's facts are kept in the turn that stores them.
        self.facts = FactsKeeper(dialog.spec, units)
        self.facts.outcomes = OutcomeKeeper(dialog.spec, units, self.evaluations.spec)
        self.evaluations.on_done.append(self.facts.outcomes.on_evaluated)
        # Each use case is one unit of work (storage.uow): one transaction, committed when
        # it returns, whose database failures arrive as StorageUnavailable.
        self.units = units
        # Decrypted answers of recently used plans, checked against the stored revision on
        # every turn (storage.cache): a turn reads one plan row instead of its whole history.
        self.cache = PlanCache()

    def open(
        self,
        household: str,
        *,
        actor: str,
        new: bool = False,
        ask_if_finished: bool = False,
        chat: ChatTarget | None = None,
        professional: ProfessionalRecord | None = None,
    ) -> Turn:
        """Resume the household's current plan, or start one; returns the first replies.

        `new` always starts a new plan; a plan that is replaced is archived, never deleted.
        With `ask_if_finished`, a finished current plan is neither opened nor replaced:
        PlanFinished is raised, and the front end lets the user choose between `view`,
        `open_plan` (to change it) and `renew`. With `professional` (Telegram), the
        household's current plan must be theirs or shared with them (AccessDenied
        otherwise), and a plan they start is theirs. `actor` is whoever acts (audited as
        such, and the owner of a plan started here).
        """
        with self.units() as uow:
            record = None if new else uow.plans.current_plan(household)
            foreign = (
                record is not None
                and professional is not None
                and uow.access.role(record.id, professional.id) is None
            )
            if foreign:
                raise AccessDenied
            if record is not None and ask_if_finished and record.status == PlanStatus.FINISHED:
                raise PlanFinished(record)
            if record is not None and not _may_change(uow, record.id, professional):
                raise AccessDenied
            if record is None:
                record = self._start(uow, household, actor, professional)
            uow.access.audit(actor, OPENED, record.id)
            turn = self._opened(uow, record, actor, chat)
        self._remember(record, turn)
        return turn

    def _start(
        self,
        uow: UnitOfWork,
        household: str,
        actor: str,
        professional: ProfessionalRecord | None,
    ) -> PlanRecord:
        record = uow.plans.start_plan(household, state=self.dialog.initial_state(), owner=actor)
        if professional is not None:
            uow.access.grant(record.id, professional.id, OWNER)
        self.facts.on_started(uow, record)
        log.info("plan %s started", record.id)
        return record

    def renew(
        self,
        plan_id: int,
        *,
        actor: str,
        revision: int | None = None,
        chat: ChatTarget | None = None,
        professional: ProfessionalRecord | None = None,
    ) -> Turn | None:
        """Archive this finished plan and start a new one for its household (the user
        confirmed it). None if the plan is no longer the household's finished current plan
        (or, with `revision`, changed since the user was asked), or not the professional's:
        nothing is changed then."""
        # It claims its update, as every change does: a renewal repeated after a restart is
        # recognised as applied (and would find the plan archived anyway).
        with self.units() as uow:
            record = uow.plans.get(plan_id, cache=self.cache)
            if record is None or record.status != PlanStatus.FINISHED:
                return None
            if revision is not None and record.revision != revision:
                return None
            if not _may_change(uow, record.id, professional):
                return None
            record = self._start(uow, record.household, actor, professional)
            uow.access.audit(actor, OPENED, record.id)
            turn = self._opened(uow, record, actor, chat)
        self._remember(record, turn)
        return turn

    def view(
        self, plan_id: int, *, actor: str, professional: ProfessionalRecord | None = None
    ) -> Turn | None:
        """A finished or archived plan to look at, read-only: its overview and the plan as a
        document, as replies. Nothing about the plan changes (the look is audited). None if
        it does not exist, is still being made (open it instead), or, for a `professional`,
        was never theirs nor shared with them, nor holds an action they own."""
        # claim=False: looking changes nothing but the audit log, and a look repeated after a
        # restart may simply show the plan again.
        with self.units(claim=False) as uow:
            record = uow.plans.get(plan_id, cache=self.cache)
            if record is None or record.status not in (PlanStatus.FINISHED, PlanStatus.ARCHIVED):
                return None
            if (
                professional is not None
                and uow.access.role(record.id, professional.id) is None
                # A colleague made owner of one of its actions may look at it, read-only.
                and not uow.actions.owns_in(record.id, professional.id)
            ):
                return None
            uow.access.audit(actor, OPENED, record.id)
            course = (*self._course(uow, record), *self._escalations(uow, record.id))
        overview = Message(self.dialog.overview(record.answers, record.data))
        replies: tuple[Reply, ...] = (overview, *course, Document("md"))
        outcome = Outcome(replies, record.state, record.status, record.data)
        return Turn(
            record.id, record.household, outcome, dict(record.answers), False, record.revision
        )

    def document(
        self,
        plan_id: int,
        fmt: str,
        *,
        actor: str,
        revision: int,
        once: str,
        professional: ProfessionalRecord | None = None,
    ) -> Turn | None:
        """The plan at `revision`, to render as `fmt` on request (the Word file under the
        PDF): its one reply is Document(fmt). The export is audited with detail
        `<fmt> <once>`; AlreadySent if `actor` had that export of this plan before, so a
        button tapped twice sends its file once. None if the plan is gone, changed since
        `revision`, or, for a `professional`, not theirs: nothing is recorded then.

        Like every write it claims the update being applied: a press delivered twice is
        AlreadyApplied the second time."""
        detail = f"{fmt} {once}"
        with self.units() as uow:
            record = uow.plans.get(plan_id, cache=self.cache)
            if record is None or record.revision != revision:
                return None
            if professional is not None and uow.access.role(record.id, professional.id) is None:
                return None
            if uow.access.audited(actor, EXPORTED, record.id, detail):
                raise AlreadySent
            uow.access.audit(actor, EXPORTED, record.id, detail)
        outcome = Outcome((Document(fmt),), record.state, record.status, record.data)
        return Turn(
            record.id, record.household, outcome, dict(record.answers), False, record.revision
        )

    def archived_plans(
        self, household: str, *, professional: ProfessionalRecord | None = None
    ) -> list[PlanRecord]:
        """The household's archived plans, newest first; for a `professional` only those
        they owned or that were shared with them (the terminal sees all)."""
        with self.units(read_only=True) as uow:
            plans = uow.plans.archived_plans(household)
            if professional is not None:
                allowed = set(uow.access.plan_ids(professional.id))
                plans = [record for record in plans if record.id in allowed]
            return plans

    def open_plan(
        self,
        plan_id: int,
        *,
        actor: str,
        chat: ChatTarget | None = None,
        professional: ProfessionalRecord | None = None,
    ) -> Turn | None:
        """Resume a plan by its id (a /hervat button); None if it does not exist or, for a
        `professional`, is not theirs: the two look the same, so an id reveals nothing."""
        with self.units() as uow:
            record = uow.plans.get(plan_id, cache=self.cache)
            if record is None or record.status == PlanStatus.ARCHIVED:
                return None
            if not _may_change(uow, record.id, professional):
                return None
            uow.access.audit(actor, OPENED, record.id)
            turn = self._opened(uow, record, actor, chat)
        self._remember(record, turn)
        return turn

    def evaluate(
        self,
        plan_id: int,
        *,
        actor: str,
        chat: ChatTarget | None = None,
        professional: ProfessionalRecord | None = None,
    ) -> Turn | None:
        """Start (or resume) the evaluation of a finished plan, bound to `chat` if given (the
        button on the evaluation reminder). None if the plan is gone, not finished, or, for
        a `professional`, not theirs to change (a member of the Doorbraakteam it was submitted
        to reads it, and does not evaluate it)."""
        with self.units() as uow:
            record = uow.plans.get(plan_id, cache=self.cache)
            if record is None or record.status != PlanStatus.FINISHED:
                return None
            if not _may_change(uow, record.id, professional):
                return None
            self._bind(uow, record, chat)
            turn = self._evaluation_turn(uow, record, None, actor)
        self._remember(record, turn)
        return turn

    def _evaluation_turn(
        self, uow: UnitOfWork, record: PlanRecord, event: Event | None, author: str
    ) -> Turn:
        """A turn of the plan's evaluation (bot.evaluations), stored and audited like answers;
        it moves the plan's revision on, so an older button of the plan is recognised."""
        outcome = self.evaluations.turn(uow, record, event, author)
        self._save(uow, record, outcome, author)
        uow.access.audit(author, CHANGED, record.id, EVALUATION)
        return Turn(
            record.id, record.household, outcome, dict(record.answers), True, record.revision + 1
        )

    @staticmethod
    def _bind(uow: UnitOfWork, record: PlanRecord, chat: ChatTarget | None) -> None:
        if chat is not None:
            uow.chats.bind_chat(
                chat.chat_id,
                record.id,
                kind=chat.kind,
                facilitator=chat.facilitator,
                first_message_id=chat.first_message_id,
            )

    def evaluations_of(self, plan_id: int) -> list[EvaluationRecord]:
        """The plan's evaluations, the first first (documents and exports)."""
        with self.units(read_only=True) as uow:
            return uow.evaluations.of_plan(plan_id)

    def _remember(self, record: PlanRecord, turn: Turn) -> None:
        """Keep the plan as this turn left it, once the turn's transaction has committed."""
        self.cache.put(
            (record.id, turn.revision, record.created_at), record.household, turn.answers
        )

    def _opened(
        self, uow: UnitOfWork, record: PlanRecord, author: str, chat: ChatTarget | None
    ) -> Turn:
        self._bind(uow, record, chat)
        if self.evaluations.applies(record, None):
            return self._evaluation_turn(uow, record, None, author)  # resumed where it was
        outcome = self.dialog.start(snapshot_of(record))
        # Resuming can move the position (a question removed from the YAML, or a required one
        # still open at the end); store it so the next answer lands there.
        saved = self._save(uow, record, outcome, author)
        revision = record.revision + 1 if saved else record.revision
        return Turn(record.id, record.household, outcome, dict(record.answers), saved, revision)

    def handle(
        self,
        plan_id: int,
        event: Event,
        *,
        author: str,
        revision: int | None = None,
        professional: ProfessionalRecord | None = None,
        chat: ChatRecord | None = None,
    ) -> Turn:
        """Apply one event; on a storage failure nothing is stored and the question is repeated.

        With `revision` (from a button), the event only applies if the plan is still at that
        revision; otherwise the turn is marked stale and the current question is repeated.
        Like every write, the turn claims the Telegram update being applied (if any) in its
        own transaction: AlreadyApplied if it was applied before (a worker died right after
        the commit), and nothing is applied again.
        With `chat` (the binding the front end holds, perhaps from its cache), the chat must
        still be bound so in the turn's transaction; ChatMoved is raised otherwise.
        """
        for _ in range(MAX_ATTEMPTS):
            try:
                return self._handle_once(plan_id, event, author, revision, professional, chat)
            except StaleRevision:
                log.info("plan %s changed concurrently; deciding again", plan_id)
            except StorageUnavailable as exc:
                cause = exc.__cause__
                reason = type(getattr(cause, "orig", cause)).__name__
                log.warning("plan %s not saved: %s", plan_id, reason)
                return self._unsaved(plan_id)
        return self._unsaved(plan_id)

    def _handle_once(
        self,
        plan_id: int,
        event: Event,
        author: str,
        revision: int | None,
        professional: ProfessionalRecord | None,
        chat: ChatRecord | None,
    ) -> Turn:
        # The unit claims the update first: a second worker applying the same update waits
        # there for the first, then gets AlreadyApplied. Then one statement reads the plan,
        # the chat's binding and the professional's role.
        with self.units() as uow:
            found = uow.plans.turn(
                plan_id,
                chat_key=None if chat is None else uow.chats.key(chat.chat_id),
                professional_id=None if professional is None else professional.id,
                cache=self.cache,
            )
            if chat is not None and not same_binding(found.chat, chat):
                raise ChatMoved
            record = found.plan
            if record is None:
                raise LookupError(f"plan {plan_id} does not exist")
            if professional is not None and (found.role is None or found.role == READER):
                raise AccessDenied  # sharing was withdrawn while the chat was open
            if revision is not None and revision != record.revision:
                return self._stale(record)
            if self.evaluations.applies(record, event):
                turn = self._evaluation_turn(uow, record, event, author)
                self._remember(record, turn)
                return turn
            outcome = self.dialog.handle(snapshot_of(record), event)
            # Finished for the first time: the line about sharing its texts (issue 16).
            outcome = with_sharing_note(self.dialog.spec, record, outcome)
            if _asks_overview(self.dialog.spec, event):
                after = (*self._course(uow, record), *self._escalations(uow, plan_id))
                outcome = _after_overview(outcome, after)
            saved = self._save(uow, record, outcome, author)
            if outcome.answers:
                uow.access.audit(author, CHANGED, plan_id)
            answers = with_changes(record.answers, outcome.answers)
            new_revision = record.revision + 1 if saved else record.revision
            turn = Turn(plan_id, record.household, outcome, answers, saved, new_revision)
        self._remember(record, turn)
        return turn

    def _course(self, uow: UnitOfWork, record: PlanRecord) -> tuple[Message, ...]:
        """The plan's course for `overzicht`, once it went further than klaar."""
        steps = uow.course.steps(record.id)
        if not steps:
            return ()
        stage = stage_of(record.status, steps[-1].stage)
        claims = uow.course.claims(record.id)
        return (Message(course_text(self.dialog.spec, stage, steps, claims)),)

    def _escalations(self, uow: UnitOfWork, plan_id: int) -> tuple[Message, ...]:
        """The plan's steps on the escalatieladder for `overzicht`, if any."""
        if self.escalations is None:
            return ()
        shown = self.escalations.overview(uow.escalations.of_plan(plan_id))
        return () if shown is None else (Message(shown),)

    def _stale(self, record: PlanRecord) -> Turn:
        again = self.dialog.start(snapshot_of(record))
        outcome = Outcome(
            replies=(Error(self.dialog.spec.message("knop_verlopen")), *again.replies),
            state=record.state,
            status=record.status,
            data=record.data,
        )
        return Turn(
            record.id,
            record.household,
            outcome,
            dict(record.answers),
            saved=False,
            revision=record.revision,
            stale=True,
        )

    def _save(self, uow: UnitOfWork, record: PlanRecord, outcome: Outcome, author: str) -> bool:
        if outcome.persist:
            data = outcome.data
            if outcome.status == PlanStatus.FINISHED and FINISHED_AT not in data:
                # When the plan was first finished: its evaluations count months from it.
                data = {**data, FINISHED_AT: self.actions.now().isoformat()}
            uow.plans.save_turn(
                record.id,
                expected_revision=record.revision,
                state=outcome.state,
                data=data,
                status=outcome.status,
                answers=outcome.answers,
                author=author,
            )
            self.actions.on_saved(uow, record.id, outcome.answers, author)
            self.facts.on_saved(
                uow,
                record,
                outcome.answers,
                outcome.status,
                lambda: with_changes(record.answers, outcome.answers),
            )
        return outcome.persist

    def _unsaved(self, plan_id: int) -> Turn:
        """Tell the user nothing was stored and ask the same question again, if we can read."""
        error = Error(self.dialog.spec.message("opslaan_mislukt"))
        try:
            with self.units(read_only=True) as uow:
                record = uow.plans.get(plan_id)
        except StorageUnavailable:
            record = None
        if record is None:
            outcome = Outcome(replies=(error,), state="", status="")
            return Turn(plan_id, "", outcome, {}, saved=False)
        again = self.dialog.start(snapshot_of(record))
        outcome = Outcome(
            replies=(error, *again.replies),
            state=record.state,
            status=record.status,
            data=record.data,
        )
        return Turn(
            plan_id, record.household, outcome, dict(record.answers), False, record.revision
        )

    def current(self, household: str) -> tuple[PlanRecord, list[AnswerRecord]] | None:
        """The household's current plan with its full answer history (for exports)."""
        with self.units(read_only=True) as uow:
            record = uow.plans.current_plan(household)
            if record is None:
                return None
            return record, uow.plans.history(record.id)

    def plan(self, plan_id: int) -> tuple[PlanRecord, list[AnswerRecord]] | None:
        """Any plan, archived ones too, with its full answer history (for exports)."""
        with self.units(read_only=True) as uow:
            record = uow.plans.get(plan_id)
            if record is None:
                return None
            return record, uow.plans.history(record.id)

    def readable(self, plan_id: int, professional: ProfessionalRecord) -> PlanRecord | None:
        """A plan the professional owns or that is shared with them, whatever its status
        (to export it, e.g. as the wall poster); None otherwise."""
        with self.units(read_only=True) as uow:
            record = uow.plans.get(plan_id, cache=self.cache)
            if record is None or uow.access.role(record.id, professional.id) is None:
                return None
            return record

    def restore(self, plan: ImportedPlan) -> PlanRecord:
        """Store an imported plan as the household's current one; the old one is archived."""
        with self.units() as uow:
            record = uow.plans.import_plan(
                plan.household,
                status=plan.status,
                state=plan.state,
                data=plan.data,
                owner=plan.owner,
                created_at=plan.created_at,
                updated_at=plan.updated_at,
                history=plan.history,
            )
            if plan.actions is None:
                # A file from before actions were exported: made from its answers.
                self.actions.derive(uow, record.id, record.answers, plan.owner or "import")
            else:
                ids = [uow.actions.restore(record.id, **action) for action in plan.actions]
                if plan.reminders is not None:
                    # As they were: one sent before stays sent, so the import sends none.
                    reminders = [
                        replace(r, action_id=None if r.action_id is None else ids[r.action_id])
                        for r in plan.reminders
                    ]
                    uow.reminders.replace(record.id, reminders, plan.updated_at)
            for step in plan.course.steps:
                uow.course.record(
                    record.id,
                    step.stage,
                    author=step.author,
                    who=step.who,
                    day=step.day,
                    now=step.at,
                )
            for team, amount, day, at, author in plan.course.claims:
                uow.course.claim(record.id, team, amount, day=day, author=author, now=at)
            if plan.escalations:
                # `action` is the place in the file's actions, stored in that order.
                ids = [a.id for a in uow.actions.of_plan(record.id, removed=True)]
                for escalation in plan.escalations:
                    place = escalation["action"]
                    fields = {k: v for k, v in escalation.items() if k != "action"}
                    action_id = None if place is None else ids[place]
                    uow.escalations.restore(record.id, action_id=action_id, **fields)
            for evaluation in plan.evaluations:
                uow.evaluations.add(record.id, **evaluation)
            self.facts.on_imported(uow, record)
            log.info("plan %s imported", record.id)
            return record

    def plans(self) -> list[PlanRecord]:
        with self.units(read_only=True) as uow:
            return uow.plans.list_plans()

    def accessible_plans(self, professional: ProfessionalRecord) -> list[PlanRecord]:
        """Unfinished plans the professional owns or that are shared with them (/hervat)."""
        with self.units(read_only=True) as uow:
            return uow.plans.open_plans(uow.access.plan_ids(professional.id))

    def chat(self, chat_id: int) -> ChatRecord | None:
        with self.units(read_only=True) as uow:
            return uow.chats.chat(chat_id)

    def leave_chat(self, chat_id: int) -> None:
        with self.units() as uow:
            uow.chats.unbind_chat(chat_id)

    def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        with self.units() as uow:
            uow.chats.move_chat(old_chat_id, new_chat_id)

    def suggest(self, plan_id: int, *, author: str, text: str) -> SuggestionRecord | None:
        """Store an idea at the step the plan is at now; None if the plan is gone."""
        with self.units() as uow:
            record = uow.plans.get(plan_id, cache=self.cache)
            if record is None:
                return None
            step = self.dialog.current_step(snapshot_of(record))
            return uow.plans.add_suggestion(
                plan_id, step=step.number, field=record.state, author=author, text=text
            )

    def suggestions(self, plan_id: int, *, step: int | None = None) -> list[SuggestionRecord]:
        with self.units(read_only=True) as uow:
            return uow.plans.suggestions(plan_id, step=step)

    def progress(self, record: PlanRecord) -> Progress:
        answered, total, step = self.dialog.progress(snapshot_of(record))
        steps = len(self.dialog.spec.steps)
        return Progress(answered, total, step.number if step else steps, steps)

    @staticmethod
    def may_answer(binding: ChatRecord, actor: str) -> bool:
        """In a session (a chat with a facilitator) only the facilitator's answers count;
        the others add ideas instead."""
        return binding.facilitator in (None, actor)

    def may_stop_session(self, professional: ProfessionalRecord, binding: ChatRecord) -> bool:
        """A session is stopped by its facilitator or by the plan's owner."""
        if binding.facilitator == professional.actor:
            return True
        with self.units(read_only=True) as uow:
            role = uow.access.role(binding.plan_id, professional.id)
        return role == OWNER

    def delete(self, professional: ProfessionalRecord, plan_id: int) -> bool:
        """Delete a plan and everything in it at once, by its owner only (NotOwner); the
        audit log keeps that it happened. False if it was gone already."""
        with self.units() as uow:
            if uow.access.role(plan_id, professional.id) != OWNER:
                raise NotOwner
            deleted = uow.deletion.delete_plan(plan_id)
            if deleted:
                uow.access.audit(professional.actor, DELETED, plan_id)
        # Its decrypted answers leave memory too.
        self.cache.forget(plan_id)
        return deleted


def _asks_overview(spec: Interview, event: Event) -> bool:
    if isinstance(event, Text):
        command = parse_command(spec, event.text)
        return command is not None and command.name == "overzicht"
    return isinstance(event, Command) and event.name == "overzicht"


def _after_overview(outcome: Outcome, course: tuple[Message, ...]) -> Outcome:
    """The outcome with the plan's course right after the overview (its first message)."""
    replies = list(outcome.replies)
    first = next((n for n, r in enumerate(replies) if isinstance(r, Message)), None)
    if first is None or not course:
        return outcome
    return replace(outcome, replies=(*replies[: first + 1], *course, *replies[first + 1 :]))


def _may_change(uow: UnitOfWork, plan_id: int, professional: ProfessionalRecord | None) -> bool:
    """Whether the professional may change the plan: theirs or shared with them. A member
    of the Doorbraakteam it was submitted to (READER) may look, not change."""
    if professional is None:
        return True
    role = uow.access.role(plan_id, professional.id)
    return role is not None and role != READER
