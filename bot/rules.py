"""Keeps each plan's rules per law (storage.bundle) in step with its legitimiteit, in the
unit of work of the turn that stores the answers (bot.facts calls it); and counts them for
the plans made before."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dialogs import Interview
from dialogs.rules import RULE_FIELDS, rules_by_law
from storage import UnitOfWork
from storage.bundle import BundleRepository

log = logging.getLogger(__name__)


class RulesKeeper:
    """How many rules of a plan belong to which law: counts, never the rules' texts."""

    def __init__(self, spec: Interview) -> None:
        self.spec = spec
        self.fields = frozenset(RULE_FIELDS)

    def store(self, uow: UnitOfWork, plan_id: int, answers: Mapping[str, Any]) -> None:
        BundleRepository(uow.tx).store_rules(plan_id, rules_by_law(self.spec, answers))

    def backfill(self, uow: UnitOfWork) -> int:
        """Count the rules of the plans from before they were counted (their facts were
        kept already); the number counted."""
        repository = BundleRepository(uow.tx)
        missing = repository.rules_missing()
        for plan_id in missing:
            record = uow.plans.get(plan_id)
            if record is not None:
                self.store(uow, plan_id, record.answers)
        repository.rules_filled_in()
        if missing:
            log.info("report rules counted for %d plans", len(missing))
        return len(missing)
