"""The flow of a field answered in one message: parse, screen, confirm a doubtful reading."""

from __future__ import annotations

from dialogs import actions
from dialogs.answers import Refusal, split_others
from dialogs.events import Error, Message
from dialogs.flow import Turn
from dialogs.kinds import parse_answer, present, rules
from dialogs.questions import Questions
from dialogs.readings import normal
from dialogs.screening import RETYPE, STORE_REDACTED, Screener
from dialogs.spec import Field, Interview, Kind

# Keys of this flow's sub-state in the plan's dialog data.
CONFIRM = "bevestig"  # an ambiguous reading waiting for ja/nee
ANONYMOUS = "anoniem"  # an answer with personal data left out, waiting to be stored or retyped
# Commands after which the offer to store an answer without personal data is not kept: it is
# made again when the field is answered again.
_LEAVING = ("terug", "overslaan", "wijzig", "weet_niet")


class AnswerFlow:
    """Built once per dialog; serves every kind whose answer is one message."""

    def __init__(self, spec: Interview, questions: Questions, screener: Screener) -> None:
        self.spec = spec
        self.questions = questions
        self.screener = screener

    def ask(self, turn: Turn, spec_field: Field) -> None:
        fmt = self.questions.fmt
        anonymous = turn.data.get(ANONYMOUS)
        if anonymous is not None and anonymous.get("field") == spec_field.key:
            turn.replies.append(Error(self.screener.warning(anonymous["kinds"])))
            shown = present(spec_field, anonymous["value"], fmt)
            text = self.spec.message("pii_vraag", antwoord=shown)
            question = self.questions.in_between(spec_field, text, self.screener.choices())
            turn.replies.append(question)
            return
        pending = turn.data.get(CONFIRM)
        if pending is not None and pending.get("field") == spec_field.key:
            shown = present(spec_field, pending["value"], fmt, exact=True)
            text = self.spec.message("bevestig_bedrag", bedrag=shown)
            choices = (self.spec.message("ja"), self.spec.message("nee"))
            turn.replies.append(self.questions.in_between(spec_field, text, choices))
            return
        turn.replies.append(self.questions.question(spec_field, turn.answers))

    def on_text(self, turn: Turn, spec_field: Field, text: str) -> bool:
        key = spec_field.key
        anonymous = turn.data.pop(ANONYMOUS, None)
        if anonymous is not None and anonymous.get("field") == key:
            choice = self.screener.choice(text)
            if choice == STORE_REDACTED:
                return self._store(turn, spec_field, anonymous["value"])
            if choice == RETYPE:
                return self._again(turn, spec_field)
            # Anything else is a new answer, checked like the first.
        pending = turn.data.pop(CONFIRM, None)
        if pending is not None and pending.get("field") == key:
            word = text.strip().lower()
            if word in self.spec.commands.get("ja", ()):
                turn.record(key, pending["value"])
                return True
            if word in self.spec.commands.get("nee", ()):
                return self._again(turn, spec_field)
        earlier = self.questions.earlier(spec_field, turn.answers)
        takes_over = (self.spec.message("overnemen"), *self.spec.commands.get("overnemen", ()))
        if earlier is not None and normal(text) in (normal(word) for word in takes_over):
            # The earlier answer, confirmed as the answer to this question too.
            turn.record(key, earlier)
            return True
        if self._named_others(turn, spec_field, text):
            return True
        reading = parse_answer(spec_field, text)
        if isinstance(reading, Refusal):
            turn.replies.append(Error(self.spec.message(reading.reason, **reading.params)))
        elif rules(spec_field.kind).screen and (
            found := self.screener.redacted(spec_field, reading.value)
        ):
            redacted = found.reading
            if isinstance(redacted, Refusal):
                # Even without the personal data the answer cannot be taken (too long).
                turn.replies.append(Error(self.screener.warning(found.kinds)))
                turn.replies.append(Error(self.spec.message(redacted.reason, **redacted.params)))
            else:
                turn.data[ANONYMOUS] = {
                    "field": key,
                    "value": redacted.value,
                    "kinds": list(found.kinds),
                }
        elif reading.confirm:
            turn.data[CONFIRM] = {"field": key, "value": reading.value}
        else:
            return self._store(turn, spec_field, reading.value)
        self.ask(turn, spec_field)
        return False

    def _named_others(self, turn: Turn, spec_field: Field, text: str) -> bool:
        """Names typed that are not in the list (`pw, huisvestingswet`): chosen as "Anders,
        namelijk" and stored as the answer to the question that choice opens, which is then
        not asked. False (the answer goes the usual way) where that cannot be done cleanly."""
        opened = self._opened_by_other(spec_field)
        if opened is None or opened.when is None or opened.when.includes is None:
            return False
        split = split_others(spec_field, opened.when.includes, text)
        if split is None:
            return False
        chosen, names = split
        if spec_field.max is not None and len(chosen) > spec_field.max:
            return False
        typed = parse_answer(opened, ", ".join(names))
        if isinstance(typed, Refusal) or self.screener.redacted(opened, typed.value):
            return False
        self._store(turn, spec_field, chosen)
        turn.record(opened.key, typed.value)
        other = opened.when.includes
        said = self.spec.message("anders_genoteerd", anders=other, namen=typed.value)
        turn.replies.append(Message(said))
        return True

    def _opened_by_other(self, spec_field: Field) -> Field | None:
        """The text question a multiple choice's "Anders, namelijk" opens, if it has one."""
        if spec_field.kind is not Kind.MULTICHOICE:
            return None
        for field in self.spec.fields:
            when = field.when
            if (
                field.kind is Kind.TEXT
                and when is not None
                and when.field == spec_field.key
                and when.includes in spec_field.choices
            ):
                return field
        return None

    def _store(self, turn: Turn, spec_field: Field, value: object) -> bool:
        """Record an answer; action points are read back as a table, open parts named."""
        turn.record(spec_field.key, value)
        if spec_field.columns and isinstance(value, list):
            still = self.spec.message("actiepunt_open")
            shown = actions.table(value, spec_field.columns, still)
            turn.replies.append(Message(self.spec.message("actiepunten_genoteerd", tabel=shown)))
            missing = actions.open_points(value, len(spec_field.columns))
            if missing:
                step = self.spec.step_of(spec_field.key).number
                words = {"wie": ", ".join(missing), "stap": step, "open": still}
                turn.replies.append(Message(self.spec.message("actiepunten_open", **words)))
        return True

    def back(self, turn: Turn, spec_field: Field) -> bool:
        return False  # one message: `terug` always means the previous field

    def skip(self, turn: Turn, spec_field: Field) -> bool:
        if spec_field.required and spec_field.key not in turn.answers:
            turn.replies.append(Error(self.spec.message("verplicht")))
            self.ask(turn, spec_field)
            return False
        if spec_field.key not in turn.answers:
            turn.pass_over(spec_field.key)
        return True

    def interrupted(self, turn: Turn, command: str) -> None:
        turn.data.pop(CONFIRM, None)
        if command in _LEAVING:
            turn.data.pop(ANONYMOUS, None)

    def _again(self, turn: Turn, spec_field: Field) -> bool:
        turn.replies.append(Message(self.spec.message("opnieuw_invullen")))
        self.ask(turn, spec_field)
        return False
