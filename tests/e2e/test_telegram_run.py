"""`doorbraakbot run` as a real process, talking HTTP to a stand-in Telegram Bot API.

A whole plan is made over Telegram: typed answers, button presses and a restart of the bot in
the middle (an answer typed while it was down still arrives), up to the summary document.
"""

from __future__ import annotations

import html
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pypdf

from dialogs import Field, Interview, Kind
from tests.conftest import ROOT, env_for, sample_answer
from tests.support.botapi import BotApiStandIn, Call

CHAT = 1001  # the private chat of the stand-in's default user
WAIT = 15.0
PROGRESS = re.compile(r"<b>Stap (\d+) van (\d+): ")
PRIVATE_COMMANDS = {
    "start",
    "nieuw",
    "hervat",
    "overzicht",
    "terug",
    "overslaan",
    "wijzig",
    "plan",
    "stop",
    "help",
}
GROUP_COMMANDS = {
    "sessie",
    "idee",
    "overzicht",
    "terug",
    "overslaan",
    "wijzig",
    "plan",
    "stop",
    "help",
}
# Calls that are no reply to the user.
QUIET = ("getUpdates", "answerCallbackQuery")


def buttons(markup: Any) -> dict[str, str]:
    """Button label -> callback data of an inline keyboard."""
    if not isinstance(markup, dict):
        return {}
    return {
        button["text"]: button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    }


def is_question(call: Call) -> bool:
    text = str(call.params.get("text", ""))
    return call.method == "sendMessage" and not call.failed and bool(PROGRESS.search(text))


class BotProcess:
    """The real bot (`python -m bot run`), started and killed as often as a test likes."""

    def __init__(self, stand_in: BotApiStandIn, data_dir: Path) -> None:
        self.stand_in = stand_in
        self.data_dir = data_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        self._files: list[IO[bytes]] = []
        # More environment for the next start (a test-only DOORBRAAK_TEST_NOW, say).
        self.env: dict[str, str] = {}

    def start(self) -> float:
        """Start the bot; returns the time (`Call.at`) from which its calls count.

        A killed bot's last long poll may still be recorded after that: it came in before.
        """
        assert self.proc is None or self.proc.poll() is not None, "bot already running"
        started = time.monotonic()
        number = len(self.logs) + 1
        out_path = self.data_dir / f"bot-{number}.out"
        err_path = self.data_dir / f"bot-{number}.err"
        self.logs += [out_path, err_path]
        out, err = out_path.open("wb"), err_path.open("wb")
        self._files += [out, err]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env_for(
                self.data_dir,
                TELEGRAM_BOT_TOKEN=self.stand_in.token,
                TELEGRAM_API_BASE_URL=self.stand_in.base_url,
                PTB_TIMEDELTA="true",
                **self.env,
            ),
            cwd=ROOT,
            stdout=out,
            stderr=err,
        )
        return started

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL: no shutdown, no last getUpdates confirming anything
        if self.proc is not None:
            self.proc.wait(timeout=10)
        for file in self._files:
            file.close()
        self._files = []

    def log(self) -> str:
        parts = []
        for path in self.logs:
            text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
            parts.append(f"--- {path.name} ---\n{text[-4000:]}")
        return "\n".join(parts)

    def wait(self, predicate: Callable[[list[Call]], bool], what: str) -> list[Call]:
        """Wait for the stand-in's calls to satisfy `predicate`; fail fast if the bot died."""
        proc = self.proc
        assert proc is not None

        def done(calls: list[Call]) -> bool:
            return predicate(calls) or proc.poll() is not None

        try:
            calls = self.stand_in.wait_for(done, timeout=WAIT)
        except AssertionError as exc:
            raise AssertionError(f"waiting for {what}: {exc}\n{self.log()}") from None
        if not predicate(calls):
            raise AssertionError(f"bot exited ({proc.returncode}) awaiting {what}\n{self.log()}")
        return calls


