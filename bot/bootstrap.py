"""The composition root: settings in, a wired application out."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import prompts
from bot.access import AccessService
from bot.actions import Actions
from bot.clock import Clock, StartedClock, SystemClock
from bot.config import SettingError, Settings
from bot.consent import Consent
from bot.course import Course
from bot.documents import AfterPlan, Renderer
from bot.escalations import EscalationService
from bot.evaluations import EVALUATED, Evaluations
from bot.formatting import DutchFormatter
from bot.report import ReportService
from bot.service import PlanService
from bot.unavailable import StorageUnavailable
from dialogs import Dialog
from prompts.ladder import load_ladder
from storage import UnitOfWorkFactory, Units, create_engine_for, make_session_factory, migrate
from storage.course import StepRecord
from storage.crypto import Keyring
from storage.db import ensure_encrypted, has_key_check


class MissingKey(Exception):
    """No key where one is needed: `run` without DOORBRAAK_SECRET_KEY(_FILE), or an encrypted
    database whose local key file is gone."""

    def __init__(self, key_file: Path | None = None) -> None:
        super().__init__(
            "neither DOORBRAAK_SECRET_KEY nor DOORBRAAK_SECRET_KEY_FILE is set"
            if key_file is None
            else f"the database is encrypted but the key file {key_file} is missing"
        )
        self.key_file = key_file


@dataclass
class App:
    settings: Settings
    engine: Engine
    # ORM sessions for tools and tests that inspect the database; the services use `units`.
    sessions: sessionmaker[Session]
    units: UnitOfWorkFactory
    dialog: Dialog
    renderer: Renderer
    service: PlanService
    access: AccessService
    keyring: Keyring
    # Opvolging: the plans' actions (the same object the service keeps them in step with).
    actions: Actions
    # Set when the key is the local key file rather than DOORBRAAK_SECRET_KEY.
    key_file: Path | None = None
    # The time the bot goes by (reminders, action dates); tests pass one they control.
    clock: Clock = field(default_factory=SystemClock)
    # The plan's course after the interview, the Doorbraakteam and the doorbraakbudget.
    course: Course = field(kw_only=True)
    # The escalatieladder (prompts/opvolging.yaml): proposals, escalations, outcomes.
    escalations: EscalationService = field(kw_only=True)

    def after(self, plan_id: int, data: Mapping[str, Any] | None = None) -> AfterPlan:
        """What the plan's documents show of its life after the interview: its course, its
        steps on the escalatieladder and its evaluations, read in one unit of work (the
        document turn of a finished plan is on this path). With the plan's dialog `data` at
        hand, a plan never evaluated is spared the read of its evaluations."""
        evaluated = data is None or bool(data.get(EVALUATED))
        with self.units(read_only=True) as uow:
            course = self.course.shown(plan_id, uow)
            escalations = uow.escalations.of_plan(plan_id)
            evaluations = uow.evaluations.of_plan(plan_id) if evaluated else []
        return AfterPlan(
            course,
            tuple(self.escalations.sections_of(escalations)),
            tuple(self.service.evaluations.rows(evaluations)),
        )

    # The report over all plans (issue 16), on the facts the service keeps.
    @cached_property
    def report(self) -> ReportService:
        return ReportService(self.units, self.service.facts, self.clock)

    # The owner's choice to share a plan's texts in the report's appendix (issue 16).
    @cached_property
    def consent(self) -> Consent:
        return Consent(self.dialog.spec, self.units, self.service.facts)


# Makes the services' unit-of-work factory from the engine and key; a test can pass another.
MakeUnits = Callable[[Engine, Keyring], UnitOfWorkFactory]


def bootstrap(
    settings: Settings | None = None,
    *,
    require_key: bool = False,
    make_units: MakeUnits = Units,
    clock: Clock | None = None,
) -> App:
    """Wire the application; the database is migrated and checked against the key.

    `make_units` builds the unit-of-work factory every service runs its use cases through:
    storage.Units on the engine, unless a test passes a fake (or a wrapper) instead. `clock`
    is the time the bot goes by: the system clock, or DOORBRAAK_TEST_NOW's (tests only),
    unless a test passes its own.

    The key comes from DOORBRAAK_SECRET_KEY or the file in DOORBRAAK_SECRET_KEY_FILE. Without
    either, `require_key` (the bot) refuses; otherwise a local key file is used, and created for
    a database that is not encrypted yet. Raises MissingKey, SettingError,
    storage.crypto.InvalidSecret, WrongKey or TamperedData, or StorageUnavailable.
    """
    settings = settings or Settings.load()
    key_file: Path | None = None
    keyring: Keyring | None = None
    # The setting to name when the local key file cannot be read or made.
    key_setting = "DOORBRAAK_KEY_FILE" if settings.key_file else "DOORBRAAK_DATA_DIR"
    if settings.secret_key:
        keyring = Keyring.from_secret(settings.secret_key)
    elif settings.secret_key_file:
        keyring = _read_setting(settings.secret_key_file, "DOORBRAAK_SECRET_KEY_FILE")
        if keyring is None:
            name, path = "DOORBRAAK_SECRET_KEY_FILE", settings.secret_key_file
            raise SettingError(name, "instelling_sleutelbestand", pad=path)
    elif require_key:
        raise MissingKey()
    else:
        key_file = settings.resolved_key_file
        keyring = _read_setting(key_file, key_setting)
    spec = prompts.load_interview(settings.prompts_dir)
    opvolging = prompts.load_opvolging(settings.prompts_dir)
    ladder = load_ladder(settings.prompts_dir)
    fmt = DutchFormatter()
    dialog = Dialog(spec, fmt)
    renderer = Renderer(spec, fmt, prompts.template_dirs(settings.prompts_dir))
    try:
        engine = create_engine_for(
            settings.resolved_database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
    except (ArgumentError, ValueError, ImportError):
        # Unparsable, an unknown dialect, or a driver that is not installed.
        name = "DOORBRAAK_DATABASE_URL" if settings.database_url else "DOORBRAAK_DATA_DIR"
        raise SettingError(name, "instelling_database_url") from None
    except OSError as exc:
        # The SQLite file's folder cannot be made.
        raise StorageUnavailable(type(exc).__name__) from exc
    try:
        migrate(engine)
        if keyring is None:
            assert key_file is not None
            # A new key for a database already encrypted would only hide that the key is lost.
            if has_key_check(engine):
                raise MissingKey(key_file)
            try:
                keyring = create_key_file(key_file)
            except OSError:
                key = "instelling_sleutelbestand"
                raise SettingError(key_setting, key, pad=key_file) from None
        ensure_encrypted(engine, keyring)
    except OperationalError as exc:
        engine.dispose()
        raise StorageUnavailable(str(exc.orig)) from exc
    except BaseException:
        engine.dispose()
        raise
    units = make_units(engine, keyring)
    clock = clock or _clock(settings)
    actions = Actions(spec, units, clock)
    escalations = EscalationService(spec, ladder, units, clock)
    course = Course(spec, opvolging, units, clock)

    def escalate_rejected(plan_id: int, step: StepRecord) -> None:
        """A rejected plan gets the next rung of the escalatieladder proposed."""
        escalations.propose_after_decision(plan_id, actor=step.author)

    course.on_rejected.append(escalate_rejected)
    # The evaluation of a finished plan: prompts/evaluatie.yaml, overridable like the rest.
    evaluations = Evaluations(spec, prompts.load_evaluation(settings.prompts_dir), fmt, actions)
    # A completed evaluation is a step of the plan's course (geëvalueerd).
    evaluations.on_finished.append(
        lambda uow, plan_id, author: course.evaluated(plan_id, actor=author, uow=uow)
    )
    service = PlanService(dialog, units, actions, escalations, evaluations)
    access = AccessService(units)
    return App(
        settings,
        engine,
        make_session_factory(engine),
        units,
        dialog,
        renderer,
        service,
        access,
        keyring,
        actions,
        key_file,
        clock,
        course=course,
        escalations=escalations,
    )


def _clock(settings: Settings) -> Clock:
    if not settings.test_now:
        return SystemClock()
    try:
        return StartedClock(datetime.fromisoformat(settings.test_now))
    except ValueError:
        raise SettingError("DOORBRAAK_TEST_NOW", "instelling_waarde") from None


def _read_setting(path: Path, name: str) -> Keyring | None:
    """read_key_file, with a file that exists but cannot be read reported as setting `name`."""
    try:
        return read_key_file(path)
    except OSError:
        raise SettingError(name, "instelling_sleutelbestand", pad=path) from None


def read_key_file(path: Path) -> Keyring | None:
    """The keyring in a key file, or None if there is none."""
    try:
        secret = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        secret = ""  # InvalidSecret below
    return Keyring.from_secret(secret)


def create_key_file(path: Path) -> Keyring:
    """Create a key file with a new key (mode 0600); if another process just made one, use that."""
    temp = _write_private(path, Keyring.generate_secret())
    try:
        # Linking never replaces a file, so two first starts end up with the same key.
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink()
    keyring = read_key_file(path)
    assert keyring is not None
    return keyring


def write_key_file(path: Path, secret: str) -> None:
    """Write (or replace) a key file atomically, readable by its owner only."""
    os.replace(_write_private(path, secret), path)


def _write_private(path: Path, secret: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover file keeps its old mode otherwise
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return temp
