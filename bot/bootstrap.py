"""The composition root: settings in, a wired application out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

import prompts
from bot.config import Settings
from bot.documents import Renderer
from bot.formatting import DutchFormatter
from bot.service import PlanService, StorageUnavailable
from dialogs import Dialog
from storage import create_engine_for, make_session_factory, migrate


@dataclass
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    dialog: Dialog
    renderer: Renderer
    service: PlanService


def bootstrap(settings: Settings | None = None) -> App:
    settings = settings or Settings.load()
    spec = prompts.load_interview(settings.prompts_dir)
    fmt = DutchFormatter()
    dialog = Dialog(spec, fmt)
    renderer = Renderer(spec, fmt, prompts.template_dirs(settings.prompts_dir))
    engine = create_engine_for(
        settings.resolved_database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    try:
        migrate(engine)
    except OperationalError as exc:
        engine.dispose()
        raise StorageUnavailable(str(exc.orig)) from exc
    sessions = make_session_factory(engine)
    service = PlanService(dialog, sessions)
    return App(settings, engine, sessions, dialog, renderer, service)