class Chat:
    """Sanne's private chat with the bot: pushes one update at a time and waits for the reply."""

    def __init__(self, stand_in: BotApiStandIn, bot: BotProcess, spec: Interview) -> None:
        self.stand_in = stand_in
        self.bot = bot
        self.spec = spec
        self.callbacks = 0
        # A question shows its text in bold; a costs field adds its lines and a prompt to it.
        self._by_text = {
            re.compile(re.escape(f"<b>{html.escape(f.text, quote=False)}") + "(?:</b>|\n)"): f
            for f in spec.fields
        }

    # --- what the bot said -----------------------------------------------------------------

    def questions(self) -> list[Call]:
        return [call for call in self.stand_in.calls_of("sendMessage") if is_question(call)]

    def field_of(self, call: Call) -> Field:
        text = str(call.params["text"])
        found = [field for marker, field in self._by_text.items() if marker.search(text)]
        assert len(found) == 1, f"no single field in question {text!r}"
        return found[0]

    def current(self) -> tuple[Field, dict[str, str]]:
        """The field asked last, and the buttons it has now (ticks edit them in place)."""
        question = self.questions()[-1]
        markup = question.params.get("reply_markup")
        for call in self.stand_in.calls_of("editMessageReplyMarkup"):
            if call.at >= question.at:
                markup = call.params.get("reply_markup")
        return self.field_of(question), buttons(markup)

    def message_id_of(self, data: str) -> int:
        """The id the stand-in gave the bot's message that carries this button.

        `Call` records requests, not results, so this reads the stand-in's message store.
        """
        with self.stand_in._cond:
            ids = [
                message_id
                for (chat, message_id), message in self.stand_in._messages.items()
                if chat == CHAT and data in buttons(message.get("reply_markup")).values()
            ]
        assert ids, f"no message with button {data!r}"
        return max(ids)

    # --- updates ---------------------------------------------------------------------------

    def type_while_down(self, text: str) -> None:
        """Kill the bot, type a message, start the bot again and wait for its reply."""
        # What was answered is confirmed to Telegram (a later getUpdates had the offset):
        # a killed bot is never handed an update it had already handled.
        self.bot.wait(lambda _: not self.stand_in.pending_updates(), "the confirmed updates")
        self.bot.kill()
        self.stand_in.push_update(self.stand_in.text_update(text, user_id=CHAT))
        assert len(self.stand_in.pending_updates()) == 1
        first = len(self.stand_in.calls)
        check_startup(self.bot, self.bot.start())
        self.bot.wait(
            lambda calls: any(is_question(call) for call in calls[first:]),
            f"the reply to {text!r}, typed while the bot was down",
        )
        self.bot.wait(lambda _: not self.stand_in.pending_updates(), "the update confirmed")

    def register(self) -> None:
        """Register with an invite code made on the command line, as a new professional does."""
        made = subprocess.run(
            [sys.executable, "-m", "bot.cli", "invite", "--team", "Noord"],
            capture_output=True,
            text=True,
            env=env_for(self.bot.data_dir),
            cwd=ROOT,
            timeout=60,
            check=True,
        )
        code = re.search(r"UIT-[A-Z0-9]{4}-[A-Z0-9]{4}", made.stdout)
        assert code is not None, made.stdout
        # Before registering, the bot refuses politely and stores nothing.
        first = len(self.stand_in.calls)
        self.stand_in.push_update(self.stand_in.text_update("/nieuw 3012", user_id=CHAT))
        refused = self.bot.wait(
            lambda calls: any(c.method == "sendMessage" for c in calls[first:]), "a refusal"
        )
        assert "alleen voor professionals" in self.stand_in.sent_texts()[-1], refused[-1:]
        first = len(self.stand_in.calls)
        self.stand_in.push_update(self.stand_in.text_update(code.group(0), user_id=CHAT))
        self.bot.wait(
            lambda calls: any(c.method == "sendMessage" for c in calls[first:]), "a welcome"
        )
        assert "Je bent aangemeld" in self.stand_in.sent_texts()[-1]

    def type(self, text: str) -> None:
        """Type a message and wait for the next question (or the final document)."""
        first = len(self.stand_in.calls)
        self.stand_in.push_update(self.stand_in.text_update(text, user_id=CHAT))
        self.bot.wait(
            lambda calls: any(
                is_question(call) or call.method == "sendDocument" for call in calls[first:]
            ),
            f"the reply to {text!r}",
        )

    def message(self, text: str, starts: str) -> Call:
        """Type a message and wait for the bot's message that starts with `starts`."""
        first = len(self.stand_in.calls)
        self.stand_in.push_update(self.stand_in.text_update(text, user_id=CHAT))
        return self._message_since(first, starts, f"the reply to {text!r}")

    def after_press(self, data: str, starts: str) -> Call:
        """Press a button and wait for the bot's message that starts with `starts`."""
        first = len(self.stand_in.calls)
        self.press(data, expect="")
        return self._message_since(first, starts, f"the message after button {data!r}")

    def _message_since(self, first: int, starts: str, what: str) -> Call:
        def sent(call: Call) -> bool:
            text = html.unescape(str(call.params.get("text", "")))
            return call.method == "sendMessage" and not call.failed and text.startswith(starts)

        calls = self.bot.wait(lambda calls: any(sent(c) for c in calls[first:]), what)
        return next(c for c in calls[first:] if sent(c))

    def press(
        self, data: str, *, expect: str = "sendMessage", message_id: int | None = None
    ) -> Call:
        """Press a button; wait for its answerCallbackQuery and for `expect` (a question,
        or editMessageReplyMarkup for a tick, or "" for nothing else). Returns the answer.

        The button is under the message that carries it now, or under `message_id` (a
        keyboard the bot has taken away, still shown by a slow client)."""
        first = len(self.stand_in.calls)
        carrier = self.message_id_of(data) if message_id is None else message_id
        update = self.stand_in.callback_update(data, user_id=CHAT, message_id=carrier)
        self.stand_in.push_update(update)
        self.callbacks += 1

        def answered(calls: list[Call]) -> bool:
            new = [call for call in calls[first:] if not call.failed]
            if not any(call.method == "answerCallbackQuery" for call in new):
                return False
            if expect == "sendMessage":
                return any(is_question(call) or call.method == "sendDocument" for call in new)
            return not expect or any(call.method == expect for call in new)

        calls = self.bot.wait(answered, f"the answer to button {data!r}")
        return next(call for call in calls[first:] if call.method == "answerCallbackQuery")

    def answer(self, field: Field, keys: dict[str, str]) -> str | list[str]:
        """Answer `field` as a user would; returns what was given (labels for buttons)."""
        if field.kind is Kind.CHOICE:
            label = sample_answer(field)
            self.press(keys[label])
            return label
        if field.kind is Kind.MULTICHOICE:
            labels = list(field.choices[:2])
            for label in labels:
                self.press(keys[label], expect="editMessageReplyMarkup")
                _, keys = self.current()
                assert f"✅ {label}" in keys, keys
            [done] = [data for data in keys.values() if data.startswith("k|")]
            self.press(done)
            return labels
        text = sample_answer(field)  # "Klaar" for a costs field: no cost lines
        self.type(text)
        return text


