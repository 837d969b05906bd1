"""Access, sharing, retention and the audit log, for every front end and the CLI."""

from __future__ import annotations

import logging
from datetime import timedelta

from storage import UnitOfWorkFactory
from storage.access import OWNER, PROFESSIONAL, ProfessionalRecord
from storage.models import utcnow

log = logging.getLogger(__name__)

# Audit actions: what happened to a plan, never what it says. (SHARE_CODE_MADE: a code was
# made; the role a colleague gets is storage.access.SHARED.)
OPENED, CHANGED, EXPORTED, SHARE_CODE_MADE, JOINED, REVOKED, DELETED, PURGED = (
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
    """Registration, sharing, deletion and retention; each call one unit of work, whose
    writes claim the webhook update being applied, so each happens once."""

    def __init__(self, units: UnitOfWorkFactory) -> None:
        self.units = units

    # --- registration ------------------------------------------------------------------

    def invite(self, team: str, role: str = PROFESSIONAL) -> str:
        with self.units() as uow:
            repo = uow.access
            code = repo.create_invite(team, role)
            detail = team if role == PROFESSIONAL else f"{team} {role}"
            repo.audit("beheer", "uitnodiging", None, detail[:64])
            return code

    def set_role(
        self, professional_id: int, role: str, team: str | None, *, actor: str
    ) -> ProfessionalRecord | None:
        """The administrator gives a professional another role (and team); audited. None if
        there is no such professional."""
        with self.units() as uow:
            repo = uow.access
            if not repo.set_role(professional_id, role, team):
                return None
            repo.audit(actor, "rol", None, f"prof:{professional_id} {role}"[:64])
            return next(p for p in repo.professionals() if p.id == professional_id)

    def professionals(self) -> list[ProfessionalRecord]:
        with self.units(read_only=True) as uow:
            return uow.access.professionals()

    def professional(self, telegram_user_id: int) -> ProfessionalRecord | None:
        with self.units(read_only=True) as uow:
            repo = uow.access
            return repo.professional(telegram_user_id)

    def register(
        self, code: str, telegram_user_id: int, name: str = ""
    ) -> ProfessionalRecord | None:
        """Register with an invite code; `name` is what colleagues see (Telegram's
        first_name)."""
        with self.units() as uow:
            repo = uow.access
            found = repo.redeem_invite(code, telegram_user_id, name)
            if found is not None:
                repo.audit(found.actor, "aangemeld", None, found.team[:64])
            return found

    # --- plans ---------------------------------------------------------------------------

    def role(self, professional: ProfessionalRecord, plan_id: int) -> str | None:
        with self.units(read_only=True) as uow:
            repo = uow.access
            return repo.role(plan_id, professional.id)

    def share(self, professional: ProfessionalRecord, plan_id: int) -> str:
        """A one-time code a colleague sends to the bot to get access; owners only."""
        with self.units() as uow:
            repo = uow.access
            if repo.role(plan_id, professional.id) != OWNER:
                raise NotOwner
            code = repo.create_share_code(plan_id, professional.id)
            repo.audit(professional.actor, SHARE_CODE_MADE, plan_id)
            return code

    def share_from_terminal(self, actor: str, plan_id: int) -> str:
        """A one-time code for a plan, made in the terminal (`doorbraakbot deel`).

        No owner check: a plan made in the terminal has no owning professional, and whoever
        runs the terminal holds the database and its key, so every plan in it is theirs.
        """
        with self.units() as uow:
            repo = uow.access
            code = repo.create_share_code(plan_id, None)
            repo.audit(actor, SHARE_CODE_MADE, plan_id)
            return code

    def join(self, professional: ProfessionalRecord, code: str) -> int | None:
        with self.units() as uow:
            repo = uow.access
            plan_id = repo.redeem_share_code(code, professional.id)
            if plan_id is not None:
                repo.audit(professional.actor, JOINED, plan_id)
            return plan_id

    def revoke(self, professional: ProfessionalRecord, plan_id: int) -> int:
        with self.units() as uow:
            repo = uow.access
            if repo.role(plan_id, professional.id) != OWNER:
                raise NotOwner
            removed = repo.revoke_shares(plan_id)
            repo.audit(professional.actor, REVOKED, plan_id)
            return removed

    def purge(self, days: int) -> int:
        """Delete plans not changed for `days` days, and webhook updates that are done or have
        waited that long (an answer waits there in full); the number of plans deleted."""
        cutoff = utcnow() - timedelta(days=days)
        # claim=False: retention runs outside any update (a command or the bot's timer).
        with self.units(claim=False) as uow:
            plan_ids = uow.deletion.inactive_plans(cutoff)
            for plan_id in plan_ids:
                uow.deletion.delete_plan(plan_id)
                uow.access.audit("bewaartermijn", PURGED, plan_id, f"{days} dagen")
            updates = uow.inbox.expire(cutoff)
        log.info(
            "purged %d plans inactive for %d days and %d inbox updates",
            len(plan_ids),
            days,
            updates,
        )
        return len(plan_ids)

    def record(self, actor: str, action: str, plan_id: int | None, detail: str = "") -> None:
        with self.units() as uow:
            repo = uow.access
            repo.audit(actor, action, plan_id, detail)
