"""Access, sharing, retention and the audit log, for every front end and the CLI."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.unavailable import available
from storage import READ_ONLY
from storage.access import OWNER, AccessRepository, AuditRecord, ProfessionalRecord
from storage.crypto import Keyring
from storage.inbox import InboxRepository
from storage.models import utcnow

log = logging.getLogger(__name__)

# Audit actions: what happened to a plan, never what it says.
OPENED, CHANGED, EXPORTED, SHARED, JOINED, REVOKED, DELETED, PURGED = (
    "geopend",
    "gewijzigd",
    "geexporteerd",
    "gedeeld",
    "deelcode_gebruikt",
    "delen_ingetrokken",
    "verwijderd",
    "opgeschoond",
)


class AccessDenied(Exception):
    """The professional has no access to this plan."""


class NotOwner(AccessDenied):
    """Only the plan's owner may share, stop sharing or delete it."""


class AccessService:
    def __init__(self, sessions: sessionmaker[Session], keyring: Keyring) -> None:
        self.sessions = sessions
        self.keyring = keyring

    @contextmanager
    def _writing(self) -> Iterator[AccessRepository]:
        """A write transaction; it first claims the update being applied (AlreadyApplied if
        it was applied before), so a registration, a share code or a deletion happens once."""
        with available(), self.sessions.begin() as session:
            InboxRepository(session, self.keyring).claim_applying()
            yield AccessRepository(session, self.keyring)

    @contextmanager
    def _reading(self) -> Iterator[AccessRepository]:
        with available(), self.sessions() as session:
            session.connection(execution_options=READ_ONLY)
            yield AccessRepository(session, self.keyring)

    # --- registration ------------------------------------------------------------------

    def invite(self, team: str) -> str:
        with self._writing() as repo:
            code = repo.create_invite(team)
            repo.audit("beheer", "uitnodiging", None, team[:64])
            return code

    def professional(self, telegram_user_id: int) -> ProfessionalRecord | None:
        with self._reading() as repo:
            return repo.professional(telegram_user_id)

    def register(self, code: str, telegram_user_id: int) -> ProfessionalRecord | None:
        with self._writing() as repo:
            found = repo.redeem_invite(code, telegram_user_id)
            if found is not None:
                repo.audit(found.actor, "aangemeld", None, found.team[:64])
            return found

    # --- plans ---------------------------------------------------------------------------

    def role(self, professional: ProfessionalRecord, plan_id: int) -> str | None:
        with self._reading() as repo:
            return repo.role(plan_id, professional.id)

    def share(self, professional: ProfessionalRecord, plan_id: int) -> str:
        """A one-time code a colleague sends to the bot to get access; owners only."""
        with self._writing() as repo:
            if repo.role(plan_id, professional.id) != OWNER:
                raise NotOwner
            code = repo.create_share_code(plan_id, professional.id)
            repo.audit(professional.actor, SHARED, plan_id)
            return code

    def share_from_terminal(self, actor: str, plan_id: int) -> str:
        """A one-time code for a plan, made in the terminal (`doorbraakbot deel`).

        No owner check: a plan made in the terminal has no owning professional, and whoever
        runs the terminal holds the database and its key, so every plan in it is theirs.
        """
        with self._writing() as repo:
            code = repo.create_share_code(plan_id, None)
            repo.audit(actor, SHARED, plan_id)
            return code

    def join(self, professional: ProfessionalRecord, code: str) -> int | None:
        with self._writing() as repo:
            plan_id = repo.redeem_share_code(code, professional.id)
            if plan_id is not None:
                repo.audit(professional.actor, JOINED, plan_id)
            return plan_id

    def revoke(self, professional: ProfessionalRecord, plan_id: int) -> int:
        with self._writing() as repo:
            if repo.role(plan_id, professional.id) != OWNER:
                raise NotOwner
            removed = repo.revoke_shares(plan_id)
            repo.audit(professional.actor, REVOKED, plan_id)
            return removed

    def purge(self, days: int) -> int:
        """Delete plans not changed for `days` days, and webhook updates that are done or have
        waited that long (an answer waits there in full); the number of plans deleted."""
        cutoff = utcnow() - timedelta(days=days)
        with available(), self.sessions.begin() as session:
            repo = AccessRepository(session, self.keyring)
            plan_ids = repo.inactive_plans(cutoff)
            for plan_id in plan_ids:
                repo.delete_plan(plan_id)
                repo.audit("bewaartermijn", PURGED, plan_id, f"{days} dagen")
            updates = InboxRepository(session, self.keyring).expire(cutoff)
        log.info(
            "purged %d plans inactive for %d days and %d inbox updates",
            len(plan_ids),
            days,
            updates,
        )
        return len(plan_ids)

    def record(self, actor: str, action: str, plan_id: int | None, detail: str = "") -> None:
        with self._writing() as repo:
            repo.audit(actor, action, plan_id, detail)

    def audit_log(self, plan_id: int | None = None) -> list[AuditRecord]:
        with self._reading() as repo:
            return repo.audit_log(plan_id)
