"""The stored sub-state of a costs field: the stage, the typed draft of a line, what waits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as default
from enum import StrEnum
from typing import Any

STATE = "kosten"  # key of the sub-state in the plan's dialog data


class Stage(StrEnum):
    """Where a costs field is. The values are stored with plans in progress and published as
    `part` in docs/protocol.md: rename a member freely, but never its value, or add the old
    value to RENAMED so drafts stored under it resume where they were.
    """

    LINES = "regel"  # the list of lines itself: type a description, or a menu choice
    REUSE = "hergebruik"  # take over the lines of an earlier scenario?
    REUSE_QUANTITY = "hergebruik_aantal"  # the quantity of one line taken over
    DESCRIPTION = "omschrijving"
    PRICE_LIST = "prijslijst"  # prices from the price list that match the description
    PRICE = "prijs"
    UNIT = "eenheid"
    UNITS_PER_PERIOD = "eenheden"  # for a unit typed as free text: how many make the period
    QUANTITY = "aantal"
    FREQUENCY = "frequentie"
    PICK_EDIT = "kies_wijzig"
    PICK_REMOVE = "kies_verwijder"
    CONFIRM = "bevestig"  # a doubtful reading or personal data, waiting for an answer

    @classmethod
    def read(cls, stored: Any) -> Stage | None:
        """A stored stage name, also one stored before a rename; None if unknown."""
        if not isinstance(stored, str):
            return None
        if stored in RENAMED:
            return RENAMED[stored]
        try:
            return cls(stored)
        except ValueError:
            return None


# Stage values stored by earlier versions -> the stage they are now. None renamed so far.
RENAMED: Mapping[str, Stage] = {}


@dataclass
class Draft:
    """The line being entered or edited; stored as a mapping of the fields that are set."""

    omschrijving: str | None = None
    uit_prijslijst: bool = False  # price and unit taken from the price list
    prijs: int | None = None  # cents
    eenheid: str | None = None
    eenheden: str | None = None  # a Decimal literal: price units in the period (free units)
    aantal: str | None = None  # a Decimal literal
    frequentie: str | None = None
    # A line typed in one message: the stages whose part is set are passed by, and those
    # in `twijfel` (a doubtful reading such as `1.500`) are read back first.
    ineen: bool = False
    twijfel: list[str] | None = None

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> Draft:
        stored = stored or {}
        return cls(
            omschrijving=stored.get("omschrijving"),
            uit_prijslijst=bool(stored.get("uit_prijslijst")),
            prijs=stored.get("prijs"),
            eenheid=stored.get("eenheid"),
            eenheden=stored.get("eenheden"),
            aantal=stored.get("aantal"),
            frequentie=stored.get("frequentie"),
            ineen=bool(stored.get("ineen")),
            twijfel=list(stored["twijfel"]) if stored.get("twijfel") else None,
        )

    @classmethod
    def of_line(cls, stored: Mapping[str, Any]) -> Draft:
        """A stored line to edit."""
        draft = cls.from_stored(stored)
        draft.eenheden = stored.get("per_periode")
        return draft

    def to_stored(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies, and this runs on every costs turn.
        values = ((name, getattr(self, name)) for name in _DRAFT_FIELDS)
        return {name: v for name, v in values if v is not None and v is not False}

    def at(self, stage: Stage) -> Any:
        """The value a stage asks for, if it has one (what `overslaan` keeps when editing)."""
        return getattr(self, stage.value, None) if stage.value in _DRAFT_KEYS else None

    def put(self, stage: Stage, value: Any) -> None:
        setattr(self, stage.value, value)


_DRAFT_FIELDS = tuple(Draft.__dataclass_fields__)
_DRAFT_KEYS = frozenset(_DRAFT_FIELDS)


@dataclass
class Pending:
    """An answer waiting at Stage.CONFIRM: a doubtful number, or a text with personal data."""

    stage: Stage  # where it was typed, and where the answer goes back to
    value: Any
    pii: list[str] | None = None  # the kinds of personal data left out of `value`

    def to_stored(self) -> dict[str, Any]:
        stored = {"stage": self.stage.value, "value": self.value}
        if self.pii is not None:
            stored["pii"] = list(self.pii)
        return stored


@dataclass
class CostsState:
    """Everything a costs field keeps between messages (under STATE in the dialog data)."""

    field: str
    stage: Stage
    draft: Draft = default(default_factory=Draft)
    index: int | None = None  # the line being edited; None for a new line
    queue: list[dict[str, Any]] = default(default_factory=list)  # earlier lines to take over
    pending: Pending | None = None

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None, key: str) -> CostsState | None:
        """The state of field `key`, or None when none is stored for it (or it is unreadable)."""
        if not stored or stored.get("field") != key:
            return None
        stage = Stage.read(stored.get("stage"))
        if stage is None:
            return None
        pending = None
        if stored.get("pending") is not None:
            raw = stored["pending"]
            waiting = Stage.read(raw.get("stage"))
            if waiting is None:
                return None
            pii = raw.get("pii")
            pending = Pending(waiting, raw.get("value"), None if pii is None else list(pii))
        return cls(
            field=key,
            stage=stage,
            draft=Draft.from_stored(stored.get("draft")),
            index=stored.get("index"),
            queue=list(stored.get("queue") or []),
            pending=pending,
        )

    def to_stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "field": self.field,
            "stage": self.stage.value,
            "draft": self.draft.to_stored(),
        }
        if self.index is not None:
            stored["index"] = self.index
        if self.queue:
            stored["queue"] = self.queue
        if self.pending is not None:
            stored["pending"] = self.pending.to_stored()
        return stored