def check_startup(bot: BotProcess, started: float) -> None:
    """getMe, the command menus, deleteWebhook keeping pending updates, then polling."""

    def since(calls: list[Call]) -> list[Call]:
        return [call for call in calls if call.at >= started]

    calls = since(
        bot.wait(
            lambda calls: any(call.method == "getUpdates" for call in since(calls)),
            "the bot's startup",
        )
    )
    methods = [call.method for call in calls]
    assert methods[:4] == ["getMe", "setMyCommands", "setMyCommands", "deleteWebhook"], methods
    assert methods[4] == "getUpdates", methods
    assert not any(call.failed for call in calls[:5])
    menus = {
        call.params["scope"]["type"]: {command["command"] for command in call.params["commands"]}
        for call in calls[1:3]
    }
    assert menus.keys() == {"all_private_chats", "all_group_chats"}
    assert menus["all_private_chats"] >= PRIVATE_COMMANDS
    assert menus["all_group_chats"] >= GROUP_COMMANDS
    for call in calls[1:3]:
        assert all(command["description"] for command in call.params["commands"])
    assert calls[3].params.get("drop_pending_updates") is not True


def test_whole_plan_over_telegram_with_a_restart(
    stand_in: BotApiStandIn, bot: BotProcess, spec: Interview
) -> None:
    check_startup(bot, bot.start())
    chat = Chat(stand_in, bot, spec)
    chat.register()
    chat.type("/nieuw 3012")
    opening = chat.questions()[0].params["text"]
    assert opening.startswith("Nieuw doorbraakplan voor huishouden 3012.")

    given: dict[str, str | list[str]] = {}
    asked: list[str] = []
    restarted = False
    while not stand_in.calls_of("sendDocument"):
        field, keys = chat.current()
        assert field.key not in asked, f"{field.key} asked twice"
        asked.append(field.key)
        if field.key == "toekomstperspectief.lange_termijn" and not restarted:
            # Step 2 is half answered: the bot dies, and the answer is typed meanwhile.
            given[field.key] = sample_answer(field)
            chat.type_while_down(str(given[field.key]))
            restarted = True
            continue
        given[field.key] = chat.answer(field, keys)

    assert restarted
    questions = chat.questions()
    after_restart = chat.field_of(questions[asked.index("toekomstperspectief.lange_termijn") + 1])
    assert after_restart.key == "overzicht.zelf"
    # Every field was asked once, in the order of the interview (the `when` fields on
    # "Anders, namelijk" are skipped: it was not ticked).
    expected = [f.key for f in spec.fields if not f.key.endswith(".wetten_anders")]
    assert asked == expected

    # Every button press was answered, so no client is left with a spinning button.
    assert len(stand_in.calls_of("answerCallbackQuery")) == chat.callbacks > 0
    headers = [PROGRESS.findall(str(call.params["text"])) for call in questions]
    assert all(len(found) == 1 for found in headers), headers
    steps = [int(step) for [(step, total)] in headers if total == "6"]
    assert len(steps) == len(questions)
    assert steps == sorted(steps) and steps[0] == 1 and steps[-1] == 6, steps
    texts = stand_in.sent_texts()
    assert any(text.startswith("Waardendriehoek\n") for text in texts), texts
    assert not [text for text in texts if "⚠️" in text]  # no answer was refused
    # No press was refused as stale either: an answer to a press carries no text then.
    assert not [c for c in stand_in.calls_of("answerCallbackQuery") if c.params.get("text")]

    # The plan as PDF ("sending a file…" before it); Word and the chart on request.
    stand_in.wait_for_call("sendDocument")
    calls = [call for call in stand_in.calls if call.method != "getUpdates" and not call.failed]
    documents = stand_in.calls_of("sendDocument")
    for document in documents:
        before_document = calls[calls.index(document) - 1]
        assert before_document.method == "sendChatAction"
        assert before_document.params == {"chat_id": CHAT, "action": "upload_document"}
        assert document.params["chat_id"] == CHAT
    assert [d.filenames["document"] for d in documents] == ["doorbraakplan-3012.pdf"]
    assert not stand_in.calls_of("sendPhoto")
    reader = pypdf.PdfReader(io.BytesIO(documents[0].files["document"]))
    plan = "\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")
    flat = " ".join(plan.split())
    assert "Stap 6. Actieplan" in flat
    for key, value in given.items():
        kind = spec.field(key).kind
        if kind in (Kind.TEXT, Kind.CHOICE):
            assert " ".join(str(value).split()) in flat, key
        elif kind is Kind.MULTICHOICE:
            assert all(label in flat for label in value), key
        elif kind is Kind.LIST:
            for line in str(value).replace(";", "\n").splitlines():
                for cell in line.split(" - "):
                    assert " ".join(cell.split()) in flat, key
    # The answers before and after the restart, and some in the Dutch display of their kind.
    for key in ("toekomstperspectief.korte_termijn", "toekomstperspectief.lange_termijn"):
        assert f"tweede {key.replace('.', ' ')}" in flat, key
    assert "Inkomen per maand € 1.052,32" in flat
    assert "Eerste evaluatie 15 maart 2037" in flat
    # The Word file when its button under the PDF is pressed, once.
    word = buttons(documents[0].params["reply_markup"])["Ook als Word-bestand"]
    under = chat.message_id_of(word)
    chat.press(word, expect="sendDocument")
    [_, docx] = stand_in.calls_of("sendDocument")
    assert docx.filenames["document"] == "doorbraakplan-3012.docx"
    assert docx.files["document"].startswith(b"PK")
    again = chat.press(word, expect="", message_id=under)
    assert again.params.get("text") == "Het Word-bestand is al gestuurd."
    assert len(stand_in.calls_of("sendDocument")) == 2
    chart = buttons(documents[0].params["reply_markup"])["Grafiek als afbeelding"]
    chat.press(chart, expect="sendPhoto", message_id=under)
    [photo] = stand_in.calls_of("sendPhoto")
    assert photo.files["photo"].startswith(b"\x89PNG")
    assert bot.proc is not None and bot.proc.poll() is None, bot.log()
    # Finished: /nieuw offers a choice instead of replacing the plan without a word.
    offer = chat.message("/nieuw 3012", "Het plan van huishouden 3012 is af. Wat wil je doen?")
    choice = buttons(offer.params["reply_markup"])
    assert list(choice) == [
        "Bekijken (overzicht en documenten)",
        "Een stap wijzigen",
        "Evalueren (wat is er gerealiseerd?)",
        "Een nieuw plan beginnen",
    ]
    shown = len(stand_in.calls_of("sendDocument"))
    chat.press(choice["Bekijken (overzicht en documenten)"], expect="sendDocument")
    bot.wait(lambda _: len(stand_in.calls_of("sendDocument")) == shown + 1, "the plan's PDF")
    asked = chat.after_press(choice["Een nieuw plan beginnen"], "Weet je het zeker?")
    confirm = buttons(asked.params["reply_markup"])
    chat.press(confirm["Ja, begin een nieuw plan"])
    assert chat.field_of(chat.questions()[-1]).key == "plan.titel"
    listed = chat.message("/archief 3012", "Gearchiveerde plannen van huishouden 3012.")
    [(label, data)] = buttons(listed.params["reply_markup"]).items()
    assert label.startswith("Bijgewerkt ")
    viewed = chat.after_press(data, "Het doorbraakplan van huishouden 3012 (gearchiveerd)")
    assert "Overzicht van het plan:" in viewed.params["text"]
    assert " ERROR " not in bot.log()


