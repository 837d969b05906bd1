"""The flow of a group: several items (e.g. the rules in the way), each asked part by part."""

from __future__ import annotations

from dataclasses import replace

from dialogs.events import Error
from dialogs.flow import Turn
from dialogs.groups import group_item_text, group_rows, part_name
from dialogs.kinds import MAX_TEXT
from dialogs.questions import Questions
from dialogs.readings import normal
from dialogs.screening import Screener
from dialogs.spec import Field, Interview

# The item being asked, kept with the plan until its last part is given:
# {"field": key, "cells": [...]} (the cells given so far, in column order).
ITEM = "groep"


class GroupFlow:
    """Built once per dialog; serves every group field.

    The field's question asks for the first part of a new item, or `Nee` when there are no
    (more) items; each later part is a question of its own. A whole item may also be typed
    in one message, its parts separated by `|`; only the parts not given are asked.
    """

    def __init__(self, spec: Interview, questions: Questions, screener: Screener) -> None:
        self.spec = spec
        self.questions = questions
        self.screener = screener

    def ask(self, turn: Turn, spec_field: Field) -> None:
        cells = self._cells(turn, spec_field)
        if cells is not None:
            column = len(cells)
            text = f"{cells[0]}: {spec_field.parts[column - 1]}"
            question = self.questions.in_between(spec_field, text, ())
            turn.replies.append(
                replace(
                    question,
                    kind="text",
                    part=part_name(spec_field.columns[column]),
                    help=self.questions.provisions(spec_field, turn.answers),
                    required=False,
                )
            )
            return
        question = self.questions.question(spec_field, turn.answers)
        items = group_rows(spec_field, turn.answers.get(spec_field.key))
        text = spec_field.text
        if items:
            listed = "\n".join(f"{n}. {_shown(spec_field, row)}" for n, row in enumerate(items, 1))
            text = f"{self.spec.message('groep_genoteerd')}\n{listed}\n\n{text}"
        turn.replies.append(
            replace(
                question,
                text=text,
                part=part_name(spec_field.columns[0]),
                help=spec_field.help,  # the laws' provisions come with the parts they fit
                choices=(
                    (self.spec.message("nee"), self.spec.message("groep_laatste_weg"))
                    if items
                    else (self.spec.message("nee"),)
                ),
                current=None,  # the items are listed in the text
            )
        )

    def on_text(self, turn: Turn, spec_field: Field, text: str) -> bool:
        cells = self._cells(turn, spec_field)
        typed = text.strip()
        if cells is None and normal(typed) in self.spec.commands.get("geen_meer", ()):
            return self._done(turn, spec_field)
        rows = group_rows(spec_field, turn.answers.get(spec_field.key))
        if (
            cells is None
            and rows
            and normal(typed) == normal(self.spec.message("groep_laatste_weg"))
        ):
            # A rule typed wrongly is taken out whole and typed again; nothing else changes.
            self._store(turn, spec_field, rows[:-1])
            self.ask(turn, spec_field)
            return False
        given = [c.strip() for c in typed.split("|")] if cells is None else [typed]
        refusal = self._refusal(given)
        if refusal is not None:
            turn.replies.append(Error(refusal))
            self.ask(turn, spec_field)
            return False
        return self._take(turn, spec_field, [*(cells or []), *given])

    def _take(self, turn: Turn, spec_field: Field, cells: list[str]) -> bool:
        """Keep the parts given so far with the plan (stored before the next part is asked),
        or store the item once it is whole; then ask what comes next."""
        cells = cells[: len(spec_field.columns)]
        if len(cells) < len(spec_field.columns):
            turn.data[ITEM] = {"field": spec_field.key, "cells": cells}
        else:
            self._add(turn, spec_field, cells)
        self.ask(turn, spec_field)
        return False

    def _refusal(self, cells: list[str]) -> str | None:
        if not cells[0]:
            return self.spec.message("leeg")
        if any(len(c) > MAX_TEXT for c in cells):
            return self.spec.message("te_lang", max=f"{MAX_TEXT:,}".replace(",", "."))
        found = {k for c in cells for k in self.screener.redact_text(c)[0]}
        if found:
            return self.screener.warning(sorted(found))
        return None

    def _add(self, turn: Turn, spec_field: Field, cells: list[str]) -> None:
        """Store a whole item after the others; it is read back in the list of the question
        that follows."""
        turn.data.pop(ITEM, None)
        self._store(
            turn, spec_field, [*group_rows(spec_field, turn.answers.get(spec_field.key)), cells]
        )

    def _store(self, turn: Turn, spec_field: Field, rows: list[list[str]]) -> None:
        """The items as stored: each a mapping of its parts; no items clears the field."""
        names = [part_name(c) for c in spec_field.columns]
        items = [dict(zip(names, row, strict=True)) for row in rows]
        turn.record(spec_field.key, items or None)

    def _done(self, turn: Turn, spec_field: Field) -> bool:
        turn.data.pop(ITEM, None)
        if spec_field.key not in turn.answers:
            if spec_field.required:
                turn.replies.append(Error(self.spec.message("verplicht")))
                self.ask(turn, spec_field)
                return False
            turn.pass_over(spec_field.key)
        return True

    def _cells(self, turn: Turn, spec_field: Field) -> list[str] | None:
        item = turn.data.get(ITEM)
        if isinstance(item, dict) and item.get("field") == spec_field.key:
            return list(item["cells"])
        return None

    def back(self, turn: Turn, spec_field: Field) -> bool:
        """Within an item, back to its previous part; at the field's question, leave it."""
        cells = self._cells(turn, spec_field)
        if cells is None:
            return False
        if len(cells) > 1:
            turn.data[ITEM] = {"field": spec_field.key, "cells": cells[:-1]}
        else:
            turn.data.pop(ITEM, None)
        self.ask(turn, spec_field)
        return True

    def skip(self, turn: Turn, spec_field: Field) -> bool:
        """At a part: leave it empty and go on; at the field's question: no (more) items."""
        cells = self._cells(turn, spec_field)
        if cells is None:
            return self._done(turn, spec_field)
        return self._take(turn, spec_field, [*cells, ""])

    def interrupted(self, turn: Turn, command: str) -> None:
        if command in ("wijzig", "weet_niet"):
            turn.data.pop(ITEM, None)


def _shown(spec_field: Field, cells: list[str]) -> str:
    names = [part_name(c) for c in spec_field.columns]
    return group_item_text(list(zip(names, cells, strict=True)))
