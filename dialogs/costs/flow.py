"""The costs flow: cost lines entered one at a time, each read back in figures.

The stages are units (dialogs.costs.stages and .line) and the moves between them a table of
edges, run by a `transitions` machine. The machine earns its keep on the table: forward and
back each pick the first edge whose condition holds (a price-list match, a price from the
list, a unit typed as free text, a line being edited), written as data rather than if/elif.
Jumps that are answers rather than edges (a menu choice, a confirmation, taking over a line)
use `Step.goto`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from transitions import Machine

from dialogs.costs.stages import UNITS, handle, next_reuse
from dialogs.costs.state import STATE, CostsState, Draft, Stage
from dialogs.costs.step import Step
from dialogs.costs.words import CostWords
from dialogs.events import Error, Question
from dialogs.flow import Turn
from dialogs.models import ModelPool
from dialogs.questions import Questions
from dialogs.screening import Screener
from dialogs.spec import Field, Interview, Kind

# (from, to, condition): the first edge whose condition holds (none: always) is taken.
FORWARD: tuple[tuple[Stage, Stage, str | None], ...] = (
    (Stage.LINES, Stage.PRICE_LIST, "has_matches"),
    (Stage.LINES, Stage.PRICE, None),
    (Stage.DESCRIPTION, Stage.PRICE_LIST, "has_matches"),
    (Stage.DESCRIPTION, Stage.PRICE, None),
    (Stage.PRICE_LIST, Stage.QUANTITY, "from_list"),
    (Stage.PRICE_LIST, Stage.PRICE, None),
    (Stage.PRICE, Stage.UNIT, None),
    (Stage.UNIT, Stage.UNITS_PER_PERIOD, "free_unit"),
    (Stage.UNIT, Stage.QUANTITY, None),
    (Stage.UNITS_PER_PERIOD, Stage.QUANTITY, None),
    (Stage.QUANTITY, Stage.FREQUENCY, None),
    (Stage.FREQUENCY, Stage.LINES, None),  # the line is complete: stored, back at the list
)
BACK: tuple[tuple[Stage, Stage, str | None], ...] = (
    (Stage.PRICE_LIST, Stage.DESCRIPTION, "editing"),
    (Stage.PRICE_LIST, Stage.LINES, None),
    (Stage.PRICE, Stage.PRICE_LIST, "has_matches"),
    (Stage.PRICE, Stage.DESCRIPTION, "editing"),
    (Stage.PRICE, Stage.LINES, None),
    (Stage.UNIT, Stage.PRICE, None),
    (Stage.UNITS_PER_PERIOD, Stage.UNIT, None),
    (Stage.QUANTITY, Stage.UNITS_PER_PERIOD, "free_unit"),
    (Stage.QUANTITY, Stage.PRICE_LIST, "from_list"),
    (Stage.QUANTITY, Stage.UNIT, None),
    (Stage.FREQUENCY, Stage.QUANTITY, None),
    (Stage.DESCRIPTION, Stage.LINES, None),
    (Stage.PICK_EDIT, Stage.LINES, None),
    (Stage.PICK_REMOVE, Stage.LINES, None),
)
# The stages at which `terug` leaves the field instead of going back within a line.
OUTER = (Stage.LINES, Stage.REUSE, Stage.REUSE_QUANTITY)
# The stages whose question may be passed over, and those that show the field's intro.
OPTIONAL = (Stage.LINES, Stage.UNITS_PER_PERIOD)
INTRO = (Stage.LINES, Stage.REUSE)


def _transitions() -> list[dict[str, Any]]:
    transitions: list[dict[str, Any]] = []
    for trigger, table in (("next_stage", FORWARD), ("previous_stage", BACK)):
        for source, dest, condition in table:
            entry: dict[str, Any] = {
                "trigger": trigger,
                "source": source.value,
                "dest": dest.value,
            }
            if condition:
                entry["conditions"] = condition
            transitions.append(entry)
    return transitions


class CostsFlow:
    """Built once per dialog; the flow (dialogs.flow.FieldFlow) of every `costs` field."""

    def __init__(self, spec: Interview, questions: Questions, screener: Screener) -> None:
        self.spec = spec
        self.questions = questions
        self.screener = screener
        self.words = CostWords(spec, questions.fmt)
        self.prices = spec.prices
        self.machine = Machine(
            model=None,
            states=[stage.value for stage in Stage],
            transitions=_transitions(),
            initial=None,
            auto_transitions=False,
            send_event=True,
            model_attribute="at",
        )
        self.steps = ModelPool(self.machine, lambda: Step(self))

    # --- the field flow --------------------------------------------------------------------

    def ask(self, turn: Turn, spec_field: Field) -> None:
        with _Taken(self, turn, spec_field) as step:
            self.ask_step(step)

    def on_text(self, turn: Turn, spec_field: Field, text: str) -> bool:
        with _Taken(self, turn, spec_field) as step:
            return handle(step, text)

    def back(self, turn: Turn, spec_field: Field) -> bool:
        with _Taken(self, turn, spec_field) as step:
            if step.stage in OUTER:
                return False
            if step.stage is Stage.CONFIRM:
                assert step.state.pending is not None
                step.goto(step.state.pending.stage)
            else:
                step.trigger("previous_stage")
            if step.stage is Stage.LINES:
                step.state.draft = Draft()
                step.state.index = None
            self.ask_step(step)
            return True

    def skip(self, turn: Turn, spec_field: Field) -> bool:
        with _Taken(self, turn, spec_field) as step:
            stage, editing = step.stage, step.state.index is not None
            if stage is Stage.LINES:
                return step.finish()
            if stage is Stage.REUSE_QUANTITY:
                step.state.queue = step.state.queue[1:]
                return next_reuse(step)
            if stage is Stage.PRICE_LIST and editing:
                # Keep the price: the price question that follows can be passed over too.
                step.goto(Stage.PRICE)
                return step.ask()
            if stage is Stage.UNITS_PER_PERIOD or (editing and step.draft.at(stage) is not None):
                return step.go_on()
            turn.replies.append(Error(self.spec.message("verplicht")))
            return step.ask()

    def interrupted(self, turn: Turn, command: str) -> None:
        """A line in progress is kept through any command (e.g. `overzicht`)."""

    # --- asking ------------------------------------------------------------------------------

    def ask_step(self, step: Step) -> None:
        base = self.questions.question(step.field, step.turn.answers)
        stage = step.stage
        prompt = UNITS[stage].ask(step, base)
        step.turn.replies.append(
            Question(
                field=step.field.key,
                kind=prompt.kind.value,
                text=prompt.text,
                help=base.help if stage is Stage.LINES else (),
                choices=prompt.choices,
                max=None,
                required=self.required(step),
                step=base.step,
                steps=base.steps,
                step_name=base.step_name,
                current=prompt.current,
                intro=base.intro if stage in INTRO else "",
                part=stage.value,
            )
        )

    @staticmethod
    def required(step: Step) -> bool:
        """Not when `overslaan` is taken: an optional stage, or a part kept while editing."""
        stage = step.stage
        if stage in OPTIONAL:
            return False
        if step.state.index is not None:
            kept = step.draft.at(Stage.PRICE if stage is Stage.PRICE_LIST else stage)
            return kept is None
        return True

    def start_stage(self, turn: Turn, spec_field: Field) -> Stage:
        """A field met for the first time offers the lines of earlier scenarios, if any."""
        if spec_field.key in turn.answers:
            return Stage.LINES
        if spec_field.earlier:
            # Lines given with the turn (the evaluation's): confirm them or go through them.
            return Stage.REUSE if turn.answers.get(spec_field.earlier) else Stage.LINES
        for other in self.spec.fields:
            if other.key == spec_field.key:
                break
            if other.kind is Kind.COSTS and turn.answers.get(other.key):
                return Stage.REUSE
        return Stage.LINES


class _Taken:
    """A pooled Step at the field's stored stage for one call; writes the state back after."""

    def __init__(self, flow: CostsFlow, turn: Turn, spec_field: Field) -> None:
        self.flow, self.turn, self.field = flow, turn, spec_field

    def __enter__(self) -> Step:
        state = CostsState.from_stored(self.turn.data.get(STATE), self.field.key)
        if state is None:
            state = CostsState(self.field.key, self.flow.start_stage(self.turn, self.field))
        self.step = self.flow.steps.take(state.stage.value)
        self.step.start(self.turn, self.field, state)
        return self.step

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        step = self.step
        try:
            if step.finished:
                self.turn.data.pop(STATE, None)
            else:
                step.state.stage = step.stage
                self.turn.data[STATE] = step.state.to_stored()
        finally:
            step.clear()
            self.flow.steps.give(step)
