"""What the benchmarks share: settings, the PostgreSQL schema, Update builders, statistics."""

from __future__ import annotations

import itertools
import math
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
POSTGRES_URL_ENV = "DOORBRAAK_TEST_POSTGRES_URL"
# The benchmarks' key: a constant, so a cached database stays readable between runs. It
# protects nothing (invented households only).
SECRET = "YmVuY2gta2V5LWZvci1pbnZlbnRlZC1kYXRhLW9ubHk="


def settings(data_dir: Path, database_url: str = "") -> Settings:
    """Settings that ignore the developer's environment and .env file."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'plans.db'}",
        secret_key=SECRET,
        prompts_dir=None,
        export_dir=data_dir / "exports",
        telegram_bot_token="",
        webhook_url="",
    )


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_URL_ENV) or None


@contextmanager
def postgres_schema(base_url: str, prefix: str = "bench") -> Iterator[str]:
    """A URL whose connections use a fresh schema, dropped afterwards (as the tests do)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


def postgres_available(base_url: str | None) -> str | None:
    """None if the server answers, else why not."""
    if not base_url:
        return f"{POSTGRES_URL_ENV} is not set"
    engine = create_engine(base_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return None
    except Exception as exc:  # any failure means: skip, and say why
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    finally:
        engine.dispose()


class Updates:
    """Raw Bot API Update dicts as a private chat on a phone sends them."""

    # Update ids are unique within the process, as Telegram's are within a bot: a bot that
    # records the updates it has applied must never see one id twice.
    _ids = itertools.count(1)

    def __init__(self) -> None:
        self._messages = itertools.count(1)

    @staticmethod
    def _user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "Sanne", "language_code": "nl"}

    def text(self, user_id: int, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._messages),
            "from": self._user(user_id),
            "chat": {"id": user_id, "type": "private", "first_name": "Sanne"},
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": next(self._ids), "message": message}

    def press(self, user_id: int, data: str) -> dict[str, Any]:
        message_id = next(self._messages)
        return {
            "update_id": next(self._ids),
            "callback_query": {
                "id": f"{user_id}{message_id:08d}",
                "from": self._user(user_id),
                "chat_instance": str(user_id * 7919),
                "data": data,
                "message": {
                    "message_id": message_id,
                    "from": {"id": 123456, "is_bot": True, "first_name": "Doorbraakbot"},
                    "chat": {"id": user_id, "type": "private", "first_name": "Sanne"},
                    "date": int(time.time()) - 5,
                    "text": "…",
                },
            },
        }


@dataclass(frozen=True)
class Stats:
    n: int
    p50: float
    p95: float
    p99: float
    max: float


def stats(values_ms: Sequence[float]) -> Stats:
    """Nearest-rank percentiles, in milliseconds."""
    ordered = sorted(values_ms)
    if not ordered:
        return Stats(0, math.nan, math.nan, math.nan, math.nan)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

    return Stats(len(ordered), rank(0.50), rank(0.95), rank(0.99), ordered[-1])


async def shut_down(application: Any) -> None:
    """Application.shutdown and then its post_shutdown hook, as run_polling does; the
    benchmark drives its Applications itself. Our front end stops its document worker there."""
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


def vmrss_kb(pid: int | str = "self") -> int:
    """The resident set of a process, in KiB (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/<pid>/status")
