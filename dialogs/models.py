"""Models attached to a `transitions` Machine once and then reused, one event at a time.

`Machine.add_model` installs a bound method per state on the model (`is_<state>`, callbacks),
which for the interview's fifty-odd states costs more than the event itself; `remove_model`
undoes it. A pool keeps the attached models instead: an event takes one, puts it in the
plan's state with `set_state` (no callbacks run, as with add_model's `initial`), and gives it
back cleared. Threads may share the pool; each model serves one event at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from transitions import Machine

M = TypeVar("M")


class ModelPool(Generic[M]):
    def __init__(self, machine: Machine, make: Callable[[], M]) -> None:
        self._machine = machine
        self._make = make
        self._idle: list[M] = []
        self._lock = threading.Lock()

    def take(self, state: str) -> M:
        """A model attached to the machine, in `state`."""
        with self._lock:
            model = self._idle.pop() if self._idle else None
        if model is None:
            model = self._make()
            self._machine.add_model(model, initial=state)
        else:
            self._machine.set_state(state, model=model)
        return model

    def give(self, model: M) -> None:
        """Back to the pool; the caller has cleared what the model held of the plan."""
        with self._lock:
            self._idle.append(model)
