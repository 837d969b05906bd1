"""Settings from the environment (or `.env`), with the embedded SQLite default."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_render_workers() -> int:
    """One document worker per core this process may run on (the cores of its cpuset or
    container where the platform says, else os.cpu_count()), but one: that core is the
    bot's own, whose event loop runs every chat's turns. Measured with 100 professionals
    finishing together on 2 cores (bench/RESULTS.md), a worker per core made the document
    turn slower than one worker, and a worker for each of 4 slower still: the workers and
    the event loop took the same cores from each other."""
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity is not None else os.cpu_count()
    return max(1, (cores or 1) - 1)


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "doorbraakbot"


class SettingError(Exception):
    """A setting with a value the bot cannot use: `name` is its environment variable, `key`
    the message (prompts/messages.yaml) that says what it expects, with `params`."""

    def __init__(self, name: str, key: str, **params: object) -> None:
        # Never the value itself: it may be a key or a password in a database URL.
        super().__init__(f"{name} is invalid ({key})")
        self.name = name
        self.key = key
        self.params = params


# Pydantic error types -> the message saying what was expected; its limit from the error's ctx.
_EXPECTED = {
    "int_parsing": ("instelling_geheel_getal", None),
    "int_from_float": ("instelling_geheel_getal", None),
    "float_parsing": ("instelling_getal", None),
    "greater_than_equal": ("instelling_minstens", "ge"),
    "greater_than": ("instelling_meer_dan", "gt"),
    "less_than_equal": ("instelling_hoogstens", "le"),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOORBRAAK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    # A SQLAlchemy URL; empty means the SQLite file `plans.db` in data_dir.
    database_url: str = ""
    # Where `plan` writes documents; empty means `exports` in data_dir.
    export_dir: Path | None = None
    # A folder with an interview.yaml / messages.yaml / templates/ that replace the shipped ones.
    prompts_dir: Path | None = None
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # Plans not changed for this many days are deleted by `doorbraakbot purge`.
    retention_days: int = Field(default=365, ge=1)
    # Who is recorded as the author of answers given in the terminal.
    author: str = ""

    # Encryption at rest: the key (`doorbraakbot genkey`) that encrypts answers, plan data and
    # suggestions and hashes household numbers. Required by `run`; without it the terminal
    # commands use (and on first use create) key_file, by default `secret.key` in data_dir.
    secret_key: str = ""
    # A file holding the key instead (the systemd-credentials convention: LoadCredential= and
    # DOORBRAAK_SECRET_KEY_FILE=%d/<name>); never created or replaced by the bot.
    secret_key_file: Path | None = None
    key_file: Path | None = None
    # `rotate-key` re-encrypts everything from secret_key (or key_file) to this key.
    new_secret_key: str = ""

    # Processes that render documents (PDF, Word, chart) side by side; each starts with the
    # first document that finds the others busy, takes 70-120 MB, and stops after five minutes
    # without documents. Default: one fewer than the cores, at least one.
    render_workers: int = Field(default_factory=default_render_workers, ge=1)

    # Telegram. The token comes from @BotFather; the base URL may point at a self-hosted Bot
    # API server (or, in tests, at a stand-in on 127.0.0.1).
    telegram_bot_token: str = Field(
        default="",
        validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "DOORBRAAK_TELEGRAM_BOT_TOKEN"),
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=AliasChoices("TELEGRAM_API_BASE_URL", "DOORBRAAK_TELEGRAM_API_BASE_URL"),
    )
    # Webhook mode (behind a reverse proxy) when a public URL is set; long polling otherwise.
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    webhook_secret: str = ""
    # The path the webhook server answers at, behind the reverse proxy.
    webhook_path: str = "/telegram"
    # Several workers: how long a worker waits for an update id that has not arrived (at the
    # other worker, say) before it applies the next one without it, in seconds.
    webhook_gap_timeout: float = Field(default=2.0, gt=0)

    # Reminders (bot.reminders): sent from reminder_hour until reminder_until (hours, Dutch
    # time) on working days, and at weekends and on public holidays (bot.clock.holidays)
    # only with reminder_weekend; reminder_every is how often, in seconds, `run` looks in
    # the database for reminders that are due.
    reminder_hour: int = Field(default=9, ge=0, le=23)
    reminder_until: int = Field(default=18, ge=1, le=24)
    reminder_weekend: bool = False
    reminder_every: float = Field(default=60.0, gt=0)
    # For tests only: the moment (ISO 8601 with offset) the bot's clock starts at; it runs on
    # from there. Never set this in production.
    test_now: str = ""

    @classmethod
    def load(cls) -> Settings:
        """Settings from the environment and the `.env` file (DOORBRAAK_ENV_FILE names another,
        or an empty value none at all, as the tests do). Raises SettingError."""
        env_file = os.environ.get("DOORBRAAK_ENV_FILE", ".env")
        try:
            return cls(_env_file=env_file or None)  # type: ignore[call-arg]
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else ""
            key, limit = _EXPECTED.get(error["type"], ("instelling_waarde", None))
            params = {} if limit is None else {"grens": error.get("ctx", {}).get(limit)}
            raise SettingError(f"DOORBRAAK_{field.upper()}", key, **params) from None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'plans.db'}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "secret.key"

    @property
    def key_source(self) -> str:
        """Where the key comes from, as messages name it."""
        if self.secret_key:
            return "DOORBRAAK_SECRET_KEY"
        return str(self.secret_key_file or self.resolved_key_file)

    @property
    def resolved_export_dir(self) -> Path:
        return self.export_dir or self.data_dir / "exports"

    @property
    def terminal_author(self) -> str:
        if self.author:
            return self.author
        try:
            return f"terminal:{getpass.getuser()}"
        except (KeyError, OSError):
            return "terminal"
