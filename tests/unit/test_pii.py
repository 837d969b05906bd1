"""The PII guard: BSN, IBAN, phone and e-mail found and left out; a plan stays anonymous."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs import Choose, Dialog, Error, Message, Question, Text
from dialogs.pii import Finding, find_pii, passes_11_proef, redact, valid_iban
from tests.unit.test_dialog import Plan

PLACEHOLDERS = {
    "bsn": "[BSN weggelaten]",
    "iban": "[IBAN weggelaten]",
    "telefoon": "[telefoonnummer weggelaten]",
    "email": "[e-mailadres weggelaten]",
}
STORE, RETYPE = "Opslaan zonder die gegevens", "Opnieuw typen"


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find_pii(text)]


# --- BSN ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bsn",
    [
        "123456782",
        "111222333",
        "983488253",
        "014139017",
        "1234.56.782",
        "1234 56 782",
        "123 456 782",
        "123-456-782",
        "123.456.782",
        "79825928",  # eight digits: the leading zero left out (079825928)
        "798.25.928",
    ],
)
def test_a_bsn_that_passes_the_11_proef_is_found(bsn: str) -> None:
    for text in (bsn, f"BSN: {bsn}.", f"Moeder (bsn {bsn}) woont hier"):
        assert found(text) == [("bsn", bsn)], text


@pytest.mark.parametrize(
    "text",
    [
        "123456789",  # fails the 11-proef
        "123456783",
        "1234.56.783",
        "123 456 789",
        "000000000",  # passes the sum, but is no number
        "12345678",  # 012345678 fails
        "1234567820",  # ten digits
        "12345678200",
        "1234567822 en 9834882530",
        "€ 123.456.782",  # an amount
        "123.456.782,00",
        "EUR 123 456 782",
        "1.052,32",
        "€ 1.052,32",
        "08012027",  # a date written without dashes (008012027 would pass the 11-proef)
        "20270124",
        "1234.567.82",  # not a grouping of a BSN
    ],
)
def test_numbers_that_are_no_bsn(text: str) -> None:
    assert found(text) == []


def test_the_11_proef() -> None:
    assert passes_11_proef("123456782")
    assert not passes_11_proef("123456789")
    assert not passes_11_proef("000000000")
    assert not passes_11_proef("12345678")
    assert passes_11_proef("008012027")  # why eight-digit dates are excluded explicitly


# --- IBAN --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "NL91ABNA0417164300",
        "NL91 ABNA 0417 1643 00",
        "nl91 abna 0417 1643 00",
        "NL02ABNA0123456789",
        "NL20 INGB 0001 2345 67",
        "BE68 5390 0754 7034",
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NO9386011117947",
    ],
)
def test_an_iban_with_a_valid_checksum_is_found(iban: str) -> None:
    for text in (iban, f"rekening {iban}, op naam van moeder"):
        assert found(text) == [("iban", iban)], text
    assert valid_iban(iban)


@pytest.mark.parametrize(
    "text",
    [
        "NL91 ABNA 0417 1643 01",  # wrong check digits
        "NL92ABNA0417164300",
        "NL91ABNA041716430",  # too short for NL
        "NL91ABNA04171643001",  # too long for NL
        "XX91ABNA0417164300",  # no such country
        "NL91 ABNA 0417 1643",
        "BE68 5390 0754 7035",
    ],
)
def test_iban_shaped_text_with_a_wrong_checksum_or_length_is_no_iban(text: str) -> None:
    assert found(text) == []


# --- phone -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "06-12345678",
        "06 1234 5678",
        "06 12 34 56 78",
        "0612345678",
        "+31 6 12345678",
        "+31612345678",
        "+31 (0)6 12345678",
        "+31 06 12345678",  # the 0 is wrong after +31, but common
        "+31-6-12345678",
        "0031 6 12345678",
        "0031612345678",
        "020-1234567",
        "010 123 4567",
        "0297-123456",
        "(020) 123 4567",
        "+31 20 123 4567",
    ],
)
def test_a_dutch_phone_number_is_found(phone: str) -> None:
    for text in (phone, f"Bel moeder op {phone}.", f"tel.:{phone}, na 17 uur"):
        assert found(text) == [("telefoon", phone)], text


@pytest.mark.parametrize(
    "text",
    [
        "06-1234567",  # nine digits
        "06-123456789",  # eleven digits
        "0612345678901",
        "1234567890",  # ten digits but no leading 0
        "0012345678",
        "+32 6 12345678",  # not Dutch
        "+316123456",
        "05-03-2027",  # dates
        "15-03-2027",
        "05-03-2027 10 uur",
        "0800-1234",
        "WT-3012",
        "1234 AB",
        "1234AB Utrecht",
    ],
)
def test_numbers_that_are_no_phone_number(text: str) -> None:
    assert found(text) == []


# --- e-mail ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "jan@example.nl",
        "j.de-vries+plan@gemeente.amsterdam",
        "Info@Wijkteam-Noord.NL",
        "moeder_1987@hotmail.com",
        "zoë@café.nl",
        "a@b.co.uk",
    ],
)
def test_an_email_address_is_found(email: str) -> None:
    for text in (email, f"Mail: {email}.", f"({email})", f"via {email}, of bellen"):
        assert found(text) == [("email", email)], text


@pytest.mark.parametrize(
    "text",
    ["jan@", "@gemeente", "jan@gemeente", "jan at gemeente dot nl", "a@b.c", "x @ y.nl", "@@"],
)
def test_text_that_is_no_email_address(text: str) -> None:
    assert found(text) == []


# --- written to get past a filter: full-width digits, invisible characters, [at] -----------------

FULL_WIDTH_BSN = "１１１２２２３３３"  # 111222333, which passes the 11-proef


@pytest.mark.parametrize(
    "text",
    [
        FULL_WIDTH_BSN,
        "１２３４５６７８２",
        "111\u200b222333",  # zero-width space
        "1112\u200c22333",  # zero-width non-joiner
        "11\u00ad1222333",  # soft hyphen
        "\u2060111222333\ufeff",  # word joiner, byte order mark
        "111\u00a0222\u00a0333",  # no-break spaces between the groups
        "１１１ ２２２ ３３３",
    ],
)
def test_a_bsn_in_other_digits_or_with_invisible_characters_is_found(text: str) -> None:
    answer = f"Het BSN is {text}, zegt moeder."
    assert found(answer) == [("bsn", text.strip("\u2060\ufeff"))]
    assert redact(answer, find_pii(answer), PLACEHOLDERS) == (
        "Het BSN is [BSN weggelaten], zegt moeder."
        if text[0] != "\u2060"
        else "Het BSN is \u2060[BSN weggelaten]\ufeff, zegt moeder."
    )


def test_redacting_a_disguised_bsn_keeps_the_text_around_it() -> None:
    text = "Zoë 👨‍👩‍👧 BSN １１１\u200b２２２３３３ en ﬁnanciën: € 1.052,32"
    assert redact(text, find_pii(text), PLACEHOLDERS) == (
        "Zoë 👨‍👩‍👧 BSN [BSN weggelaten] en ﬁnanciën: € 1.052,32"
    )


def test_a_phone_number_with_a_zero_width_space_is_found() -> None:
    assert found("bel 06\u200b1234\u200b5678") == [("telefoon", "06\u200b1234\u200b5678")]


@pytest.mark.parametrize(
    "email",
    [
        "jan[at]example.nl",
        "jan (at) example (dot) nl",
        "jan(at)example(punt)nl",
        "Jan [AT] Example [DOT] NL",
        "jan{at}example.nl",
        "jan (apenstaartje) example (punt) nl",
        "jan＠example．nl",  # full-width @ and .
        "jan@example.nl",
    ],
)
def test_an_email_address_written_around_a_filter_is_found(email: str) -> None:
    for text in (email, f"Mail: {email}.", f"via {email}, of bellen"):
        assert found(text) == [("email", email)], text


@pytest.mark.parametrize(
    "text",
    [
        "XX91 ABNA 0417 1643 00",  # no such country, grouped: its digits are no phone number
        "ZZ12 0612 3456 7890",
        "QQ00 0201 2345 6789 01",
    ],
)
def test_iban_shaped_text_with_an_unknown_country_is_nothing(text: str) -> None:
    assert found(text) == []
    assert found(f"rekening {text}, bel 0612345678") == [("telefoon", "0612345678")]


# --- everyday answers that contain none of these -----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Evaluatie op 15-03-2027, daarna 2027-06-15 en 15 maart 2027.",
        "Huishouden WT-3012 woont op 1234 AB sinds 2019.",
        "Schuld € 1.052,32; inkomen 1.500 per maand; huur 812,50.",
        "Drie kinderen van 12, 9 en 6; moeder 34.",
        "Om 10:30 uur bij het wijkteam, kamer 2.14.",
        "Zoë woont sinds 2019 in de wijk. 👨‍👩‍👧",
        "Dossier 2024-0012345, zaak 1234567890.",
        "Huur ８１２,５０ per maand sinds １５-０３-２０２４; schuld € 12.345,67.",
        "Afspraak op 01-02-2027 om 09:00, dan 2027\u200b-03-15 en 15\u00a0maart 2027.",
        "Inkomen € 1.500,00 netto, toeslag € 312,-, kinderbijslag €\u00a0291,83 per kwartaal.",
        "Woning van 45 m², 3 kamers, ½ jaar wachttijd; kosten 2.000 × 12 = 24.000.",
        "Ze is 34 (at the moment werkloos) en de zoon (punt 3 van het plan) zit op school.",
        "Afspraak met het wijkteam (at home) op maandag.",
    ],
)
def test_everyday_answers_are_left_alone(text: str) -> None:
    assert found(text) == []


def test_several_kinds_in_one_answer_are_all_found_in_order() -> None:
    text = "BSN 123456782, mail jan@example.nl, rekening NL91ABNA0417164300, 06-12345678."
    assert [kind for kind, _ in found(text)] == ["bsn", "email", "iban", "telefoon"]
    assert redact(text, find_pii(text), PLACEHOLDERS) == (
        "BSN [BSN weggelaten], mail [e-mailadres weggelaten], rekening [IBAN weggelaten], "
        "[telefoonnummer weggelaten]."
    )


def test_digits_inside_an_address_or_iban_are_not_found_again() -> None:
    assert found("0612345678@sms.example.nl") == [("email", "0612345678@sms.example.nl")]
    # the IBAN's last ten digits would make a phone number on their own
    assert found("NL91 ABNA 0417 1643 00") == [("iban", "NL91 ABNA 0417 1643 00")]
    assert found("NL91 ABNA 0417 1643 01") == []


def test_redact_without_placeholders_names_the_kind() -> None:
    text = "bel 0612345678"
    assert redact(text, find_pii(text)) == "bel [telefoon]"
    assert redact(text, []) == text
    assert redact("abc", [Finding("bsn", 1, 2)], PLACEHOLDERS) == "a[BSN weggelaten]c"


# --- properties --------------------------------------------------------------------------------

PIECES = [
    "123456782",
    "1234.56.782",
    "123 456 782",
    "79825928",
    "NL91ABNA0417164300",
    "NL91 ABNA 0417 1643 00",
    "06-12345678",
    "+31 6 12345678",
    "(020) 123 4567",
    "jan@example.nl",
    "15-03-2027",
    "€ 1.052,32",
    "WT-3012",
    "1234 AB",
    "NL",
    "+31",
    "06",
    "@",
    " ",
    ".",
    ",",
    "-",
]
texts = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(alphabet="0123456789 .,-+@()€NLabé", max_size=12)),
    max_size=12,
).map("".join)


@given(texts, st.sampled_from([PLACEHOLDERS, None]))
def test_nothing_is_found_after_redacting(text: str, placeholders: dict[str, str] | None) -> None:
    redacted = redact(text, find_pii(text), placeholders)
    assert find_pii(redacted) == []


@given(texts)
def test_findings_are_in_order_and_do_not_overlap(text: str) -> None:
    findings = find_pii(text)
    for before, after in pairwise(findings):
        assert before.end <= after.start
    assert all(0 <= f.start < f.end <= len(text) for f in findings)


@given(st.integers(min_value=0, max_value=999_999_999))
def test_nine_digits_are_a_bsn_exactly_when_they_pass_the_11_proef(number: int) -> None:
    digits = f"{number:09d}"
    weighted = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    expected = weighted % 11 == 0 and number != 0
    grouped = f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    for text, part in ((digits, digits), (f"bsn {digits}.", digits), (grouped, grouped)):
        assert found(text) == ([("bsn", part)] if expected else []), text


# --- in the dialog -----------------------------------------------------------------------------


def kinds_of(plan: Plan) -> list[type]:
    return [type(r) for r in plan.replies]


def test_a_bsn_in_a_text_answer_is_stored_only_without_it(plan: Plan) -> None:
    plan.answer_until("situatieschets.wat_speelt")
    plan.send("Moeder (BSN 123456782) heeft schulden; mail moeder@example.nl")
    assert "situatieschets.wat_speelt" not in plan.snapshot.answers
    assert plan.history[-1][0] != "situatieschets.wat_speelt"
    assert plan.errors() == [
        "Je antwoord lijkt een BSN en een e-mailadres te bevatten. Een plan blijft anoniem."
    ]
    question = plan.question
    assert (question.field, question.kind) == ("situatieschets.wat_speelt", "choice")
    assert question.choices == (STORE, RETYPE)
    redacted = "Moeder (BSN [BSN weggelaten]) heeft schulden; mail [e-mailadres weggelaten]"
    assert redacted in question.text
    assert "123456782" not in str(plan.snapshot.data)
    assert "moeder@example.nl" not in str(plan.snapshot.data)
    plan.send(STORE)
    assert plan.snapshot.answers["situatieschets.wat_speelt"] == redacted
    assert plan.question.field != "situatieschets.wat_speelt"
    assert "anoniem" not in plan.snapshot.data
    assert all("123456782" not in str(value) for _, value in plan.history)


def test_opnieuw_typen_asks_the_question_again(plan: Plan) -> None:
    plan.answer_until("situatieschets.wat_speelt")
    plan.send("Bellen via 06-12345678")
    assert "een telefoonnummer te bevatten" in plan.errors()[0]
    plan.send(RETYPE)
    assert kinds_of(plan) == [Message, Question]
    assert plan.question.field == "situatieschets.wat_speelt"
    assert plan.question.kind == "text"
    assert "situatieschets.wat_speelt" not in plan.snapshot.answers
    plan.send("Moeder heeft schulden")
    assert plan.snapshot.answers["situatieschets.wat_speelt"] == "Moeder heeft schulden"


def test_a_new_answer_instead_of_a_choice_is_taken_and_checked_again(plan: Plan) -> None:
    plan.answer_until("situatieschets.wat_speelt")
    plan.send("Bellen via 06-12345678")
    plan.send("Rekening NL91 ABNA 0417 1643 00 staat rood")
    assert plan.errors() == ["Je antwoord lijkt een IBAN te bevatten. Een plan blijft anoniem."]
    assert "Rekening [IBAN weggelaten] staat rood" in plan.question.text
    plan.send("De rekening staat rood")
    assert plan.snapshot.answers["situatieschets.wat_speelt"] == "De rekening staat rood"


def test_buttons_pick_the_choice_and_a_restart_asks_again(plan: Plan, dialog: Dialog) -> None:
    plan.answer_until("situatieschets.wat_speelt")
    plan.send("Contact: jan@example.nl")
    resumed = dialog.start(plan.snapshot)  # e.g. the bot was restarted in between
    assert [type(r) for r in resumed.replies] == [Error, Question]
    question = resumed.replies[-1]
    assert isinstance(question, Question)
    assert question.choices == (STORE, RETYPE)
    stopped = dialog.handle(plan.snapshot, Text("stop"))
    assert stopped.data.get("anoniem")
    plan.send("help")
    assert plan.question.choices == (STORE, RETYPE)
    plan.send(Choose(0))
    assert plan.snapshot.answers["situatieschets.wat_speelt"] == (
        "Contact: [e-mailadres weggelaten]"
    )


def test_moving_away_drops_the_offer(plan: Plan) -> None:
    plan.answer_until("situatieschets.wat_speelt")
    plan.send("Contact: jan@example.nl")
    plan.send("terug")
    assert "anoniem" not in plan.snapshot.data
    assert plan.question.field == "huishouden.overig"
    plan.send("overslaan")
    assert plan.question.field == "situatieschets.wat_speelt"
    assert plan.question.kind == "text"
    assert not plan.errors()


def test_an_iban_in_a_list_item(plan: Plan) -> None:
    plan.answer_until("huishouden.leeftijden")
    plan.send("moeder 34, rekening NL91ABNA0417164300\nkinderen 12 en 9")
    assert "een IBAN" in plan.errors()[0]
    assert "moeder 34, rekening [IBAN weggelaten]; kinderen 12 en 9" in plan.question.text
    assert "huishouden.leeftijden" not in plan.snapshot.answers
    plan.send("1")
    assert plan.snapshot.answers["huishouden.leeftijden"] == [
        "moeder 34, rekening [IBAN weggelaten]",
        "kinderen 12 en 9",
    ]


def test_a_longer_answer_without_the_data_must_still_fit(plan: Plan) -> None:
    title = "Plan " + "x" * 180 + " a@b.nl"  # 192 characters; 210 with the placeholder
    plan.send(title)
    assert len(plan.errors()) == 2
    assert "te lang" in plan.errors()[1]
    assert plan.question.kind == "text"
    assert "plan.titel" not in plan.snapshot.answers


def test_an_email_in_a_cost_line_description(plan: Plan) -> None:
    plan.answer_until("rendement.periode")
    plan.send("overslaan")
    plan.send("Vervoer naar school, afspraken via jan@example.nl")
    assert plan.errors() == [
        "Je antwoord lijkt een e-mailadres te bevatten. Een plan blijft anoniem."
    ]
    question = plan.question
    assert (question.part, question.kind, question.choices) == (
        "bevestig",
        "choice",
        (STORE, RETYPE),
    )
    assert "Vervoer naar school, afspraken via [e-mailadres weggelaten]" in question.text
    assert "jan@example.nl" not in str(plan.snapshot.data)
    plan.send(RETYPE)
    assert plan.question.part == "regel"
    plan.send("Vervoer naar school, mail jan@example.nl")
    plan.send(Choose(0))
    assert plan.question.part == "prijs"
    for text in ("40", "rit", "0", "2", "per week"):
        plan.send(text)
    line = plan.snapshot.answers["rendement.huidig"][0]
    assert line["omschrijving"] == "Vervoer naar school, mail [e-mailadres weggelaten]"


def test_a_cost_line_offer_survives_a_restart_and_a_new_description_is_checked(
    plan: Plan, dialog: Dialog
) -> None:
    plan.answer_until("rendement.periode")
    plan.send("overslaan")
    plan.send("Vervoer, bel 06-12345678")
    resumed = dialog.start(plan.snapshot)
    assert [type(r) for r in resumed.replies] == [Error, Question]
    plan.send("Vervoer, bsn 1234.56.782")
    assert "een BSN" in plan.errors()[0]
    plan.send("Vervoer naar school")
    assert plan.question.part == "prijs"
    assert "Vervoer naar school" in plan.question.text


@pytest.fixture
def plan(dialog: Dialog) -> Plan:
    return Plan(dialog)
