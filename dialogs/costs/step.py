"""The model of the stage machine: one costs field of one plan, for one event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from transitions import EventData, Machine

from dialogs.answers import match_choice
from dialogs.costs.state import CostsState, Draft, Pending, Stage
from dialogs.costs.words import CostWords
from dialogs.events import Error, Message, Question
from dialogs.flow import Turn
from dialogs.money import AmountError, parse_decimal
from dialogs.rendement import (
    PERIOD_FIELD,
    WHOLE_PERIOD,
    CostLine,
    PriceEntry,
    match_prices,
    period_months,
)
from dialogs.screening import Screener
from dialogs.spec import Field, Interview, Kind

MAX_LINE_TOTAL = Decimal("10000000")
# The draft part a stage fills, where it is not named after the stage.
_FILLS = {Stage.PRICE_LIST: Stage.PRICE}


@dataclass(frozen=True)
class Prompt:
    """What a stage asks; the costs flow makes it a Question of the field."""

    text: str
    kind: Kind = Kind.TEXT
    choices: tuple[str, ...] = ()
    current: str | None = None


@dataclass(frozen=True)
class Unit:
    """One stage: what it asks, and what it does with the answer (stripped, not empty).

    `on_text` returns True only when the whole costs field is done; moving between stages
    goes along the table of edges (`Step.go_on`) or by an explicit `Step.goto`.
    """

    ask: Callable[[Step, Question], Prompt]  # with the field's own question, for its wording
    on_text: Callable[[Step, str], bool]


def choose(choices: tuple[str, ...], answer: str) -> str | None:
    """The label picked by an answer (label or number), as on any choice question."""
    return match_choice(Field(key="_", kind=Kind.CHOICE, text="", choices=choices), answer)


class Driver(Protocol):
    """What a step needs of the costs flow that runs it (dialogs.costs.flow.CostsFlow)."""

    spec: Interview
    words: CostWords
    screener: Screener
    prices: tuple[PriceEntry, ...]
    machine: Machine

    def ask_step(self, step: Step) -> None: ...


class Step:
    """Pooled (dialogs.models): `start` takes up a field for one event, `clear` lets it go."""

    # Bound by the machine: the stage's value (a str, as the machine's states are).
    at: str
    trigger: Callable[..., bool]

    turn: Turn
    field: Field
    state: CostsState
    finished: bool

    def __init__(self, driver: Driver) -> None:
        self.driver = driver

    def start(self, turn: Turn, spec_field: Field, state: CostsState) -> None:
        self.turn, self.field, self.state, self.finished = turn, spec_field, state, False

    def clear(self) -> None:
        del self.turn, self.field, self.state

    @property
    def stage(self) -> Stage:
        return Stage(self.at)

    @property
    def draft(self) -> Draft:
        return self.state.draft

    @property
    def spec(self) -> Interview:
        return self.driver.spec

    @property
    def words(self) -> CostWords:
        return self.driver.words

    # --- conditions named in the table of edges (dialogs.costs.flow) -----------------------

    def has_matches(self, event: EventData | None = None) -> bool:
        return bool(match_prices(self.driver.prices, self.draft.omschrijving or ""))

    def from_list(self, event: EventData | None = None) -> bool:
        return self.draft.uit_prijslijst

    def free_unit(self, event: EventData | None = None) -> bool:
        return self.words.model.unit(self.draft.eenheid or "") is None

    def editing(self, event: EventData | None = None) -> bool:
        return self.state.index is not None

    # --- moving ----------------------------------------------------------------------------

    def goto(self, stage: Stage) -> None:
        """A jump that is not an edge of the table: a menu choice, a confirmation, a reuse."""
        self.driver.machine.set_state(stage.value, model=self)

    def ask(self) -> bool:
        self.driver.ask_step(self)
        return False

    def refuse(self, reason: str, **params: Any) -> bool:
        self.turn.replies.append(Error(self.spec.message(reason, **params)))
        return self.ask()

    def again(self) -> bool:
        self.turn.replies.append(Message(self.spec.message("opnieuw_invullen")))
        return self.ask()

    def go_on(self) -> bool:
        """Along the forward edge; back at the list, the line is complete and stored."""
        self.trigger("next_stage")
        while self.draft.ineen and self.stage is not Stage.LINES:
            filled = self.filled()
            if filled is None:
                break
            doubts = self.draft.twijfel or []
            if self.stage.value in doubts:
                doubts.remove(self.stage.value)
                return self.confirm(filled)
            self.trigger("next_stage")
        if self.stage is Stage.LINES:
            assert self.draft.frequentie is not None
            if self.words.model.total(self.draft_line(self.draft.frequentie), self.months()) > (
                MAX_LINE_TOTAL
            ):
                self.turn.replies.append(Error(self.spec.message("kosten_regel_te_hoog")))
                self.draft.aantal = None
                self.goto(Stage.QUANTITY)
            else:
                return self.save_line()
        return self.ask()

    def filled(self) -> Any:
        """The part of a line typed in one message that the current stage would ask, if set."""
        if self.stage is Stage.UNITS_PER_PERIOD:
            # Only a line for the whole period needs the length of a unit typed as free text.
            frequency = self.draft.frequentie
            return None if frequency in (None, WHOLE_PERIOD) else frequency
        return self.draft.at(_FILLS.get(self.stage, self.stage))

    def confirm(self, value: Any) -> bool:
        self.state.pending = Pending(self.stage, value)
        self.goto(Stage.CONFIRM)
        return self.ask()

    def finish(self) -> bool:
        """The field is done (an empty list when nothing was entered)."""
        if self.field.key not in self.turn.answers:
            self.turn.record(self.field.key, [])
        self.finished = True
        return True

    # --- the plan --------------------------------------------------------------------------

    def lines(self) -> list[dict[str, Any]]:
        return [dict(line) for line in self.turn.answers.get(self.field.key) or []]

    def months(self) -> Decimal:
        return period_months(self.turn.answers.get(PERIOD_FIELD))

    def draft_line(self, frequency: str) -> CostLine:
        draft = self.draft
        assert draft.omschrijving is not None and draft.prijs is not None
        assert draft.eenheid is not None and draft.aantal is not None
        return CostLine(
            omschrijving=draft.omschrijving,
            prijs=Decimal(draft.prijs) / 100,
            eenheid=draft.eenheid,
            aantal=Decimal(draft.aantal),
            frequentie=frequency,
            per_periode=None if draft.eenheden is None else Decimal(draft.eenheden),
        )

    def store_lines(self, lines: list[dict[str, Any]]) -> None:
        self.turn.record(self.field.key, lines)

    def save_line(self) -> bool:
        assert self.draft.frequentie is not None
        line = self.draft_line(self.draft.frequentie)
        lines = self.lines()
        index, self.state.index = self.state.index, None
        if index is None:
            lines.append(line.to_stored())
        else:
            lines[index] = line.to_stored()
        self.store_lines(lines)
        self.state.draft = Draft()
        self.turn.replies.append(Message(self.words.describe(line, self.months())))
        return self.ask()

    def quantity(self, answer: str, *, confirm: bool = False) -> Decimal | None:
        """A quantity, or None when refused or sent back to be confirmed (already asked)."""
        try:
            reading = parse_decimal(answer, max_places=4)
        except AmountError as exc:
            self.refuse("getal_negatief" if exc.reason == "bedrag_negatief" else "geen_getal")
            return None
        if reading.value > 1_000_000:
            self.refuse("getal_te_groot", max="1.000.000")
            return None
        if confirm and reading.ambiguous:
            self.confirm(str(reading.value))
            return None
        return reading.value
