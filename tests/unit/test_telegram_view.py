"""Telegram formatting: message splitting, callback data, keyboards, escaping."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.telegram_view import (
    MAX_MESSAGE,
    Button,
    esc,
    keyboard,
    pressed_label,
    question_html,
    split_html,
    ticked_labels,
)
from dialogs import Interview, Question


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.ok = False


def balanced(part: str) -> bool:
    parser = _Balance()
    parser.feed(part)
    parser.close()
    return parser.ok and not parser.stack and not re.search(r"<[^>]*$|&[a-z]*$", part)


def test_short_messages_stay_whole() -> None:
    assert split_html("<b>kort</b>") == ["<b>kort</b>"]


def test_long_messages_split_on_paragraphs() -> None:
    paragraphs = [f"<b>Stap {n}</b>\n" + "tekst " * 150 for n in range(12)]
    text = "\n\n".join(paragraphs)
    parts = split_html(text)
    assert len(parts) > 1
    assert all(len(p) <= MAX_MESSAGE for p in parts)
    assert all(balanced(p) for p in parts)
    # nothing lost, and every cut fell between paragraphs
    assert "\n\n".join(parts) == text


words = st.text(alphabet="abc <>&é👍", min_size=1, max_size=12)


@given(st.lists(words, min_size=1, max_size=2500))
def test_one_huge_line_is_cut_outside_tags(chunks: list[str]) -> None:
    text = "<b>" + esc(" ".join(chunks)) + "</b>"
    parts = split_html(text, limit=500)
    assert all(len(p) <= 500 for p in parts)
    assert all(balanced(p) for p in parts), parts
    joined = "".join(re.sub(r"</?b>", "", p) for p in parts)
    assert joined.replace(" ", "") == esc(" ".join(chunks)).replace(" ", "")


def test_callback_data_round_trips_within_64_bytes() -> None:
    button = Button("c", 2_147_483_647, 2_147_483_647, 99)
    assert len(button.encode().encode()) <= 64
    assert Button.decode(button.encode()) == button
    for bad in (None, "", "z|1|2|3", "c|1|2", "c|a|2|3"):
        assert Button.decode(bad) is None


@pytest.mark.parametrize(
    "forged",
    [
        "c|99999999999999999999|0|0",  # beyond 64 bits: OverflowError in the driver
        "c|2147483648|0|0",  # beyond the 32-bit plan id column
        "c|0|0|0",
        "c|-1|0|0",
        "c|+1|0|0",
        "c| 1|0|0",
        "c|1_0|0|0",
        "c|١|0|0",  # an Arabic-Indic digit, which int() reads as 1
        "c|01|0|0",
        "c|1|2147483648|0",
        "x|1|0|2147483648",
        "x|1|0|" + "9" * 60,
        "c|1|0|0|0",
    ],
)
def test_forged_callback_data_is_refused(forged: str) -> None:
    assert Button.decode(forged) is None


def test_callback_data_at_the_bounds_is_taken() -> None:
    assert Button.decode("x|1|0|30000000") == Button("x", 1, 0, 30_000_000)
    assert Button.decode("h|2147483647|0|0") == Button("h", 2_147_483_647)


def test_question_html_escapes_user_text_and_shows_progress(spec: Interview) -> None:
    q = Question(
        field="plan.titel",
        kind="multichoice",
        text="Kies <b>iets</b> & meer",
        help=("<script>",),
        choices=("Wonen", "Werk"),
        max=1,
        required=False,
        step=2,
        steps=6,
        step_name="Toekomstperspectief",
        current="a < b",
        revision=7,
        selected=("Werk",),
    )
    text = question_html(q, spec, ideas=("<i>idee</i>",))
    assert text.startswith("<b>Stap 2 van 6: Toekomstperspectief</b>")
    assert "Kies &lt;b&gt;iets&lt;/b&gt; &amp; meer" in text
    assert "&lt;script&gt;" in text and "a &lt; b" in text and "&lt;i&gt;idee" in text
    markup = keyboard(q, spec, plan_id=3)
    assert markup is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows == [
        [("Wonen", "c|3|7|0")],
        [("✅ Werk", "c|3|7|1")],
        [("Klaar", "k|3|7|0")],
        [("Houden", "g|3|7|0")],  # an answer is stored: keep it
    ]


@pytest.mark.parametrize(
    ("required", "current", "part", "last"),
    [
        (False, None, "", ("Overslaan", "s|3|7|0")),
        (False, "Wonen", "", ("Houden", "g|3|7|0")),
        (True, "Wonen", "", ("Houden", "g|3|7|0")),
        (True, None, "", ("Wonen", "c|3|7|0")),
        (True, "Wonen", "eenheid", ("Wonen", "c|3|7|0")),  # a cost line's sub-question
    ],
)
def test_an_answered_question_offers_to_keep_its_answer(
    spec: Interview, required: bool, current: str | None, part: str, last: tuple[str, str]
) -> None:
    q = Question(
        field="huishouden.huisvesting",
        kind="choice",
        text="Woonsituatie",
        help=(),
        choices=("Wonen",),
        max=None,
        required=required,
        step=2,
        steps=6,
        step_name="Huishouden",
        current=current,
        revision=7,
        part=part,
    )
    markup = keyboard(q, spec, plan_id=3)
    assert markup is not None
    assert (
        markup.inline_keyboard[-1][0].text,
        markup.inline_keyboard[-1][0].callback_data,
    ) == last


def test_the_answer_a_press_gave_is_read_from_the_keyboard_seen(spec: Interview) -> None:
    q = Question(
        field="situatieschets.domeinen",
        kind="multichoice",
        text="Domeinen",
        help=(),
        choices=("Wonen", "Werk", "Zorg"),
        max=None,
        required=True,
        step=1,
        steps=6,
        step_name="Situatieschets",
        revision=4,
        selected=("Zorg", "Wonen"),
    )
    markup = keyboard(q, spec, plan_id=3)
    assert ticked_labels(markup) == ["Wonen", "Zorg"]  # in the order shown
    assert pressed_label(markup, "c|3|4|1") == "Werk"
    assert pressed_label(markup, "c|3|5|1") is None and pressed_label(None, "c|3|4|1") is None
    assert ticked_labels(None) == []