def test_stale_buttons_and_a_photo(
    stand_in: BotApiStandIn, bot: BotProcess, spec: Interview
) -> None:
    check_startup(bot, bot.start())
    chat = Chat(stand_in, bot, spec)
    chat.register()
    chat.type("/nieuw 3012")
    skips: dict[str, str] = {}
    while (current := chat.current())[0].kind is not Kind.CHOICE:
        field, keys = current
        if "Overslaan" in keys:
            skips[field.key] = keys["Overslaan"]
        chat.answer(field, keys)
    field, keys = current
    assert field.key == "huishouden.relatiestatus"
    chosen = sample_answer(field)
    other = next(label for label in field.choices if label != chosen)
    carriers = {keys[other]: chat.message_id_of(keys[other])}
    chat.press(keys[chosen])
    assert chat.current()[0].key == "huishouden.huisvesting"

    # A second tap on the old keyboard (taken away by the bot, still on a slow client), and
    # the Overslaan of an answered question: each is refused with a word of explanation,
    # and nothing else happens.
    for data in (keys[other], skips["plan.werkgebied"]):
        first = len(stand_in.calls)
        stale = chat.press(data, expect="", message_id=carriers.get(data))
        assert "eerdere vraag" in stale.params.get("text", ""), stale.params
        assert stale.params["callback_query_id"]
        replies = [c for c in stand_in.calls[first:] if c.method not in QUIET]
        assert replies == [], replies

    # A photo is not an answer.
    first = len(stand_in.calls)
    stand_in.push_update(stand_in.message_update(kind="photo", user_id=CHAT))
    calls = bot.wait(
        lambda calls: any(c.method == "sendMessage" for c in calls[first:]), "the photo's reply"
    )
    [reply] = [c for c in calls[first:] if c.method not in QUIET]
    assert reply.method == "sendMessage" and reply.params["chat_id"] == CHAT
    assert "alleen tekst" in reply.params["text"]

    # The plan still waits at the question after the choice, and kept the first choice.
    field, keys = chat.current()
    assert field.key == "huishouden.huisvesting"
    housing = chat.answer(field, keys)
    assert chat.current()[0].key == "huishouden.type_huisvesting"
    assert len(stand_in.calls_of("answerCallbackQuery")) == chat.callbacks == 4
    assert " ERROR " not in bot.log()

    # Forged buttons under a real message: a toast each, nothing else, and no memory spent.
    old_button = skips["plan.werkgebied"]
    plan_id = int(old_button.split("|")[1])
    carrier = chat.message_id_of(old_button)
    for data in (f"x|{plan_id}|0|30000000", "c|99999999999999999999|0|0", f"v|{plan_id}|0|9"):
        first = len(stand_in.calls)
        stand_in.push_update(stand_in.callback_update(data, user_id=CHAT, message_id=carrier))
        calls = bot.wait(
            lambda calls, start=first: any(
                c.method == "answerCallbackQuery" for c in calls[start:]
            ),
            f"the toast for {data!r}",
        )
        time.sleep(0.3)  # anything the press caused besides the toast would be here by now
        replies = [c for c in stand_in.calls[first:] if c.method != "getUpdates"]
        assert [c.method for c in replies] == ["answerCallbackQuery"], replies
        assert replies[0].params.get("text"), data
    assert bot.proc is not None
    status = Path(f"/proc/{bot.proc.pid}/status").read_text()
    rss_kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    assert rss_kb < 400_000, rss_kb
    assert chat.current()[0].key == "huishouden.type_huisvesting"
    assert " ERROR " not in bot.log()
    bot.kill()
    exported = subprocess.run(
        [sys.executable, "-m", "bot.cli", "export", "3012", "--format", "json", "-o", "-"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env_for(bot.data_dir),
        cwd=ROOT,
        check=True,
    )
    answers = json.loads(exported.stdout)["answers"]
    assert answers["plan.werkgebied"] == sample_answer(spec.field("plan.werkgebied"))
    assert answers["huishouden.relatiestatus"] == chosen
    assert answers["huishouden.huisvesting"] == housing


def render_worker(pid: int) -> int | None:
    """The bot's document worker: its child process spawned by multiprocessing."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"spawn_main" in cmdline:
            return int(child)
    return None


def running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "zombie" not in status


def test_the_document_worker_ends_with_a_killed_bot(
    stand_in: BotApiStandIn, bot: BotProcess, spec: Interview
) -> None:
    check_startup(bot, bot.start())
    assert bot.proc is not None
    assert render_worker(bot.proc.pid) is None  # it starts with the first document
    chat = Chat(stand_in, bot, spec)
    chat.register()
    chat.type("/nieuw 3012")
    chat.type("/plan")  # the plan so far, as documents
    worker = render_worker(bot.proc.pid)
    assert worker is not None, "no document worker was started"
    deadline = time.monotonic() + WAIT
    bot.kill()  # SIGKILL: the bot cannot stop its worker itself
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(worker), "the document worker outlived the bot"


# --- a kraak-en-maaksessie in a group ------------------------------------------------------

GROUP_CHAT = -5001
FATIMA, BRAM, OLAF = 2001, 2002, 2003  # facilitator, registered member, outsider
NAMES = {FATIMA: "Fatima", BRAM: "Bram", OLAF: "Olaf"}


def invite_code(bot: BotProcess) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "bot.cli", "invite", "--team", "Noord"],
        capture_output=True,
        text=True,
        env=env_for(bot.data_dir),
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    code = re.search(r"UIT-[A-Z0-9]{4}-[A-Z0-9]{4}", made.stdout)
    assert code is not None, made.stdout
    return code.group(0)


def plain(text: str) -> str:
    """A message as the user reads it: without HTML."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def send(
    stand_in: BotApiStandIn, bot: BotProcess, user: int, text: str, chat: int, *, reply: bool
) -> list[Call]:
    """`user` types `text` in `chat`; with `reply`, wait for the bot's next message there."""
    first = len(stand_in.calls)
    kind = "private" if chat > 0 else "group"
    update = stand_in.text_update(
        text, user_id=user, chat_id=chat, chat_type=kind, first_name=NAMES[user]
    )
    stand_in.push_update(update)
    if not reply:
        return []
    calls = bot.wait(
        lambda calls: any(
            c.method == "sendMessage" and c.params.get("chat_id") == chat and not c.failed
            for c in calls[first:]
        ),
        f"the reply to {text!r}",
    )
    return calls[first:]


