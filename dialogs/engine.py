"""The interview as a `transitions` state machine: one event in, replies and changes out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

from transitions import EventData, Machine

from dialogs.answers import Accepted, Refusal, match_choice, parse_answer
from dialogs.costs import CostsFlow
from dialogs.display import Formatter, present
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
    Reply,
    Submit,
    Text,
)
from dialogs.models import ModelPool
from dialogs.pii import KINDS, find_pii, redact
from dialogs.spec import Field, Interview, Kind, Step

DONE = "klaar"
OPEN = "open"
FINISHED = "klaar"

# Keys of the dialog's private sub-state (stored with the plan as JSON).
EDITING = "wijzig"  # step number being edited after `wijzig <stap>`
SKIPPED = "overgeslagen"  # optional fields passed over with `overslaan`
CONFIRM = "bevestig"  # an ambiguous reading waiting for ja/nee
SELECTION = "selectie"  # options ticked with buttons on a multiple choice, not yet submitted
ANONYMOUS = "anoniem"  # an answer with personal data left out, waiting to be stored or retyped

# Free-text answers are checked for personal data: a plan stays anonymous.
SCREENED = (Kind.TEXT, Kind.LIST)
STORE_REDACTED, RETYPE = "pii_opslaan", "pii_opnieuw"

OVERVIEW_GROUPS = (
    "overzicht_ingevuld",
    "overzicht_verplicht_open",
    "overzicht_open",
    "overzicht_overgeslagen",
)
COMMANDS = ("terug", "overslaan", "overzicht", "wijzig", "stop", "plan", "help")


@dataclass(frozen=True)
class Snapshot:
    """A plan as stored: where the dialog is and what has been answered."""

    state: str
    status: str = OPEN
    answers: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    revision: int = 0


class _Turn:
    """The model the machine drives for one event; discarded afterwards."""

    # Bound by the machine in add_model.
    state: str
    trigger: Callable[..., bool]
    # The plan, for one event (start() to clear()).
    answers: dict[str, Any]
    data: dict[str, Any]
    status: str
    replies: list[Reply]
    changes: list[tuple[str, Any]]
    reading: Accepted | Refusal | None
    # Set by `read` when the answer holds personal data: what was found, and the answer
    # with it left out (or why that cannot be stored either).
    redacted: Redacted | None

    def __init__(self, dialog: Dialog) -> None:
        self.dialog = dialog
        self.clear()

    def start(self, snapshot: Snapshot) -> None:
        """Take up a plan for one event (the machine sets `state`)."""
        self.answers = dict(snapshot.answers)
        self.data = dict(snapshot.data)
        self.status = snapshot.status

    def clear(self) -> None:
        """Hold nothing of a plan: the model waits in a pool between events."""
        self.answers = {}
        self.data = {}
        self.status = OPEN
        self.replies = []
        self.changes = []
        self.reading = None
        self.redacted = None

    # --- callbacks named in the machine's transitions -------------------------------------

    def read(self, event: EventData) -> None:
        text: str = event.kwargs["text"]
        spec_field = self.dialog.spec.field(self.state)
        self.reading = parse_answer(spec_field, text)
        self.redacted = None
        if isinstance(self.reading, Accepted) and spec_field.kind in SCREENED:
            self.redacted = self.dialog.redacted(spec_field, self.reading.value)

    def is_valid(self, event: EventData) -> bool:
        return (
            isinstance(self.reading, Accepted)
            and not self.reading.confirm
            and self.redacted is None
        )

    def store(self, event: EventData) -> None:
        assert isinstance(self.reading, Accepted)
        self.record(self.state, self.reading.value)

    def skippable(self, event: EventData) -> bool:
        spec_field = self.dialog.spec.field(self.state)
        return not spec_field.required or self.state in self.answers

    def mark_skipped(self, event: EventData) -> None:
        if self.state not in self.answers:
            skipped = list(self.data.get(SKIPPED, []))
            if self.state not in skipped:
                skipped.append(self.state)
            self.data[SKIPPED] = skipped

    # --- helpers --------------------------------------------------------------------------

    def record(self, key: str, value: Any) -> None:
        self.answers[key] = value
        self.changes.append((key, value))
        skipped = self.data.get(SKIPPED)
        if skipped and key in skipped:
            self.data[SKIPPED] = [k for k in skipped if k != key]


@dataclass(frozen=True)
class Redacted:
    """Personal data found in an answer: its kinds, and the answer read with it left out."""

    kinds: tuple[str, ...]
    reading: Accepted | Refusal


class Dialog:
    """Built once per process from the interview data; handles events for any number of plans."""

    def __init__(self, spec: Interview, formatter: Formatter) -> None:
        self.spec = spec
        self.fmt = formatter
        self.costs = CostsFlow(spec, formatter, spec.costs, spec.prices)
        self._order = [f.key for f in spec.fields]
        states = [*self._order, DONE]
        transitions: list[dict[str, Any]] = [
            {
                "trigger": "answer",
                "source": self._order,
                "dest": None,
                "prepare": "read",
                "conditions": "is_valid",
                "after": "store",
            },
            {
                "trigger": "skip",
                "source": self._order,
                "dest": None,
                "conditions": "skippable",
                "after": "mark_skipped",
            },
        ]
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
            send_event=True,
        )
        self._models = ModelPool(self.machine, lambda: _Turn(self))

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
                status=turn.status,
                data=turn.data,
                answers=tuple(turn.changes),
                stopped=stopped,
                persist=persist,
            )
        finally:
            turn.clear()
            self._models.give(turn)

    # --- events -----------------------------------------------------------------------------

    def _dispatch(self, turn: _Turn, event: Event) -> bool:
        if isinstance(event, Choose | Submit):
            self._on_button(turn, event)
            return False
        if isinstance(event, Text):
            command = self.parse_command(event.text)
            if command is None:
                if turn.state == DONE:
                    turn.replies.append(Message(self.spec.message("plan_is_klaar")))
                    self._ask(turn)
                    return False
                self._on_text(turn, event.text)
                return False
            event = command
        return self._on_command(turn, event)

    def parse_command(self, text: str) -> Command | None:
        """A whole message that is a command word (with or without `/`), or an unknown `/x`."""
        words = text.strip().split(maxsplit=1)
        if not words:
            return None
        head = words[0].lower()
        slash = head.startswith("/")
        head = head.lstrip("/").split("@", 1)[0]
        arg = words[1].strip() if len(words) > 1 else ""
        for name in COMMANDS:
            if head in self.spec.commands.get(name, ()) and (not arg or name == "wijzig"):
                return Command(name, arg)
        if slash:
            return Command(head, arg)
        return None

    def _on_command(self, turn: _Turn, command: Command) -> bool:
        name = command.name
        turn.data.pop(CONFIRM, None)
        if name in ("terug", "overslaan", "wijzig"):
            # Elsewhere the offer to store the answer without personal data is made again.
            turn.data.pop(ANONYMOUS, None)
        if name == "stop":
            turn.replies.append(Message(self.spec.message("gepauzeerd")))
            return True
        if name == "terug":
            self._back(turn)
        elif name == "overslaan":
            self._skip(turn)
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
        else:
            turn.replies.append(Error(self.spec.message("onbekende_opdracht", opdracht=name)))
            self._ask(turn)
        return False

    def _on_text(self, turn: _Turn, text: str) -> None:
        spec_field = self.spec.field(turn.state)
        if spec_field.kind is Kind.COSTS:
            if self.costs.on_text(turn, spec_field, text):
                self._advance(turn)
            return
        anonymous = turn.data.pop(ANONYMOUS, None)
        if anonymous is not None and anonymous.get("field") == turn.state:
            choice = self.anonymous_choice(text)
            if choice == STORE_REDACTED:
                turn.record(turn.state, anonymous["value"])
                self._advance(turn)
                return
            if choice == RETYPE:
                turn.replies.append(Message(self.spec.message("opnieuw_invullen")))
                self._ask(turn)
                return
            # Anything else is a new answer, checked like the first.
        pending = turn.data.pop(CONFIRM, None)
        if pending is not None and pending.get("field") == turn.state:
            word = text.strip().lower()
            if word in self.spec.commands.get("ja", ()):
                turn.record(turn.state, pending["value"])
                self._advance(turn)
                return
            if word in self.spec.commands.get("nee", ()):
                turn.replies.append(Message(self.spec.message("opnieuw_invullen")))
                self._ask(turn)
                return
        turn.trigger("answer", text=text)
        reading = turn.reading
        if turn.redacted is not None:
            redacted = turn.redacted.reading
            if isinstance(redacted, Refusal):
                # Even without the personal data the answer cannot be taken (too long).
                turn.replies.append(Error(self.pii_warning(turn.redacted.kinds)))
                turn.replies.append(Error(self.spec.message(redacted.reason, **redacted.params)))
            else:
                turn.data[ANONYMOUS] = {
                    "field": turn.state,
                    "value": redacted.value,
                    "kinds": list(turn.redacted.kinds),
                }
            self._ask(turn)
        elif isinstance(reading, Refusal):
            turn.replies.append(Error(self.spec.message(reading.reason, **reading.params)))
            self._ask(turn)
        elif reading is not None and reading.confirm:
            turn.data[CONFIRM] = {"field": turn.state, "value": reading.value}
            self._ask(turn)
        else:
            self._advance(turn)

    def _on_button(self, turn: _Turn, event: Choose | Submit) -> None:
        question = self._question_now(turn)
        if question is None or (
            isinstance(event, Choose) and not 0 <= event.index < len(question.choices)
        ):
            turn.replies.append(Error(self.spec.message("knop_verlopen")))
            self._ask(turn)
            return
        ticking = question.kind == Kind.MULTICHOICE.value and not question.part
        if isinstance(event, Choose) and not ticking:
            self._on_text(turn, question.choices[event.index])
            return
        if not ticking:
            turn.replies.append(Error(self.spec.message("knop_verlopen")))
            self._ask(turn)
            return
        spec_field = self.spec.field(turn.state)
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
        elif spec_field.max is not None and len(chosen) >= spec_field.max:
            turn.replies.append(
                Error(
                    self.spec.message("te_veel_keuzes", max=spec_field.max, aantal=len(chosen) + 1)
                )
            )
        else:
            chosen.append(label)
        turn.data[SELECTION] = {"field": turn.state, "labels": chosen}
        self._ask(turn)

    def _question_now(self, turn: _Turn) -> Question | None:
        """The question that is being asked at this moment (what a button belongs to)."""
        if turn.state == DONE:
            return None
        before = turn.replies
        turn.replies = []
        try:
            self._ask(turn)
            questions = [r for r in turn.replies if isinstance(r, Question)]
        finally:
            turn.replies = before
        return questions[-1] if questions else None

    def _skip(self, turn: _Turn) -> None:
        if turn.state == DONE:
            turn.replies.append(Error(self.spec.message("niets_over_te_slaan")))
            self._ask(turn)
        elif self.spec.field(turn.state).kind is Kind.COSTS:
            if self.costs.skip(turn, self.spec.field(turn.state)):
                self._advance(turn)
        elif turn.trigger("skip"):
            self._advance(turn)
        else:
            turn.replies.append(Error(self.spec.message("verplicht")))
            self._ask(turn)

    def _back(self, turn: _Turn) -> None:
        start = turn.state
        costs = start != DONE and self.spec.field(start).kind is Kind.COSTS
        if costs and self.costs.back(turn, self.spec.field(start)):
            return
        while turn.state != self._order[0]:
            turn.trigger("backward")
            if self._applies(turn, turn.state):
                break
        if turn.state == start:
            turn.replies.append(Error(self.spec.message("eerste_vraag")))
        elif EDITING in turn.data and self.spec.step_of(turn.state).number != turn.data[EDITING]:
            turn.data.pop(EDITING)
        self._ask(turn)

    def _edit(self, turn: _Turn, ref: str) -> None:
        step = self.spec.find_step(ref) if ref else None
        if step is None:
            steps = ", ".join(f"{s.number} ({s.name})" for s in self.spec.steps)
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

    def _applies(self, turn: _Turn, key: str) -> bool:
        if key == DONE:
            return True
        condition = self.spec.field(key).when
        return condition is None or condition.holds(turn.answers)

    def _wanted(self, turn: _Turn, key: str) -> bool:
        """Whether moving forward should stop at this field."""
        if not self._applies(turn, key):
            return False
        if turn.data.get(EDITING) is not None:
            return True  # while editing a step, every question of it is asked again
        return key not in turn.answers and key not in turn.data.get(SKIPPED, [])

    def _advance(self, turn: _Turn) -> None:
        """Move on to the next question that needs asking and ask it, or finish."""
        left = self.spec.step_of(turn.state) if turn.state != DONE else None
        turn.trigger("forward")
        self._forward(turn)
        if left is not None and left.summary:
            now = self.spec.step_of(turn.state).number if turn.state != DONE else None
            if now is None or now > left.number:
                turn.replies.append(Document("text", part=left.summary))
        self._settle(turn, resume=False)

    def _forward(self, turn: _Turn) -> None:
        """Walk forward until a question that needs asking (possibly this one), or the end."""
        while turn.state != DONE:
            editing = turn.data.get(EDITING)
            if editing is not None and self.spec.step_of(turn.state).number != editing:
                # The edited step is done: back to the first question still open, wherever
                # it is, so an edit never leaves earlier questions behind.
                turn.data.pop(EDITING)
                self.machine.set_state(self._first_open(turn), model=turn)
                continue
            if self._wanted(turn, turn.state):
                return
            turn.trigger("forward")
        turn.data.pop(EDITING, None)

    def _first_open(self, turn: _Turn) -> str:
        skipped = turn.data.get(SKIPPED, [])
        for key in self._order:
            if self._applies(turn, key) and key not in turn.answers and key not in skipped:
                return key
        return DONE

    def _settle(self, turn: _Turn, *, resume: bool) -> None:
        """At the end, send back to a required question still open; otherwise finish."""
        if turn.state != DONE and not self._applies(turn, turn.state):
            self._advance(turn)
            return
        if turn.state == DONE:
            missing = self.first_missing(turn.answers)
            if missing is not None:
                self.machine.set_state(missing, model=turn)
                turn.replies.append(Message(self.spec.message("nog_open")))
            elif resume and turn.status == FINISHED:
                turn.replies.append(Message(self.spec.message("plan_is_klaar")))
                return
            else:
                turn.data.pop(EDITING, None)
                turn.status = FINISHED
                turn.replies.append(Message(self.spec.message("klaar")))
                turn.replies.append(Document("md"))
                turn.replies.append(Done())
                return
        if turn.status == FINISHED and turn.state != DONE:
            turn.status = OPEN if self.first_missing(turn.answers) else FINISHED
        self._ask(turn)

    def first_missing(self, answers: Mapping[str, Any]) -> str | None:
        for spec_field in self.spec.fields:
            if (
                spec_field.required
                and spec_field.key not in answers
                and (spec_field.when is None or spec_field.when.holds(answers))
            ):
                return spec_field.key
        return None

    # --- questions ------------------------------------------------------------------------

    def _ask(self, turn: _Turn) -> None:
        if turn.state == DONE:
            turn.replies.append(Message(self.spec.message("plan_is_klaar")))
            return
        spec_field = self.spec.field(turn.state)
        if spec_field.kind is Kind.COSTS:
            self.costs.ask(turn, spec_field)
            return
        anonymous = turn.data.get(ANONYMOUS)
        if anonymous is not None and anonymous.get("field") == spec_field.key:
            turn.replies.append(Error(self.pii_warning(anonymous["kinds"])))
            shown = present(spec_field, anonymous["value"], self.fmt)
            text = self.spec.message("pii_vraag", antwoord=shown)
            turn.replies.append(self._choice_question(spec_field, text, self.anonymous_choices()))
            return
        pending = turn.data.get(CONFIRM)
        if pending is not None and pending.get("field") == spec_field.key:
            shown = present(spec_field, pending["value"], self.fmt, exact=True)
            text = self.spec.message("bevestig_bedrag", bedrag=shown)
            choices = (self.spec.message("ja"), self.spec.message("nee"))
            turn.replies.append(self._choice_question(spec_field, text, choices))
            return
        question = self.question(spec_field, turn.answers)
        selection = turn.data.get(SELECTION) or {}
        if selection.get("field") == spec_field.key:
            question = replace(question, selected=tuple(selection["labels"]))
        turn.replies.append(question)

    def question(self, spec_field: Field, answers: Mapping[str, Any]) -> Question:
        step = self.spec.step_of(spec_field.key)
        current = answers.get(spec_field.key)
        first = step.fields[0].key == spec_field.key
        return Question(
            field=spec_field.key,
            kind=spec_field.kind.value,
            text=spec_field.text,
            help=spec_field.help,
            choices=spec_field.choices,
            max=spec_field.max,
            required=spec_field.required,
            step=step.number,
            steps=len(self.spec.steps),
            step_name=step.name,
            current=None if current is None else present(spec_field, current, self.fmt),
            intro=self._intro(step) if first else "",
        )

    def _intro(self, step: Step) -> str:
        lines = [step.question]
        if step.intro:
            lines.append(step.intro)
        if step.help:
            lines.append(self.spec.message("helpende_vragen", vragen=" ".join(step.help)))
        return "\n".join(lines)

    def _choice_question(self, spec_field: Field, text: str, choices: tuple[str, ...]) -> Question:
        """A question in between (a reading to confirm) while the field is being answered."""
        step = self.spec.step_of(spec_field.key)
        return Question(
            field=spec_field.key,
            kind=Kind.CHOICE.value,
            text=text,
            help=(),
            choices=choices,
            max=None,
            required=True,
            step=step.number,
            steps=len(self.spec.steps),
            step_name=step.name,
        )

    # --- personal data -------------------------------------------------------------------

    def redacted(self, spec_field: Field, value: Any) -> Redacted | None:
        """The answer (text or list items) with personal data left out; None if there is none."""
        items = value if isinstance(value, list) else [value]
        cleaned = [self.redact_text(item) for item in items]
        found = {kind for kinds, _ in cleaned for kind in kinds}
        if not found:
            return None
        kinds = tuple(k for k in KINDS if k in found)
        # Read again: the placeholders may make an answer longer than the field allows.
        reading = parse_answer(spec_field, "\n".join(text for _, text in cleaned))
        return Redacted(kinds, reading)

    def redact_text(self, text: str) -> tuple[tuple[str, ...], str]:
        """The kinds of personal data found in one text, and the text with them left out."""
        findings = find_pii(text)
        kinds = tuple(k for k in KINDS if any(f.kind == k for f in findings))
        placeholders = {k: self.spec.message(f"pii_weggelaten_{k}") for k in kinds}
        return kinds, redact(text, findings, placeholders)

    def pii_warning(self, kinds: Iterable[str]) -> str:
        """`Je antwoord lijkt een BSN en een e-mailadres te bevatten. Een plan blijft anoniem.`"""
        names = [self.spec.message(f"pii_{kind}") for kind in kinds]
        listed = names[-1]
        if len(names) > 1:
            listed = f"{', '.join(names[:-1])} {self.spec.message('pii_en')} {listed}"
        return self.spec.message("pii_gevonden", gegevens=listed)

    def anonymous_choices(self) -> tuple[str, str]:
        """`Opslaan zonder die gegevens` / `Opnieuw typen`."""
        return self.spec.message(STORE_REDACTED), self.spec.message(RETYPE)

    def anonymous_choice(self, text: str) -> str | None:
        """STORE_REDACTED or RETYPE when the text picks one (label or number), else None."""
        choices = self.anonymous_choices()
        options = Field(key="_", kind=Kind.CHOICE, text="", choices=choices)
        label = match_choice(options, text)
        if label is None:
            return None
        return STORE_REDACTED if label == choices[0] else RETYPE

    # --- overview -------------------------------------------------------------------------

    def overview(self, answers: Mapping[str, Any], data: Mapping[str, Any]) -> str:
        skipped = set(data.get(SKIPPED, []))
        lines = [self.spec.message("overzicht_kop")]
        for step in self.spec.steps:
            fields = [f for f in step.fields if f.when is None or f.when.holds(answers)]
            filled = sum(1 for f in fields if f.key in answers)
            lines.append(
                self.spec.message(
                    "overzicht_stap",
                    nummer=step.number,
                    naam=step.name,
                    ingevuld=filled,
                    totaal=len(fields),
                )
            )
            groups: dict[str, list[str]] = {}
            for f in fields:
                if f.key in answers:
                    group = "overzicht_ingevuld"
                elif f.required:
                    group = "overzicht_verplicht_open"
                elif f.key in skipped:
                    group = "overzicht_overgeslagen"
                else:
                    group = "overzicht_open"
                groups.setdefault(group, []).append(f.title)
            for group in OVERVIEW_GROUPS:
                if group in groups:
                    lines.append(self.spec.message(group, vragen="; ".join(groups[group])))
        return "\n".join(lines)

    def current_step(self, snapshot: Snapshot) -> Step:
        """The step the plan is at; the last step once the plan is done."""
        if self.spec.has_field(snapshot.state):
            return self.spec.step_of(snapshot.state)
        return self.spec.steps[-1]

    def progress(self, snapshot: Snapshot) -> tuple[int, int, Step | None]:
        """(answered, applicable) question counts and the current step (None when done)."""
        applicable = [
            f for f in self.spec.fields if f.when is None or f.when.holds(snapshot.answers)
        ]
        answered = sum(1 for f in applicable if f.key in snapshot.answers)
        step = None
        if snapshot.state != DONE and self.spec.has_field(snapshot.state):
            step = self.spec.step_of(snapshot.state)
        return answered, len(applicable), step
