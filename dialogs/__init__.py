"""The interview core: pure Python and `transitions`, no chat platform, terminal or database."""

from dialogs.display import Formatter, present
from dialogs.engine import DONE, FINISHED, OPEN, Dialog, Snapshot
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
from dialogs.spec import Field, Interview, Kind, SpecError, Step

__all__ = [
    "DONE",
    "FINISHED",
    "OPEN",
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
    "Question",
    "Reply",
    "Snapshot",
    "SpecError",
    "Step",
    "Submit",
    "Text",
    "present",
]
