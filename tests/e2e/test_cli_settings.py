"""Settings the bot cannot use: one line naming the setting, a non-zero exit, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.protocol import doorbraakbot

AFTER = "Pas die aan in de omgeving of in .env; er is niets gewijzigd."
DATABASE_URL = (
    "geen database-URL die ik kan gebruiken; bijvoorbeeld sqlite:////pad/naar/plans.db of"
    " postgresql+psycopg://gebruiker:wachtwoord@host/database"
)


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("DOORBRAAK_RETENTION_DAYS", "abc", "verwacht een geheel getal"),
        ("DOORBRAAK_RETENTION_DAYS", "-1", "verwacht minstens 1"),
        ("DOORBRAAK_RETENTION_DAYS", "0", "verwacht minstens 1"),
        ("DOORBRAAK_SQLITE_BUSY_TIMEOUT_MS", "vijf", "verwacht een geheel getal"),
        ("DOORBRAAK_WEBHOOK_PORT", "70000", "verwacht hoogstens 65535"),
        ("DOORBRAAK_WEBHOOK_GAP_TIMEOUT", "snel", "verwacht een getal"),
        ("DOORBRAAK_DATABASE_URL", "geen-url", DATABASE_URL),
        ("DOORBRAAK_DATABASE_URL", "oracle+nodriver://host/db", DATABASE_URL),
        ("DOORBRAAK_DATABASE_URL", "postgresql+psycopg://u:geheim@host:poort/db", DATABASE_URL),
        ("DOORBRAAK_DATABASE_URL", "mysql://host/db", DATABASE_URL),
    ],
)
def test_an_invalid_setting_is_one_line_naming_it(
    tmp_path: Path, setting: str, value: str, expected: str
) -> None:
    result = doorbraakbot(tmp_path, "plans", **{setting: value})
    assert result.returncode == 2
    assert result.stderr == f"De instelling {setting} is ongeldig: {expected}. {AFTER}\n"
    assert "geheim" not in result.stderr  # a password in the URL is never echoed
    assert result.stdout == ""
    assert not (tmp_path / "plans.db").exists()


@pytest.mark.parametrize("command", ["purge", "run"])
def test_purge_and_run_refuse_an_invalid_retention_period_in_one_line(
    tmp_path: Path, command: str
) -> None:
    result = doorbraakbot(tmp_path, command, DOORBRAAK_RETENTION_DAYS="-1")
    assert result.returncode == 2
    assert result.stderr == (
        f"De instelling DOORBRAAK_RETENTION_DAYS is ongeldig: verwacht minstens 1. {AFTER}\n"
    )


def test_a_key_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "credentials" / "doorbraak-key"
    result = doorbraakbot(
        tmp_path, "plans", DOORBRAAK_SECRET_KEY="", DOORBRAAK_SECRET_KEY_FILE=str(missing)
    )
    assert result.returncode == 2
    assert result.stderr == (
        "De instelling DOORBRAAK_SECRET_KEY_FILE is ongeldig: het sleutelbestand"
        f" {missing} is niet te lezen of te maken. {AFTER}\n"
    )

    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = doorbraakbot(
        tmp_path, "plans", DOORBRAAK_SECRET_KEY="", DOORBRAAK_KEY_FILE=str(folder)
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"De instelling DOORBRAAK_KEY_FILE is ongeldig: het sleutelbestand {folder} is niet"
    )
    assert "Traceback" not in result.stderr


def test_an_invalid_key_is_one_line(tmp_path: Path) -> None:
    result = doorbraakbot(tmp_path, "plans", DOORBRAAK_SECRET_KEY="te-kort")
    assert result.returncode == 2
    assert result.stderr == (
        "De sleutel in DOORBRAAK_SECRET_KEY is geen geldige sleutel (32 bytes in base64)."
        " Maak er een met: doorbraakbot genkey\n"
    )


def test_an_invalid_setting_in_jsonl_mode_is_an_error_line(tmp_path: Path) -> None:
    result = doorbraakbot(
        tmp_path, "chat", "--household", "3012", "--jsonl", DOORBRAAK_RETENTION_DAYS="abc"
    )
    assert result.returncode == 2
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {
            "type": "error",
            "text": f"De instelling DOORBRAAK_RETENTION_DAYS is ongeldig: verwacht een geheel"
            f" getal. {AFTER}",
        }
    ]
    assert "Traceback" not in result.stderr
