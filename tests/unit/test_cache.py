"""The in-process caches: bounded, keyed by a plan's exact stored version, never shared state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.cache import LRU, PlanCache

CREATED = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_the_least_recently_used_entry_goes_first() -> None:
    lru: LRU[int, str] = LRU(2)
    lru.put(1, "a")
    lru.put(2, "b")
    assert lru.get(1) == "a"  # 1 is now the most recent
    lru.put(3, "c")
    assert (lru.get(1), lru.get(2), lru.get(3)) == ("a", None, "c")
    assert len(lru) == 2
    assert lru.pop(3) == "c" and lru.pop(3) is None
    with pytest.raises(ValueError):
        LRU(0)


def test_a_plan_is_only_served_at_exactly_the_version_it_was_kept() -> None:
    cache = PlanCache()
    answers = {"plan.titel": "Wonen met Bo", "kosten.huidig": [{"omschrijving": "Opvang"}]}
    cache.put((7, 3, CREATED), "3012", answers)
    assert cache.get((7, 3, CREATED)) == ("3012", answers)
    assert cache.get((7, 4, CREATED)) is None  # changed since (here or by another worker)
    later = datetime(2026, 11, 24, tzinfo=UTC)
    assert cache.get((7, 3, later)) is None  # another plan that got a deleted plan's id
    cache.put((7, 4, CREATED), "3012", {})
    assert cache.get((7, 3, CREATED)) is None  # one version per plan
    cache.forget(7)
    assert cache.get((7, 4, CREATED)) is None and len(cache) == 0


def test_what_a_caller_gets_cannot_change_the_cached_plan() -> None:
    cache = PlanCache()
    answers = {"kosten.huidig": [{"omschrijving": "Opvang", "aantal": "1"}]}
    cache.put((1, 0, CREATED), "3012", answers)
    answers["kosten.huidig"][0]["aantal"] = "9"  # the caller's own dict, after putting
    _, got = cache.get((1, 0, CREATED)) or ("", {})
    got["kosten.huidig"].append({"omschrijving": "Beschermd wonen"})
    _, again = cache.get((1, 0, CREATED)) or ("", {})
    assert again == {"kosten.huidig": [{"omschrijving": "Opvang", "aantal": "1"}]}
