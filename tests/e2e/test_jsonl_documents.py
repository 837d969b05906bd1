"""The plan document: shown, written only where the user chose (mode 0600), legacy files purged."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

import docx

from dialogs import Interview
from tests.e2e.protocol import Driver, doorbraakbot, kinds, question_of, walk

# Every text answer of sample_answer starts with this; no file may hold it in plain text.
ANSWER_TEXT = b"Antwoord over"


def files_holding(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_a_jsonl_interview_leaves_no_answer_text_on_disk(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    driver = Driver(jsonl("3012"))
    given: dict[str, str] = {}
    seen = walk(driver, spec, driver.opening, given)
    assert kinds(seen[-3:]) == ["message", "document", "done"]
    document = seen[-2]
    assert document["path"] is None
    assert given["plan.titel"] in document["text"]

    turn = driver.send("plan", until=("document",))
    assert kinds(turn) == ["document"] and turn[0]["path"] is None
    assert driver.close() == 0

    assert any(ANSWER_TEXT.decode() in answer for answer in given.values())
    assert files_holding(tmp_path, ANSWER_TEXT) == []
    assert not (tmp_path / "exports").exists()


def test_the_document_goes_to_the_chosen_path_with_mode_0600(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    chosen = tmp_path / "elders" / "plan-3012.md"
    chosen.parent.mkdir()
    # a file that was there, readable by all, is replaced, not left readable
    chosen.write_text("oud", encoding="utf-8")
    chosen.chmod(0o644)
    data_dir = tmp_path / "data"
    driver = Driver(jsonl("3012", "--document", str(chosen), DOORBRAAK_DATA_DIR=str(data_dir)))
    assert question_of(driver.send("Titel naar een gekozen bestand"))["field"] == (
        "plan.professional"
    )

    turn = driver.send("plan")
    assert kinds(turn) == ["document", "question"]
    assert turn[0]["path"] == str(chosen)
    assert stat.S_IMODE(chosen.stat().st_mode) == 0o600
    written = chosen.read_text(encoding="utf-8")
    assert written == turn[0]["text"]
    assert written.startswith("# Titel naar een gekozen bestand\n")
    assert [p.name for p in chosen.parent.iterdir()] == [chosen.name]  # no temporary file left

    walk(driver, spec, turn, {})
    assert stat.S_IMODE(chosen.stat().st_mode) == 0o600
    assert driver.close() == 0
    assert files_holding(data_dir, b"Titel naar een gekozen bestand") == []


def test_a_document_path_that_cannot_be_written_is_refused_at_the_start(tmp_path: Path) -> None:
    missing = tmp_path / "bestaat-niet" / "plan.md"
    result = doorbraakbot(tmp_path, "chat", "--household", "3012", "--document", str(missing))
    assert result.returncode == 2
    assert result.stderr == (
        f"Naar {missing} kan ik het plan niet schrijven: dat is een map, of de map eromheen"
        " bestaat niet. Kies een bestand in een bestaande map, bijvoorbeeld"
        " --document ~/plannen/3012.md.\n"
    )
    assert not (tmp_path / "plans.db").exists()


def test_purge_removes_the_plans_earlier_versions_wrote_to_the_export_folder(
    jsonl: Any, tmp_path: Path
) -> None:
    driver = Driver(jsonl("3012"))
    driver.send("Titel van een plan dat blijft")
    assert driver.stop() == 0
    exports = tmp_path / "exports"
    exports.mkdir()
    legacy = [exports / "doorbraakplan-3012.md", exports / "doorbraakplan-WT-77.md"]
    for path in legacy:
        path.write_text("# Titel van een plan dat blijft\n", encoding="utf-8")
    (exports / "doorbraakplan-3012.md.tmp").write_text("# half", encoding="utf-8")
    other = exports / "notities.md"
    other.write_text("van de gebruiker", encoding="utf-8")

    result = doorbraakbot(tmp_path, "purge")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "0 plannen verwijderd die langer dan 365 dagen niet zijn gewijzigd.",
        f"3 onversleutelde planbestanden (doorbraakplan-*.md) verwijderd uit {exports}.",
    ]
    assert sorted(p.name for p in exports.iterdir()) == ["notities.md"]
    assert files_holding(tmp_path, b"Titel van een plan dat blijft") == []
    # the plan itself is kept (it is recent), in the database
    assert "3012" in doorbraakbot(tmp_path, "plans").stdout


def test_the_word_file_on_request_goes_next_to_the_chosen_document(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    chosen = tmp_path / "plan-3012.md"
    word = tmp_path / "plan-3012.docx"
    driver = Driver(jsonl("3012", "--document", str(chosen)))
    driver.send("Titel voor een Word-bestand")
    turn = driver.send("plan")
    assert kinds(turn) == ["document", "question"] and turn[0]["also"] == ["docx"]
    assert not word.exists()  # only when asked for

    turn = driver.send("word")
    assert kinds(turn) == ["file", "question"]
    assert turn[0] == {"type": "file", "format": "docx", "path": str(word)}
    assert question_of(turn)["field"] == "plan.professional"  # the plan stays where it was
    assert stat.S_IMODE(word.stat().st_mode) == 0o600
    paragraphs = [p.text for p in docx.Document(io.BytesIO(word.read_bytes())).paragraphs]
    assert "Titel voor een Word-bestand" in "\n".join(paragraphs)

    seen = walk(driver, spec, turn, {})
    assert kinds(seen[-3:]) == ["message", "document", "done"]
    assert seen[-2]["also"] == ["docx"]
    # After `done`, as `plan`: the file alone.
    turn = driver.send("word", until=("file",))
    assert kinds(turn) == ["file"] and turn[0]["path"] == str(word)
    assert driver.close() == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".md", ".docx")) == [
        "plan-3012.docx",
        "plan-3012.md",
    ]


def test_without_a_chosen_document_word_writes_nothing(jsonl: Any, tmp_path: Path) -> None:
    driver = Driver(jsonl("3012"))
    turn = driver.send("plan")
    assert turn[0]["also"] == []  # nowhere chosen to put a file
    turn = driver.send("word")
    assert kinds(turn) == ["message", "question"]
    assert "--document" in turn[0]["text"]
    assert question_of(turn)["field"] == "plan.titel"
    assert driver.close() == 0
    assert list(tmp_path.rglob("*.docx")) == []
