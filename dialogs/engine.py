"""The interview as a `transitions` state machine: one event in, replies and changes out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from itertools import pairwise
from typing import Any

from transitions import Machine

from dialogs.answer_flow import AnswerFlow
from dialogs.answers import by_number
from dialogs.commands import parse_command
from dialogs.costs import CostsFlow
from dialogs.events import (
    Choose,
    Command,
    Document,
    Done,
    Error,
    Event,
    Message,
    Outcome,
    Question,
    Submit,
    Summary,
    Text,
)
from dialogs.flow import FieldFlow
from dialogs.group_flow import GroupFlow
from dialogs.kinds import Formatter
from dialogs.models import ModelPool
from dialogs.overview import current_step, overview, progress
from dialogs.questions import Questions
from dialogs.readings import normal, not_known
from dialogs.screening import Screener
from dialogs.spec import Field, Interview, Kind, Step
from dialogs.status import PlanStatus
from dialogs.turn import EDITING, OPEN, SELECTION, SKIPPED, Snapshot, TurnModel

# The state after the last question: every question has been asked. Not a status: a plan
# there is FINISHED only once nothing required is open. Stored as "klaar", which it stays.
END = "klaar"


def field_flows(spec: Interview, fmt: Formatter) -> dict[Kind, FieldFlow]:
    """The one table from a question kind to the flow that asks and answers it."""
    questions = Questions(spec, fmt)
    screener = Screener(spec)
    answer = AnswerFlow(spec, questions, screener)
    flows: dict[Kind, FieldFlow] = {kind: answer for kind in Kind}
    flows[Kind.COSTS] = CostsFlow(spec, questions, screener)
    flows[Kind.GROUP] = GroupFlow(spec, questions, screener)
    return flows


class Dialog:
    """Built once per process from the interview data; handles events for any number of plans."""

    def __init__(self, spec: Interview, formatter: Formatter) -> None:
        self.spec = spec
        self.fmt = formatter
        self.flows = field_flows(spec, formatter)
        # Each flow once, in a fixed order: every one hears of a command.
        self._distinct_flows = tuple({id(f): f for f in self.flows.values()}.values())
        self._order = [f.key for f in spec.fields]
        states = [*self._order, END]
        transitions: list[dict[str, Any]] = []
        for here, there in pairwise(states):
            transitions.append({"trigger": "forward", "source": here, "dest": there})
            transitions.append({"trigger": "backward", "source": there, "dest": here})
        for step in spec.steps:
            transitions.append(
                {"trigger": f"edit_{step.number}", "source": "*", "dest": step.fields[0].key}
            )
        self.machine = Machine(
            model=None,
            states=states,
            transitions=transitions,
            initial=None,
            auto_transitions=False,
        )
        self._models = ModelPool(self.machine, TurnModel)

    # --- the one entry point ----------------------------------------------------------------

    def initial_state(self) -> str:
        return self._order[0]

    def start(self, snapshot: Snapshot) -> Outcome:
        """Open (or resume) a plan: ask the question it is at."""
        return self._run(snapshot, None)

    def handle(self, snapshot: Snapshot, event: Event) -> Outcome:
        return self._run(snapshot, event)

    def _run(self, snapshot: Snapshot, event: Event | None) -> Outcome:
        lost = snapshot.state not in self.machine.states
        turn = self._models.take(self._order[0] if lost else snapshot.state)
        turn.start(snapshot)
        try:
            if lost:
                # The stored question was removed from the YAML: resume at the first open one.
                self._forward(turn)
            stopped = False
            if event is None:
                self._settle(turn, resume=True)
            else:
                stopped = self._dispatch(turn, event)
            persist = bool(
                turn.changes
                or turn.state != snapshot.state
                or turn.status != snapshot.status
                or turn.data != dict(snapshot.data)
            )
            revision = snapshot.revision + 1 if persist else snapshot.revision
            return Outcome(
                replies=tuple(
                    replace(r, revision=revision) if isinstance(r, Question) else r
                    for r in turn.replies
                ),
                state=turn.state,
                status=str(turn.status),  # the plain stored value, not the enum
                data=turn.data,
                answers=tuple(turn.changes),
                stopped=stopped,
                persist=persist,
            )
        finally:
            turn.clear()
            self._models.give(turn)

    def _flow(self, turn: TurnModel) -> tuple[FieldFlow, Field]:
        spec_field = with_choices(self.spec.field(turn.state), turn.answers)
        return self.flows[spec_field.kind], spec_field

    # --- events -----------------------------------------------------------------------------

    def _dispatch(self, turn: TurnModel, event: Event) -> bool:
        if isinstance(event, Choose | Submit):
            self._on_button(turn, event)
            return False
        if isinstance(event, Text):
            command = parse_command(self.spec, event.text)
            if command is None:
                if turn.state == END:
                    if self.spec.find_step(event.text.strip()) is not None:
                        # After "Het plan is af ... Typ het nummer van de stap": `5`.
                        self._edit(turn, event.text.strip())
                        return False
                    self._ask(turn)
                    return False
                self._on_text(turn, event.text, numbered=event.numbered)
                return False
            event = command
        return self._on_command(turn, event)

    def _on_command(self, turn: TurnModel, command: Command) -> bool:
        name = command.name
        for flow in self._distinct_flows:
            flow.interrupted(turn, name)
        if name == "stop":
            turn.replies.append(Message(self.spec.message("gepauzeerd")))
            return True
        if name == "terug":
            self._back(turn)
        elif name == "overslaan":
            self._skip(turn)
        elif name == "verder":
            self._skip_rest(turn)
        elif name == "overzicht":
            turn.replies.append(Message(self.overview(turn.answers, turn.data)))
            self._ask(turn)
        elif name == "wijzig":
            self._edit(turn, command.arg)
        elif name == "plan":
            turn.replies.append(Document("md"))
            self._ask(turn)
        elif name == "help":
            turn.replies.append(Message(self.spec.message("help")))
            self._ask(turn)
        elif name == "evaluatie":
            # A finished plan's evaluation is run outside this dialog (bot.evaluations).
            turn.replies.append(Error(self.spec.message("evaluatie_plan_niet_af")))
            self._ask(turn)
        else:
            turn.replies.append(Error(self.spec.message("onbekende_opdracht", opdracht=name)))
            self._ask(turn)
        return False

    def _on_text(self, turn: TurnModel, text: str, *, numbered: bool = True) -> None:
        flow, spec_field = self._flow(turn)
        if not numbered and by_number(spec_field, text):
            turn.replies.append(Error(self.spec.message("keuze_nummer_zonder_nummers")))
            self._ask(turn)
            return
        # Cost lines keep their own flow; every one-message question may be left open.
        if (
            spec_field.required
            and spec_field.kind is not Kind.COSTS
            and self._not_known(text)
            and normal(text) not in (normal(choice) for choice in spec_field.choices)
        ):  # `Weet niet` may be a choice of its own (the evaluation's)
            self._keep_open(turn, spec_field)
            return
        if flow.on_text(turn, spec_field, text):
            self._advance(turn)

    def _not_known(self, text: str) -> bool:
        return not_known(text, self.spec.commands.get("weet_niet", ()))

    def _keep_open(self, turn: TurnModel, spec_field: Field) -> None:
        """`weet ik nog niet` at a required question: an open point, and on to the next."""
        for flow in self._distinct_flows:
            flow.interrupted(turn, "weet_niet")
        if spec_field.key in turn.answers:
            # An answer is never thrown away by a doubt: it stays until it is replaced.
            turn.replies.append(Error(self.spec.message("open_al_ingevuld")))
            self._ask(turn)
            return
        turn.mark_open(spec_field.key)
        turn.replies.append(Message(self.spec.message("open_genoteerd")))
        self._advance(turn)

    def open_points(self, answers: Mapping[str, Any], data: Mapping[str, Any]) -> list[Field]:
        """Required fields noted as open points that still apply and have no answer."""
        noted = set(data.get(OPEN, []))
        return [
            f
            for f in self.spec.fields
            if f.key in noted
            and f.key not in answers
            and (f.when is None or f.when.holds(answers))
        ]

    def _on_button(self, turn: TurnModel, event: Choose | Submit) -> None:
        question = self._question_now(turn)
        if question is None or (
            isinstance(event, Choose) and not 0 <= event.index < len(question.choices)
        ):
            turn.replies.append(Error(self.spec.message("knop_verlopen")))
            self._ask(turn)
            return
        if isinstance(event, Choose) and not question.ticks:
            self._on_text(turn, question.choices[event.index])
            return
        if not question.ticks:
            turn.replies.append(Error(self.spec.message("knop_verlopen")))
            self._ask(turn)
            return
        chosen = list(question.selected)
        if isinstance(event, Submit):
            turn.data.pop(SELECTION, None)
            if not chosen:
                turn.replies.append(Error(self.spec.message("niets_gekozen")))
                self._ask(turn)
                return
            self._on_text(turn, ";".join(chosen))
            return
        label = question.choices[event.index]
        if label in chosen:
            chosen.remove(label)
        elif question.max is not None and len(chosen) >= question.max:
            too_many = {"max": question.max, "aantal": len(chosen) + 1}
            turn.replies.append(Error(self.spec.message("te_veel_keuzes", **too_many)))
        else:
            chosen.append(label)
        turn.data[SELECTION] = {"field": turn.state, "labels": chosen}
        self._ask(turn)

    def _question_now(self, turn: TurnModel) -> Question | None:
        """The question that is being asked at this moment (what a button belongs to)."""
        if turn.state == END:
            return None
        before = turn.replies
        turn.replies = []
        try:
            self._ask(turn)
            questions = [r for r in turn.replies if isinstance(r, Question)]
        finally:
            turn.replies = before
        return questions[-1] if questions else None

    def _skip(self, turn: TurnModel) -> None:
        if turn.state == END:
            turn.replies.append(Error(self.spec.message("niets_over_te_slaan")))
            self._ask(turn)
            return
        flow, spec_field = self._flow(turn)
        if flow.skip(turn, spec_field):
            self._advance(turn)

    def _rest_of_step(self, turn: TurnModel) -> list[Field]:
        """The questions of this step from here on that moving forward would stop at."""
        step = self.spec.step_of(turn.state)
        here = step.fields.index(self.spec.field(turn.state))
        return [f for f in step.fields[here:] if self._wanted(turn, f.key)]

    def _optional_rest(self, turn: TurnModel) -> list[str]:
        """What `verder` passes over: the optional questions left in this step. Cost lines
        are never passed over wholesale: a costs field has its own `overslaan`."""
        return _optional(self._rest_of_step(turn), turn.answers)

    def _skip_rest(self, turn: TurnModel) -> None:
        """`verder`: pass over the optional questions left in this step; required ones and
        cost lines stay."""
        if turn.state == END:
            turn.replies.append(Error(self.spec.message("niets_over_te_slaan")))
            self._ask(turn)
            return
        left = self._rest_of_step(turn)
        rest = _optional(left, turn.answers)
        if not rest:
            turn.replies.append(Error(self.spec.message("rest_niets")))
            self._ask(turn)
            return
        costs = any(f.kind is Kind.COSTS for f in left)
        key = "rest_overgeslagen_kosten" if costs else "rest_overgeslagen"
        turn.replies.append(
            Message(self.spec.message(key, stap=self.spec.step_of(turn.state).number))
        )
        for passed in rest:
            turn.pass_over(passed)
        if turn.data.pop(EDITING, None) is not None:
            # Editing asks every question again; passing over the rest ends the edit.
            self.machine.set_state(self._first_open(turn), model=turn)
            self._settle(turn, resume=False)
        elif turn.state in rest or turn.state in turn.answers:
            self._advance(turn)
        else:
            self._ask(turn)  # a required question or cost lines, still to be answered here

    def _back(self, turn: TurnModel) -> None:
        start = turn.state
        if start != END:
            flow, spec_field = self._flow(turn)
            if flow.back(turn, spec_field):
                return
        while turn.state != self._order[0]:
            turn.trigger("backward")
            if self._applies(turn, turn.state):
                break
        if turn.state == start:
            turn.replies.append(Error(self.spec.message("eerste_vraag")))
        elif EDITING in turn.data and self.spec.step_of(turn.state).number != turn.data[EDITING]:
            turn.data.pop(EDITING)
        self._arrive(turn)

    def finished_message(self) -> str:
        """What a finished plan answers to anything that is not a command."""
        return self.spec.message("plan_is_klaar", stappen=self._step_list())

    def _step_list(self) -> str:
        return ", ".join(f"{s.number} ({s.name})" for s in self.spec.steps)

    def _edit(self, turn: TurnModel, ref: str) -> None:
        step = self.spec.find_step(ref) if ref else None
        if step is None:
            steps = self._step_list()
            key = "welke_stap" if not ref else "onbekende_stap"
            turn.replies.append(Error(self.spec.message(key, stap=ref, stappen=steps)))
            self._ask(turn)
            return
        turn.trigger(f"edit_{step.number}")
        turn.data[EDITING] = step.number
        if not self._applies(turn, turn.state):
            self._advance(turn)
            return
        self._ask(turn)

    # --- moving through the plan ---------------------------------------------------------

    def _applies(self, turn: TurnModel, key: str) -> bool:
        if key == END:
            return True
        spec_field = self.spec.field(key)
        if spec_field.choices_from and not turn.answers.get(spec_field.choices_from):
            return False  # nothing to choose from
        condition = spec_field.when
        return condition is None or condition.holds(turn.answers)

    def _wanted(self, turn: TurnModel, key: str) -> bool:
        """Whether moving forward should stop at this field."""
        if not self._applies(turn, key):
            return False
        if turn.data.get(EDITING) is not None:
            return True  # while editing a step, every question of it is asked again
        passed = (*turn.data.get(SKIPPED, []), *turn.data.get(OPEN, []))
        return key not in turn.answers and key not in passed

    def _advance(self, turn: TurnModel) -> None:
        """Move on to the next question that needs asking and ask it, or finish."""
        left = self.spec.step_of(turn.state) if turn.state != END else None
        turn.trigger("forward")
        self._forward(turn)
        if left is not None and left.summary:
            now = self.spec.step_of(turn.state).number if turn.state != END else None
            if now is None or now > left.number:
                turn.replies.append(Summary(left.summary))
        self._settle(turn, resume=False)

    def _forward(self, turn: TurnModel) -> None:
        """Walk forward until a question that needs asking (possibly this one), or the end."""
        while turn.state != END:
            editing = turn.data.get(EDITING)
            if editing is not None and self.spec.step_of(turn.state).number != editing:
                # The edited step is done: back to the first question still open, wherever
                # it is, so an edit never leaves earlier questions behind.
                turn.data.pop(EDITING)
                self.machine.set_state(self._first_open(turn), model=turn)
                continue
            if self._wanted(turn, turn.state):
                return
            self._passing(turn, turn.state)
            turn.trigger("forward")
        turn.data.pop(EDITING, None)

    def _passing(self, turn: TurnModel, key: str) -> None:
        """A question passed over unasked after `verder` still sends the summary it would
        have been answered with (step 5's waardendriehoek): it is the step's result."""
        summary = self.spec.field(key).summary
        if summary and key in turn.data.get(SKIPPED, []) and self._applies(turn, key):
            turn.replies.append(Summary(summary))

    def _first_open(self, turn: TurnModel) -> str:
        passed = (*turn.data.get(SKIPPED, []), *turn.data.get(OPEN, []))
        for key in self._order:
            if self._applies(turn, key) and key not in turn.answers and key not in passed:
                return key
        return END

    def _settle(self, turn: TurnModel, *, resume: bool) -> None:
        """At the end, send back to a required question still open; otherwise finish."""
        if turn.state != END and not self._applies(turn, turn.state):
            self._advance(turn)
            return
        if turn.state == END:
            missing = self.first_missing(turn.answers, turn.data.get(OPEN, ()))
            if missing is not None:
                self.machine.set_state(missing, model=turn)
                turn.replies.append(Message(self.spec.message("nog_open")))
            elif self.open_points(turn.answers, turn.data):
                # Not complete while open points remain, but not asked again either.
                turn.status = PlanStatus.OPEN
                if not resume:
                    turn.replies.append(Document("md"))
                self._ask(turn)
                return
            elif resume and turn.status == PlanStatus.FINISHED:
                turn.replies.append(Message(self.finished_message()))
                return
            else:
                turn.data.pop(EDITING, None)
                turn.status = PlanStatus.FINISHED
                turn.replies.append(Message(self.spec.message("klaar")))
                turn.replies.append(Document("md"))
                turn.replies.append(Done())
                return
        if turn.status == PlanStatus.FINISHED and turn.state != END:
            finished = self.first_missing(turn.answers) is None
            turn.status = PlanStatus.FINISHED if finished else PlanStatus.OPEN
        self._arrive(turn)

    def _arrive(self, turn: TurnModel) -> None:
        """Ask the question moved to, after the summary it is to be answered with, if any."""
        if turn.state != END and (summary := self.spec.field(turn.state).summary):
            turn.replies.append(Summary(summary))
        self._ask(turn)

    def first_missing(
        self, answers: Mapping[str, Any], open_points: Collection[str] = ()
    ) -> str | None:
        """The first required question without an answer (open points left out if given)."""
        for spec_field in self.spec.fields:
            if (
                spec_field.required
                and spec_field.key not in answers
                and spec_field.key not in open_points
                and (spec_field.when is None or spec_field.when.holds(answers))
            ):
                return spec_field.key
        return None

    # --- questions ------------------------------------------------------------------------

    def _ask(self, turn: TurnModel) -> None:
        if turn.state == END:
            points = self.open_points(turn.answers, turn.data)
            if points:
                shown = "; ".join(f.title for f in points)
                turn.replies.append(Message(self.spec.message("open_punten", punten=shown)))
            else:
                turn.replies.append(Message(self.finished_message()))
            return
        flow, spec_field = self._flow(turn)
        flow.ask(turn, spec_field)
        last = turn.replies[-1] if turn.replies else None
        if isinstance(last, Question) and not last.part and self._skips_rest(turn, last):
            turn.replies[-1] = replace(last, skip_rest=True)
        # Ticks given with buttons so far are shown on the multiple choice they belong to.
        selection = turn.data.get(SELECTION) or {}
        last = turn.replies[-1] if turn.replies else None
        if selection.get("field") == spec_field.key and isinstance(last, Question) and last.ticks:
            turn.replies[-1] = replace(last, selected=tuple(selection["labels"]))

    def _skips_rest(self, turn: TurnModel, question: Question) -> bool:
        """Whether `verder` is offered: an optional question with more optional ones after it
        in its step (so it saves more than `overslaan` would)."""
        if question.required or question.current is not None:
            return False
        return len(self._optional_rest(turn)) > 1

    # --- where a plan stands (dialogs.overview) -------------------------------------------

    def overview(self, answers: Mapping[str, Any], data: Mapping[str, Any]) -> str:
        return overview(self.spec, answers, data.get(SKIPPED, []), data.get(OPEN, []))

    def current_step(self, snapshot: Snapshot) -> Step:
        """The step the plan is at; the last step once the plan is done."""
        return current_step(self.spec, snapshot.state)

    def progress(self, snapshot: Snapshot) -> tuple[int, int, Step | None]:
        """(answered, applicable) question counts and the current step (None when done)."""
        return progress(self.spec, snapshot.state, snapshot.answers)


def _optional(fields: list[Field], answers: Mapping[str, Any]) -> list[str]:
    """The keys of the optional, unanswered fields among these, cost lines left out."""
    return [
        f.key
        for f in fields
        if not f.required and f.kind is not Kind.COSTS and f.key not in answers
    ]


def with_choices(spec_field: Field, answers: Mapping[str, Any]) -> Field:
    """The field with its choices taken from the given answer it names, if it names one."""
    if not spec_field.choices_from:
        return spec_field
    given = answers.get(spec_field.choices_from) or ()
    return replace(spec_field, choices=tuple(str(item) for item in given))
