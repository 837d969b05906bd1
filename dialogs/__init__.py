"""The interview core: pure Python and `transitions`, no chat platform, terminal or database."""

from dialogs.display import Formatter
from dialogs.engine import END, Dialog
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
    Summary,
    Text,
)
from dialogs.kinds import present
from dialogs.spec import Field, Interview, Kind, SpecError, Step
from dialogs.status import PlanStatus
from dialogs.turn import Snapshot, noted_open

__all__ = [
    "END",
    "Choose",
    "Command",
    "Dialog",
    "Document",
    "Done",
    "Error",
    "Event",
    "Field",
    "Formatter",
    "Interview",
    "Kind",
    "Message",
    "Outcome",
    "PlanStatus",
    "Question",
    "Reply",
    "Snapshot",
    "SpecError",
    "Step",
    "Submit",
    "Summary",
    "Text",
    "noted_open",
    "present",
]
