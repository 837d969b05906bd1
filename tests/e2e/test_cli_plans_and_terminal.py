"""`doorbraakbot plans` and the terminal mode of `doorbraakbot chat`, as real subprocesses."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from dialogs import Interview
from tests.conftest import ROOT, env_for
from tests.e2e.protocol import Driver, doorbraakbot, kinds, question_of, stored_plan, walk


def cli(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return doorbraakbot(data_dir, *args, stdin=stdin)


def test_plans_lists_households_with_their_progress(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    empty = cli(tmp_path, "plans")
    assert (empty.returncode, empty.stdout) == (0, "Er zijn nog geen plannen.\n")

    finished = Driver(jsonl("5012"))
    seen = walk(finished, spec, finished.opening, {})
    assert kinds(seen[-3:]) == ["message", "document", "done"]
    assert finished.close() == 0

    open_plan = Driver(jsonl("3012"))
    open_plan.send("Plan in uitvoering")
    assert question_of(open_plan.send("Professional H"))["field"] == "plan.werkgebied"
    assert open_plan.stop() == 0

    result = cli(tmp_path, "plans")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    stamp = r"bijgewerkt \d{4}-\d{2}-\d{2} \d{2}:\d{2}"
    # before any cost line, the reason for no rendement counts as a question too
    total = sum(1 for f in spec.fields if f.when is None or f.when.empty)
    # most recently updated first
    assert re.fullmatch(
        rf"3012  concept  Stap 1 van 6 \(Situatieschets\), 2 van {total} vragen  {stamp}", lines[0]
    ), lines[0]
    assert re.fullmatch(rf"5012  klaar  Klaar, {total} van {total} vragen  {stamp}", lines[1]), (
        lines[1]
    )


def test_terminal_mode_shows_numbered_choices_and_takes_a_number(tmp_path: Path) -> None:
    answers = [
        "Plan via de terminal",
        "Professional I",
        "overslaan",  # werkgebied
        "overslaan",  # praktijkverbinder
        "overslaan",  # leeftijden
        "2",  # relatiestatus: Alleenstaande ouder
        *["overslaan"] * 6,  # huisvesting .. overig
        "Het huishouden zoekt een woning.",
        "1;3",  # domeinen: Wonen, Werk
        "stop",
    ]
    result = cli(tmp_path, "chat", "--household", "4021", stdin="\n".join(answers) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "[Stap 1 van 6: Situatieschets]" in out
    assert (
        "Wat is de relatiestatus? (niet verplicht: 'overslaan', of 'verder' voor de rest van"
        " de stap)\n  1. Alleenstaand\n"
    ) in out
    assert "  2. Alleenstaande ouder\n" in out
    assert "Typ het nummer of de tekst van je keuze." in out
    assert "Over welke domeinen gaat dit plan? Kies er hoogstens drie. (verplicht)" in out
    assert "  1. Wonen\n  2. Welzijn\n  3. Werk\n  4. Financieel\n  5. Opleiding\n" in out
    assert "Kies er hoogstens 3; scheid je keuzes met een puntkomma, bijvoorbeeld 1;3." in out
    assert "! " not in out  # no error was shown
    assert out.rstrip().endswith(
        "Gepauzeerd. Alles is bewaard; je gaat later verder waar je gebleven was."
    )

    answers_stored = stored_plan(tmp_path, "4021").answers
    assert answers_stored["huishouden.relatiestatus"] == "Alleenstaande ouder"
    assert answers_stored["situatieschets.domeinen"] == ["Wonen", "Werk"]
    assert stored_plan(tmp_path, "4021").state == "situatieschets.tegenaan"


def test_run_without_a_token_explains_how_to_get_one(tmp_path: Path) -> None:
    result = cli(tmp_path, "run")
    assert result.returncode == 2
    assert "@BotFather" in result.stdout
    assert "TELEGRAM_BOT_TOKEN" in result.stdout
    assert "doorbraakbot chat --household" in result.stdout
    assert "Traceback" not in result.stderr


def test_export_writes_each_format(jsonl: Any, spec: Interview, tmp_path: Path) -> None:
    driver = Driver(jsonl("3012"))
    walk(driver, spec, driver.opening, {})
    assert driver.close() == 0
    magic = {"pdf": b"%PDF", "docx": b"PK", "png": b"\x89PNG", "html": b"<!doctype html>"}
    for fmt, start in magic.items():
        result = cli(tmp_path, "export", "3012", "--format", fmt)
        assert result.returncode == 0, result.stderr
        path = tmp_path / "exports" / f"doorbraakplan-3012.{fmt}"
        assert path.read_bytes().startswith(start), fmt
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, fmt
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "export", "3012", "--format", "md", "-o", "-"],
        capture_output=True,
        env=env_for(tmp_path),
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert out.stdout.startswith(b"# ")


def test_terminal_refuses_a_line_that_is_not_utf8_and_goes_on(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--household", "4021"],
        input=b"Titel \xff kapot\nTitel na een kapotte regel\nstop\n",
        capture_output=True,
        env=env_for(tmp_path),
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    out = result.stdout.decode("utf-8")
    assert "! Deze invoer kan ik niet lezen: het is geen UTF-8-tekst." in out
    assert stored_plan(tmp_path, "4021").answers == {"plan.titel": "Titel na een kapotte regel"}


def test_terminal_shows_the_plan_and_writes_a_file_only_where_asked(tmp_path: Path) -> None:
    typed = "Plan dat de terminal toont\nplan\nstop\n"
    shown = cli(tmp_path, "chat", "--household", "4021", stdin=typed)
    assert shown.returncode == 0, shown.stderr
    assert "# Plan dat de terminal toont\n" in shown.stdout
    assert "Huishoudnummer: 4021" in shown.stdout
    assert not (tmp_path / "exports").exists()

    chosen = tmp_path / "plan-4021.md"
    written = cli(
        tmp_path, "chat", "--household", "4021", "--document", str(chosen), stdin="plan\nstop\n"
    )
    assert written.returncode == 0, written.stderr
    assert f"Het plan staat in {chosen}\n" in written.stdout
    assert "# Plan dat de terminal toont" not in written.stdout
    assert chosen.read_text(encoding="utf-8").startswith("# Plan dat de terminal toont\n")
    assert stat.S_IMODE(chosen.stat().st_mode) == 0o600
    # The Word file is offered under the document, and written next to it on request.
    assert f"Het plan staat in {chosen}\nOok als Word-bestand: typ 'word'.\n" in written.stdout
    assert not chosen.with_suffix(".docx").exists()
    word = cli(
        tmp_path, "chat", "--household", "4021", "--document", str(chosen), stdin="word\nstop\n"
    )
    assert word.returncode == 0, word.stderr
    assert f"Het Word-bestand staat in {chosen.with_suffix('.docx')}\n" in word.stdout
    assert chosen.with_suffix(".docx").read_bytes().startswith(b"PK")
    assert stat.S_IMODE(chosen.with_suffix(".docx").stat().st_mode) == 0o600
