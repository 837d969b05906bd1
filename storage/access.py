"""Who may use the bot and see which plan: professionals, invites, shares, and the audit log."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.crypto import Keyring
from storage.models import Base, Encrypted, Hashed, UTCDateTime, utcnow
from storage.tx import Tx

# Roles on a plan (plan_access.role); the audit actions are bot.access's.
OWNER, SHARED = "eigenaar", "gedeeld"
# Codes are read aloud and typed on phones: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_DAYS = 14
SHARE_DAYS = 7
USER_ID = Encrypted("professionals.user", row=("user_key",))
NAME = Encrypted("professionals.name", row=("user_key",))
# The longest display name kept (Telegram's first_name is at most 64 characters).
NAME_MAX = 64

# A professional's role for the report over all plans (issue 16): a professional sees none of
# it, a teamleider their team's, a beleidsmedewerker every team's.
PROFESSIONAL, TEAMLEIDER, BELEIDSMEDEWERKER = "professional", "teamleider", "beleidsmedewerker"
# A registered professional as an actor (in the audit log, as a plan's owner): `prof:<id>`.
ACTOR_PREFIX = "prof:"


def professional_id_of(actor: str | None) -> int | None:
    """`prof:12` -> 12; any other actor (the terminal, a team member's key) -> None."""
    if actor is None or not actor.startswith(ACTOR_PREFIX):
        return None
    number = actor[len(ACTOR_PREFIX) :]
    return int(number) if number.isdigit() else None


ROLES = (PROFESSIONAL, TEAMLEIDER, BELEIDSMEDEWERKER)


class Professional(Base):
    __tablename__ = "professionals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Keyed hash of the Telegram user id, for lookup; the id itself only encrypted.
    user_key: Mapped[str] = mapped_column(
        String(64), unique=True, nullable=False, info={"hashed": Hashed("user_enc", "telegram")}
    )
    user_enc: Mapped[str] = mapped_column(Text, nullable=False, info={"encrypted": USER_ID})
    team: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # What colleagues see when they choose an action's owner: Telegram's first_name, taken at
    # registration and refreshed when the professional uses /acties or /herinneringen.
    name_enc: Mapped[str | None] = mapped_column(Text, nullable=True, info={"encrypted": NAME})
    # Reminders switched off (/herinneringen uit), since.
    reminders_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    role: Mapped[str] = mapped_column(
        String(20), nullable=False, default=PROFESSIONAL, server_default=PROFESSIONAL
    )


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    team: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The role the professional registering with it gets.
    role: Mapped[str] = mapped_column(
        String(20), nullable=False, default=PROFESSIONAL, server_default=PROFESSIONAL
    )


class PlanAccess(Base):
    __tablename__ = "plan_access"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    professional_id: Mapped[int] = mapped_column(
        ForeignKey("professionals.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class ShareCode(Base):
    __tablename__ = "share_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # NULL: made with `doorbraakbot deel` on the machine that holds the database.
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditEntry(Base):
    """Who did what to which plan, and when; never any content."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_plan_id_at", "plan_id", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    # No foreign key: the record outlives the plan it is about.
    plan_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(String(64), nullable=False, default="")


@dataclass(frozen=True)
class ProfessionalRecord:
    id: int
    team: str
    role: str = PROFESSIONAL

    @property
    def actor(self) -> str:
        return f"{ACTOR_PREFIX}{self.id}"


@dataclass(frozen=True)
class Colleague:
    """A registered professional as a colleague sees them; `name` is "" if none is known."""

    id: int
    name: str


def new_code(prefix: str) -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def normalise_code(text: str) -> str:
    return "".join(text.upper().split())


class AccessRepository:
    """Professionals, invites, shared plans and the audit log; the caller owns the transaction."""

    def __init__(self, tx: Tx | Session | Connection, keyring: Keyring) -> None:
        self._tx = Tx.of(tx)
        self._keyring = keyring

    # --- professionals ---------------------------------------------------------------------

    def professional(self, telegram_user_id: int) -> ProfessionalRecord | None:
        key = self._keyring.hash(str(telegram_user_id), purpose="telegram")
        row = self._tx.execute(_PROFESSIONAL, {"user_key": key}).one_or_none()
        return None if row is None else ProfessionalRecord(row.id, row.team, row.role)

    def create_invite(self, team: str, role: str = PROFESSIONAL) -> str:
        """A one-time invite code for `team`; only its keyed hash is stored."""
        code = new_code("UIT")
        now = utcnow()
        self._tx.execute(
            insert(Invite).values(
                code_hash=self._code_hash(code),
                team=team,
                role=role,
                created_at=now,
                expires_at=now + timedelta(days=INVITE_DAYS),
            )
        )
        return code

    def redeem_invite(
        self, code: str, telegram_user_id: int, name: str = ""
    ) -> ProfessionalRecord | None:
        """Register the user with a valid, unused invite; None (nothing written) otherwise.
        `name` is what colleagues will see (Telegram's first_name)."""
        now = utcnow()
        claimed = self._tx.execute(
            update(Invite)
            .where(Invite.code_hash == self._code_hash(code))
            .where(Invite.used_at.is_(None))
            .where(Invite.expires_at > now)
            .values(used_at=now)
            .returning(Invite.team, Invite.role)
        ).one_or_none()
        if claimed is None:
            return None
        existing = self.professional(telegram_user_id)
        if existing is not None:
            return existing
        key = self._keyring.hash(str(telegram_user_id), purpose="telegram")
        row = {"user_key": key}
        name = name.strip()[:NAME_MAX]
        new_id = self._tx.execute(
            insert(Professional)
            .values(
                user_key=key,
                user_enc=USER_ID.seal(self._keyring, str(telegram_user_id), row),
                name_enc=NAME.seal(self._keyring, name, row) if name else None,
                team=claimed.team,
                role=claimed.role,
                created_at=now,
            )
            .returning(Professional.id)
        ).scalar_one()
        return ProfessionalRecord(new_id, claimed.team, claimed.role)

    def set_role(self, professional_id: int, role: str, team: str | None = None) -> bool:
        """Give a professional another role (and team); False if there is no such one."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        values: dict[str, str] = {"role": role}
        if team is not None:
            values["team"] = team
        changed = self._tx.execute(
            update(Professional).where(Professional.id == professional_id).values(**values)
        )
        return changed.rowcount == 1

    def professionals(self) -> list[ProfessionalRecord]:
        """Every registered professional, by id (no Telegram id: that stays encrypted)."""
        rows = self._tx.execute(
            select(Professional.id, Professional.team, Professional.role).order_by(Professional.id)
        )
        return [ProfessionalRecord(row.id, row.team, row.role) for row in rows]

    def team_of(self, professional_id: int) -> str | None:
        return self._tx.scalar(select(Professional.team).where(Professional.id == professional_id))

    def rename(self, professional_id: int, name: str) -> None:
        """Keep the professional's display name; written only when it changed."""
        name = name.strip()[:NAME_MAX]
        row = self._tx.execute(
            select(Professional.user_key, Professional.name_enc).where(
                Professional.id == professional_id
            )
        ).one_or_none()
        if row is None or not name or self._name(row) == name:
            return
        sealed = NAME.seal(self._keyring, name, {"user_key": row.user_key})
        self._tx.execute(
            update(Professional).where(Professional.id == professional_id).values(name_enc=sealed)
        )

    def colleagues(self, team: str) -> list[Colleague]:
        """The registered professionals of `team`, by name (those without one last)."""
        rows = self._tx.execute(
            select(Professional.id, Professional.user_key, Professional.name_enc).where(
                Professional.team == team
            )
        )
        found = [Colleague(row.id, self._name(row)) for row in rows]
        return sorted(found, key=lambda c: (not c.name, c.name.casefold(), c.id))

    def colleague(self, professional_id: int) -> tuple[Colleague, str] | None:
        """A professional as a colleague sees them, with their team."""
        row = self._tx.execute(
            select(
                Professional.id, Professional.user_key, Professional.name_enc, Professional.team
            ).where(Professional.id == professional_id)
        ).one_or_none()
        return None if row is None else (Colleague(row.id, self._name(row)), row.team)

    def telegram_id(self, professional_id: int) -> int | None:
        """The professional's Telegram user id (their private chat)."""
        row = self._tx.execute(
            select(Professional.user_key, Professional.user_enc).where(
                Professional.id == professional_id
            )
        ).one_or_none()
        if row is None:
            return None
        return int(USER_ID.open(self._keyring, row.user_enc, {"user_key": row.user_key}))

    def _name(self, row: Any) -> str:
        if row.name_enc is None:
            return ""
        return NAME.open(self._keyring, row.name_enc, {"user_key": row.user_key})

    # --- plans -----------------------------------------------------------------------------

    def grant(self, plan_id: int, professional_id: int, role: str) -> None:
        if self.role(plan_id, professional_id) is None:
            self._tx.execute(
                insert(PlanAccess).values(
                    plan_id=plan_id,
                    professional_id=professional_id,
                    role=role,
                    created_at=utcnow(),
                )
            )

    def role(self, plan_id: int, professional_id: int) -> str | None:
        # A column read, never a cached object: a withdrawal made by another worker counts.
        params = {"plan_id": plan_id, "professional_id": professional_id}
        return self._tx.execute(_ROLE, params).scalar_one_or_none()

    def plan_ids(self, professional_id: int) -> list[int]:
        return list(
            self._tx.scalars(
                select(PlanAccess.plan_id).where(PlanAccess.professional_id == professional_id)
            )
        )

    def create_share_code(self, plan_id: int, professional_id: int | None) -> str:
        """A one-time code for the plan, made by the professional (None: in the terminal)."""
        code = new_code("DEEL")
        now = utcnow()
        self._tx.execute(
            insert(ShareCode).values(
                code_hash=self._code_hash(code),
                plan_id=plan_id,
                created_by=professional_id,
                created_at=now,
                expires_at=now + timedelta(days=SHARE_DAYS),
            )
        )
        return code

    def redeem_share_code(self, code: str, professional_id: int) -> int | None:
        """Give the professional access to the code's plan; the plan id, or None."""
        now = utcnow()
        claimed = self._tx.execute(
            update(ShareCode)
            .where(ShareCode.code_hash == self._code_hash(code))
            .where(ShareCode.used_at.is_(None))
            .where(ShareCode.expires_at > now)
            .values(used_at=now)
            .returning(ShareCode.plan_id)
        ).one_or_none()
        if claimed is None:
            return None
        self.grant(claimed.plan_id, professional_id, SHARED)
        return int(claimed.plan_id)

    def revoke_shares(self, plan_id: int) -> int:
        """Withdraw every colleague's access and every unused code; the number withdrawn."""
        removed = self._tx.execute(
            delete(PlanAccess)
            .where(PlanAccess.plan_id == plan_id)
            .where(PlanAccess.role == SHARED)
        )
        self._tx.execute(
            delete(ShareCode)
            .where(ShareCode.plan_id == plan_id)
            .where(ShareCode.used_at.is_(None))
        )
        return int(removed.rowcount or 0)

    # --- audit -----------------------------------------------------------------------------

    def audit(self, actor: str, action: str, plan_id: int | None, detail: str = "") -> None:
        self._tx.execute(
            _AUDIT,
            {
                "at": utcnow(),
                "actor": actor,
                "action": action,
                "plan_id": plan_id,
                "detail": detail,
            },
        )

    def audited(self, actor: str, action: str, plan_id: int, detail: str) -> bool:
        """Whether `actor` did `action` with this `detail` to the plan before (a file sent
        once for one button, say)."""
        found = self._tx.execute(
            select(AuditEntry.id)
            .where(AuditEntry.plan_id == plan_id)
            .where(AuditEntry.actor == actor)
            .where(AuditEntry.action == action)
            .where(AuditEntry.detail == detail)
            .limit(1)
        ).first()
        return found is not None

    def _code_hash(self, code: str) -> str:
        return self._keyring.hash(normalise_code(code), purpose="code")


# Statements every turn runs, built once (see storage.db.run).
_ROLE = (
    select(PlanAccess.role)
    .where(PlanAccess.plan_id == bindparam("plan_id"))
    .where(PlanAccess.professional_id == bindparam("professional_id"))
)
_AUDIT = insert(AuditEntry)
_PROFESSIONAL = select(Professional.id, Professional.team, Professional.role).where(
    Professional.user_key == bindparam("user_key")
)