def test_a_group_session_leaks_nothing_into_the_group(
    stand_in: BotApiStandIn, bot: BotProcess
) -> None:
    check_startup(bot, bot.start())
    for user in (FATIMA, BRAM):  # the outsider never registers
        send(stand_in, bot, user, invite_code(bot), user, reply=True)
        assert "Je bent aangemeld" in stand_in.sent_texts()[-1]

    def group(user: int, text: str, *, reply: bool = True) -> None:
        send(stand_in, bot, user, text, GROUP_CHAT, reply=reply)

    group(FATIMA, "/sessie 3012")
    group(FATIMA, "Een titel")
    group(BRAM, "/idee vraag de corporatie om urgentie")
    group(OLAF, "/idee ik wil ook iets zeggen")
    # Said once per session: after that an outsider hears nothing, whatever they send.
    for text in ("/idee nog een idee", "UIT-ABCD-EFGH", "/sessie stop", "/overzicht"):
        group(OLAF, text, reply=False)
    group(BRAM, "/sessie stop")
    group(BRAM, "/overzicht")
    first = len(stand_in.calls)
    group(FATIMA, "/plan")
    stand_in.wait_for(
        lambda calls: any(c.method == "sendDocument" for c in calls[first:]), timeout=WAIT
    )
    group(FATIMA, "/sessie stop")
    group(FATIMA, "/overzicht")
    group(FATIMA, "/wijzig 1")
    group(FATIMA, "/sessie stop")

    received = stand_in.sent_to(GROUP_CHAT)
    assert {c.method for c in received} == {"sendMessage"}, "a file went into the group"
    texts = [plain(str(c.params["text"])) for c in received]
    expected = [
        "Kraak-en-maaksessie voor huishouden 3012. Fatima leidt de sessie en beantwoordt de "
        "vragen; aangemelde collega's kunnen met /idee <tekst> een suggestie toevoegen."
        "\n\nStap 1 van 6",
        "Stap 1 van 6",
        "💡 Idee van Bram bij stap 1 (",
        "Alleen aangemelde professionals kunnen ideeën toevoegen.",
        "Alleen Fatima (de gespreksleider) of de eigenaar van het plan kan de sessie stoppen.",
        "Alleen Fatima (de gespreksleider) beantwoordt de vragen. "
        "Gebruik /idee <tekst> voor een suggestie.",
        "Het plan staat als PDF in het privégesprek van Fatima (de gespreksleider) met mij;"
        " het Word-bestand is daar op te vragen.\n\nStap 1 van 6",
        "De sessie is gestopt.",
        "Er loopt hier geen sessie. Start er een met /sessie <huishoudnummer>.",
        "Er loopt hier geen sessie. Start er een met /sessie <huishoudnummer>.",
        "Er loopt hier geen sessie om te stoppen.",
    ]
    assert len(texts) == len(expected), texts
    for text, start in zip(texts, expected, strict=True):
        assert text.startswith(start), (text, start)
    for text in texts:
        assert not re.search(r"prof:|UIT-|uitnodiging|DEEL-", text, re.IGNORECASE), text
    # The files went to the facilitator's private chat, and only there.
    files = [c for c in stand_in.calls if c.method in ("sendDocument", "sendPhoto")]
    assert {c.params["chat_id"] for c in files if not c.failed} == {FATIMA}
    # The PDF only: no costs entered, so no chart; the Word file waits for its button.
    assert [c.filenames["document"] for c in files if not c.failed] == ["doorbraakplan-3012.pdf"]
    assert " ERROR " not in bot.log()
