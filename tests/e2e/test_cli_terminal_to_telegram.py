"""From the terminal to Telegram: `doorbraakbot deel`, and `run` on the terminal's database."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e.protocol import Driver, doorbraakbot, question_of


def terminal_plan(jsonl: Any, **env: str) -> None:
    driver = Driver(jsonl("3012", **env))
    assert question_of(driver.send("Plan uit de terminal"))["field"] == "plan.professional"
    assert driver.stop() == 0


def test_deel_prints_a_one_time_share_code(jsonl: Any, tmp_path: Path) -> None:
    terminal_plan(jsonl)
    result = doorbraakbot(tmp_path, "deel", "3012")
    assert result.returncode == 0, result.stderr
    first, rest = result.stdout.split("\n", 1)
    assert re.fullmatch(
        r"Deelcode voor het plan van huishouden 3012: DEEL-[A-Z2-9]{4}-[A-Z2-9]{4}", first
    ), first
    assert rest.startswith("Een professional die bij de bot is aangemeld, stuurt deze code")
    again = doorbraakbot(tmp_path, "deel", "3012")
    assert again.stdout.split("\n", 1)[0] != first  # a new code each time

    none = doorbraakbot(tmp_path, "deel", "4021")
    assert (none.returncode, none.stderr) == (1, "Er is geen plan voor huishouden 4021.\n")
    invalid = doorbraakbot(tmp_path, "deel", "Jansen")
    assert invalid.returncode == 2
    assert invalid.stderr.startswith("Dat is geen geldig huishoudnummer.")


def test_run_takes_the_key_from_a_key_file_and_names_it_when_there_is_none(
    jsonl: Any, tmp_path: Path
) -> None:
    # the terminal without DOORBRAAK_SECRET_KEY: it makes and uses <data dir>/secret.key
    terminal_plan(jsonl, DOORBRAAK_SECRET_KEY="")
    key_file = tmp_path / "secret.key"
    assert key_file.is_file()

    refused = doorbraakbot(tmp_path, "run", DOORBRAAK_SECRET_KEY="")
    assert refused.returncode == 2
    assert f"De terminal gebruikt het sleutelbestand {key_file}." in refused.stderr
    assert f"  DOORBRAAK_SECRET_KEY_FILE={key_file} doorbraakbot run\n" in refused.stderr
    assert "Traceback" not in refused.stderr

    # with the key file the bot gets past the key (and the database check): without a token
    # it stops at the token, which comes after
    started = doorbraakbot(
        tmp_path, "run", DOORBRAAK_SECRET_KEY="", DOORBRAAK_SECRET_KEY_FILE=str(key_file)
    )
    assert started.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in started.stdout and "@BotFather" in started.stdout
    assert "sleutel" not in started.stderr.lower()

    # a key file with another key is named as the key that does not fit
    other = tmp_path / "other.key"
    other.write_text(
        subprocess.run(
            [str(Path(sys.executable).with_name("doorbraakbot")), "genkey"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout,
        encoding="ascii",
    )
    wrong = doorbraakbot(
        tmp_path, "run", DOORBRAAK_SECRET_KEY="", DOORBRAAK_SECRET_KEY_FILE=str(other)
    )
    assert wrong.returncode == 1
    # `run` logs at INFO; the refusal is the last line
    assert wrong.stderr.splitlines()[-1].startswith(
        f"De sleutel in {other} past niet bij de database"
    )
