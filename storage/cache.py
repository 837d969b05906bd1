"""Small in-process caches that spare a turn database reads and decryption.

Nothing here is trusted on its own: every entry is checked against what the database says
in the turn's own transaction (a plan's revision, a chat's binding), so several workers on
one database, or a command run beside the bot, can never make a turn use stale data.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A bounded mapping that forgets the least recently used entry first; thread-safe."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


# A plan as it was committed: its id, its revision and when it was created. The revision goes
# up with every write to the plan or its answers; the creation time tells a plan apart from a
# later one that got the id of a deleted plan (SQLite may reuse the largest rowid).
PlanVersion = tuple[int, int, datetime]


class PlanCache:
    """The decrypted household number and current answers of recently used plans.

    Loading a plan otherwise reads every answer row it ever had (the log is append-only) and
    decrypts each one, on every turn. Entries are keyed by the plan's committed version, so a
    plan changed anywhere else simply misses. Only the service puts entries, and only after
    its transaction committed. Answers are kept as JSON text and decoded on every hit: no
    caller can change a cached plan through the objects it gets.
    """

    def __init__(self, maxsize: int = 512) -> None:
        self._plans: LRU[int, tuple[PlanVersion, str, str]] = LRU(maxsize)

    def get(self, version: PlanVersion) -> tuple[str, dict[str, Any]] | None:
        """The household number and current answers of the plan at this version, if kept."""
        entry = self._plans.get(version[0])
        if entry is None or entry[0] != version:
            return None
        _, household, answers = entry
        decoded: dict[str, Any] = json.loads(answers)
        return household, decoded

    def put(self, version: PlanVersion, household: str, answers: Mapping[str, Any]) -> None:
        text = json.dumps(answers, ensure_ascii=False, separators=(",", ":"))
        self._plans.put(version[0], (version, household, text))

    def forget(self, plan_id: int) -> None:
        self._plans.pop(plan_id)

    def __len__(self) -> int:
        return len(self._plans)
