"""A cost line in one message, and lines taken over in one question each, over JSON lines."""

from __future__ import annotations

from typing import Any

from dialogs import Interview
from tests.conftest import last_question, sample_answer
from tests.e2e.protocol import plain


def at_costs(jsonl: Any, spec: Interview) -> tuple[Any, list[dict[str, Any]]]:
    """A real process at the first cost field, the period left at a year."""
    process = jsonl("3012")
    turn = process.opening
    while last_question(turn)["field"] != "rendement.periode":
        turn = process.send(sample_answer(spec.field(last_question(turn)["field"])))
    return process, process.send("overslaan")


def messages(turn: list[dict[str, Any]]) -> list[str]:
    return [plain(t["text"]) for t in turn if t["type"] == "message"]


def test_a_line_in_one_message_is_stored_and_read_back(jsonl: Any, spec: Interview) -> None:
    process, turn = at_costs(jsonl, spec)
    assert last_question(turn)["part"] == "regel"
    assert "Inzet wijkteam: 2 uur per week à € 65" in plain(last_question(turn)["text"])
    turn = process.send("Inzet generalist wijkteam: 2 uur per week à € 65")
    assert messages(turn) == [
        "Inzet generalist wijkteam: 2 uur per week × € 65,00 per uur = € 130,00 per week"
        " → € 6.760,00 per jaar"
    ]
    question = last_question(turn)
    assert question["part"] == "regel"
    assert "1. Inzet generalist wijkteam: € 6.760" in plain(question["text"])
    assert process.close() == 0


def test_a_line_without_its_price_asks_only_the_price(jsonl: Any, spec: Interview) -> None:
    process, _ = at_costs(jsonl, spec)
    turn = process.send("Vervoer naar school: 40 stuks per maand")
    assert [t["type"] for t in turn] == ["question"]
    assert last_question(turn)["part"] == "prijs"
    turn = process.send("€ 12,50")
    assert messages(turn) == [
        "Vervoer naar school: 40 stuks per maand × € 12,50 per stuk = € 500,00 per maand"
        " → € 6.000,00 per jaar"
    ]
    assert last_question(turn)["part"] == "regel"
    assert process.close() == 0


def test_lines_taken_over_take_one_question_each(jsonl: Any, spec: Interview) -> None:
    process, _ = at_costs(jsonl, spec)
    for line in (
        "Inzet wijkteam: 2 uur per week à 65",
        "Opvang: 182 dagen à 100",
        "Vervoer: 2 stuks per maand à 15",
        "Huur: 12 maanden à 650",
    ):
        process.send(line)
    turn = process.send("Klaar")
    assert last_question(turn)["part"] == "hergebruik"
    turn = process.send("Ja, overnemen")
    question = last_question(turn)
    assert question["part"] == "hergebruik_aantal"
    assert question["choices"] == ["Zelfde", "0", "Weglaten"]
    assert "overslaan" not in question["text"]
    read_back = []
    for answer in ("Zelfde", "Weglaten", "0", "3"):  # the last: a typed quantity
        turn = process.send(answer)
        read_back += messages(turn)
    assert last_question(turn)["part"] == "regel"
    assert read_back == [
        "Inzet wijkteam: 2 uur per week × € 65,00 per uur = € 130,00 per week"
        " → € 6.760,00 per jaar",
        "Vervoer: 0 stuks per maand × € 15,00 per stuk = € 0,00 per maand → € 0,00 per jaar",
        "Huur: 3 maanden × € 650,00 per maand = € 1.950,00 per jaar",
    ]
    assert "Opvang" not in plain(last_question(turn)["text"])
    assert process.close() == 0


def test_the_step_by_step_way_still_works(jsonl: Any, spec: Interview) -> None:
    process, _ = at_costs(jsonl, spec)
    for answer, part in (
        ("Vervoer", "prijs"),
        ("15", "eenheid"),
        ("stuk", "aantal"),
        ("2", "frequentie"),
        ("per maand", "regel"),
    ):
        turn = process.send(answer)
        assert last_question(turn)["part"] == part, answer
    assert messages(turn)[0].startswith("Vervoer: 2 stuks per maand × € 15,00 per stuk")
    assert process.close() == 0
