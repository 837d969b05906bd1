"""Bad input through the JSONL protocol: a clear Dutch error, the same question, nothing stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dialogs import Interview
from tests.conftest import ROOT, env_for
from tests.e2e.protocol import (
    Driver,
    assert_refused,
    field_block,
    kinds,
    md,
    question_of,
    stored_history,
    stored_plan,
    walk,
)

EMPTY = "Je antwoord is leeg. Typ een antwoord, of 'overslaan' als de vraag niet verplicht is."
NOT_JSON = 'Ongeldige invoer: verwacht één JSON-object per regel, zoals {"text": "mijn antwoord"}.'
NOT_UTF8 = "Ongeldige invoer: deze regel is geen UTF-8-tekst. Stuur elke regel in UTF-8."
LONE_SURROGATE = (
    "Ongeldige invoer: de tekst bevat een teken dat niet bestaat (een losse surrogaat zoals"
    " \\ud800). Typ het antwoord opnieuw."
)
HOUSEHOLD_INVALID = (
    "Dat is geen geldig huishoudnummer. Een huishoudnummer heeft hoogstens 32 letters, cijfers"
    " en streepjes, minstens één cijfer en geen spaties, bijvoorbeeld 3012 of WT-3012. Gebruik"
    " nooit een naam."
)
UNICODE = "👨‍👩‍👧 Zoë's ñ 中文"


def skip_to(driver: Driver, turn: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """Pass over (optional) questions until `field` is asked."""
    while question_of(turn)["field"] != field:
        turn = driver.send("overslaan")
        assert "error" not in kinds(turn), turn
    return turn


def long_text(length: int) -> str:
    """Plain sentences (no Markdown specials) of exactly `length` characters."""
    sentences = " ".join(
        f"Zin {n:05d} over de situatie van het huishouden." for n in range(length // 40 + 1)
    )
    return sentences[:length].rstrip() + "x" * (length - len(sentences[:length].rstrip()))


def test_blank_answers_and_unknown_commands_are_refused(jsonl: Any, tmp_path: Path) -> None:
    driver = Driver(jsonl("3012"))
    field = question_of(driver.opening)["field"]
    assert field == "plan.titel"
    for text in ("", "   ", "\t \n "):
        assert_refused(driver.send(text), EMPTY, field)
    assert_refused(
        driver.send("/foo"),
        "Die opdracht ken ik niet (foo). Typ 'help' voor wat je kunt doen.",
        field,
    )
    assert_refused(
        driver.send("T" * 201),
        "Je antwoord is te lang (hoogstens 200 tekens). Maak het korter.",
        field,
    )
    assert driver.stop() == 0
    assert stored_history(tmp_path) == []
    assert stored_plan(tmp_path).state == "plan.titel"


def test_lines_that_are_not_json_text_are_refused_and_the_question_asked_again(
    jsonl: Any, tmp_path: Path
) -> None:
    driver = Driver(jsonl("3012"))
    bad_lines = ["dit is geen json", '{"tekst": "Titel"}', '{"text": 5}', '["Titel"]']
    for line in bad_lines:
        driver.write(line)
    driver.write(json.dumps({"text": "Titel na foute regels"}))
    # read everything up to the question after the title, however the bad lines were answered
    items: list[dict[str, Any]] = []
    while not items or items[-1].get("field") != "plan.professional":
        turn = driver.read_turn()
        assert turn, f"stuck after {items}"
        items += turn

    refused = [("error", NOT_JSON), ("question", "plan.titel")]
    assert [(i["type"], i.get("text") if i["type"] == "error" else i["field"]) for i in items] == [
        *refused * len(bad_lines),
        ("question", "plan.professional"),
    ]
    assert [a.field for a in stored_history(tmp_path)] == ["plan.titel"]


@pytest.mark.parametrize("household", ["30 12", "Jansen", "1" * 200])
def test_an_invalid_household_number_exits_with_code_2(tmp_path: Path, household: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--household", household, "--jsonl"],
        input='{"text": "Titel"}\n',
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env_for(tmp_path),
        cwd=ROOT,
        timeout=30,
    )
    assert result.returncode == 2
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"type": "error", "text": HOUSEHOLD_INVALID}
    ]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "plans.db").exists()  # nothing stored, not even a plan


def test_wrong_choices_and_amounts_are_refused(jsonl: Any, tmp_path: Path) -> None:
    driver = Driver(jsonl("3012"))
    driver.send("Plan met foute invoer")
    turn = skip_to(driver, driver.send("Professional E"), "huishouden.relatiestatus")

    field = "huishouden.relatiestatus"
    choices = (
        "Dat is geen van de keuzes. Kies uit: Alleenstaand, Alleenstaande ouder, Samenwonend,"
        " Gehuwd of geregistreerd partnerschap, Gescheiden of uit elkaar, Weduwe of weduwnaar,"
        " Anders."
    )
    for text in ("Samenwonend en gelukkig", "8", "0"):
        assert_refused(driver.send(text), choices, field)
    turn = skip_to(driver, driver.send("samenwonend"), "huishouden.inkomen")

    field = "huishouden.inkomen"
    unreadable = "Dat is geen bedrag dat ik kan lezen. Typ het als 1.052,32 of 65."
    assert_refused(driver.send("abc"), unreadable, field)
    assert_refused(driver.send("-5"), "Een bedrag kan niet negatief zijn.", field)
    assert_refused(driver.send("10^12"), unreadable, field)
    too_high = "Dat bedrag is hoger dan € 10 miljoen; controleer het en typ het opnieuw."
    assert_refused(driver.send("1000000000000"), too_high, field)
    assert_refused(
        driver.send("€ 12,3456"), "Een bedrag heeft hoogstens twee cijfers achter de komma.", field
    )
    turn = skip_to(driver, driver.send("overslaan"), "situatieschets.wat_speelt")
    turn = driver.send("Het huishouden dreigt de woning te verliezen.")

    field = "situatieschets.domeinen"
    assert question_of(turn)["field"] == field
    assert_refused(
        driver.send("Wonen;Welzijn;Werk;Financieel"),
        "Je koos er 4; je mag er hoogstens 3 kiezen.",
        field,
    )
    assert_refused(
        driver.send("Wonen;Fietsen"),
        "'Fietsen' is geen van de keuzes. Kies uit: Wonen, Welzijn, Werk, Financieel, Opleiding.",
        field,
    )
    # nothing of the refused answers was stored
    assert stored_plan(tmp_path).answers == {
        "plan.titel": "Plan met foute invoer",
        "plan.professional": "Professional E",
        "huishouden.relatiestatus": "Samenwonend",
        "situatieschets.wat_speelt": "Het huishouden dreigt de woning te verliezen.",
    }
    assert len(stored_history(tmp_path)) == 4

    turn = driver.send("Opleiding; wonen; 3")
    assert question_of(turn)["field"] == "situatieschets.tegenaan"
    assert driver.stop() == 0
    assert stored_plan(tmp_path).answers[field] == ["Wonen", "Werk", "Opleiding"]


def test_long_and_unicode_answers_are_kept_verbatim(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    spec_field = "situatieschets.wat_speelt"
    driver = Driver(jsonl("3012"))
    assert question_of(driver.send(UNICODE))["field"] == "plan.professional"
    turn = driver.send("terug")
    assert (question_of(turn)["field"], question_of(turn)["current"]) == ("plan.titel", UNICODE)
    driver.send("overslaan")  # keeps the answer
    turn = skip_to(driver, driver.send(f"Professional {UNICODE}"), spec_field)

    assert_refused(
        driver.send(long_text(50_001)),
        "Je antwoord is te lang (hoogstens 50.000 tekens). Maak het korter.",
        spec_field,
    )
    text = long_text(20_000)
    assert len(text) == 20_000
    assert question_of(driver.send(text))["field"] == "situatieschets.domeinen"

    turn = driver.send("plan")
    assert kinds(turn) == ["document", "question"]
    markdown = turn[0]["text"]
    assert markdown.startswith(f"# {UNICODE}\n")
    assert f"\n{md(text)}\n" in field_block(spec, markdown, spec_field)
    assert f"\nProfessional {UNICODE}\n" in field_block(spec, markdown, "plan.professional")

    assert driver.stop() == 0
    answers = stored_plan(tmp_path).answers
    assert answers["plan.titel"] == UNICODE
    assert answers["plan.professional"] == f"Professional {UNICODE}"
    assert answers[spec_field] == text


def test_a_non_date_is_refused_for_a_date_field(
    jsonl: Any, spec: Interview, tmp_path: Path
) -> None:
    driver = Driver(jsonl("3012"))
    given: dict[str, str] = {}
    seen = walk(driver, spec, driver.opening, given, until="actieplan.evaluatie")
    field = question_of(seen)["field"]
    assert field == "actieplan.evaluatie"
    no_date = (
        "Dat is geen datum die ik ken. Typ een datum als 15-03-2027, 15 maart 2027, "
        "1 april of over 3 maanden."
    )
    # `morgen` and `15-03` are dates since issue 13 (forgiving Dutch input).
    for text in ("binnenkort", "31-02-2027", "15 maartje 2027", "2027"):
        assert_refused(driver.send(text), no_date, field)
    assert_refused(driver.send(" "), EMPTY, field)
    assert field not in stored_plan(tmp_path).answers

    turn = driver.send("15 maart 2037")
    assert question_of(turn)["field"] == "actieplan.evaluatie_ritme"  # then rhythm, criteria
    assert stored_plan(tmp_path).answers[field] == "2037-03-15"


UNREADABLE_LINES = [
    # (raw bytes of one line, the error it gets)
    (b'{"text": "a\xff b"}', NOT_UTF8),
    (b"\xc3", NOT_UTF8),
    (b'{"text": "\\ud800"}', LONE_SURROGATE),
    (b'{"text": "Titel \\udfff"}', LONE_SURROGATE),
    (b"[" * 1_000, NOT_JSON),
    (b'{"text": ' * 100_000, NOT_JSON),
]


def test_lines_that_cannot_be_read_get_an_error_and_the_process_goes_on(
    jsonl: Any, tmp_path: Path
) -> None:
    driver = Driver(jsonl("3012"))
    stdin = driver.process.proc.stdin
    assert stdin is not None
    for raw, message in UNREADABLE_LINES:
        stdin.buffer.write(raw + b"\n")
        stdin.flush()
        turn = driver.read_turn()
        assert_refused(turn, message, "plan.titel")

    turn = driver.send("Titel na onleesbare regels")
    assert question_of(turn)["field"] == "plan.professional"
    assert driver.stop() == 0
    assert "Traceback" not in driver.stderr()
    assert [a.field for a in stored_history(tmp_path)] == ["plan.titel"]
    assert stored_plan(tmp_path).answers == {"plan.titel": "Titel na onleesbare regels"}
