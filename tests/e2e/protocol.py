"""Helpers for the end-to-end tests: a non-blocking JSONL driver, the stored plan, the document.

`JsonlProcess.send` (tests/conftest.py) blocks until a question or `done` arrives, so a reply
that is missing its question would hang the whole run. `Driver` reads the process's output on
a thread and ends a turn after a timeout instead, so such a bug fails one test quickly.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dialogs import Field, Interview, Kind
from storage import AnswerRecord, PlanRecord, PlanRepository, create_engine_for
from storage import make_session_factory as make_sessions
from tests.conftest import ROOT, JsonlProcess, env_for, keyring_for_tests, sample_answer

HOUSEHOLD = "3012"
# Far longer than a turn takes (milliseconds); short enough that a missing line fails fast.
TURN_TIMEOUT = 3.0
# A turn ends with a question, or with `done` at the end of the interview.
ENDS = ("question", "done")

Item = dict[str, Any]


# The refusal of `overslaan` at a required question, with the way out.
REQUIRED = (
    "Deze vraag is verplicht. Weet je het nog niet? Typ 'weet ik nog niet', dan komt het als open"
    " punt in het plan."
)


class Driver:
    """Sends lines to a running `chat --jsonl` process and collects its replies turn by turn."""

    def __init__(self, process: JsonlProcess) -> None:
        self.process = process
        self.opening = process.opening
        self._items: queue.Queue[Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        stdout = self.process.proc.stdout
        assert stdout is not None
        try:
            for raw in stdout:
                try:
                    self._items.put(json.loads(raw))
                except json.JSONDecodeError:
                    self._items.put({"type": "not json", "raw": raw})
        except (ValueError, OSError):  # the pipe was closed at teardown
            pass
        self._items.put(None)

    def send(
        self, text: str, *, until: tuple[str, ...] = ENDS, timeout: float = TURN_TIMEOUT
    ) -> list[Item]:
        """Send `{"text": text}`; the replies up to the next question or `done`."""
        line = json.dumps({"text": text}, ensure_ascii=False)
        return self.send_raw(line, until=until, timeout=timeout)

    def send_raw(
        self, line: str, *, until: tuple[str, ...] = ENDS, timeout: float = TURN_TIMEOUT
    ) -> list[Item]:
        """Send one raw input line; the replies up to an item of a type in `until`."""
        self.write(line)
        return self.read_turn(until=until, timeout=timeout)

    def write(self, line: str) -> None:
        """Send one raw input line without waiting for the replies."""
        stdin = self.process.proc.stdin
        assert stdin is not None
        stdin.write(line + "\n")
        stdin.flush()

    def read_turn(
        self, *, until: tuple[str, ...] = ENDS, timeout: float = TURN_TIMEOUT
    ) -> list[Item]:
        """Replies up to and including an item whose type is in `until` (or EOF, or timeout)."""
        items: list[Item] = []
        while True:
            try:
                item = self._items.get(timeout=timeout)
            except queue.Empty:
                return items
            if item is None:
                return items
            items.append(item)
            if item["type"] in until:
                return items

    def stop(self) -> int:
        """Send `stop`; the exit code once the process has ended."""
        turn = self.send("stop", until=("message",))
        assert [i["type"] for i in turn] == ["message"], turn
        return self.wait()

    def kill(self) -> int:
        """SIGKILL, as a crash or `kill -9` would; the exit code."""
        self.process.proc.kill()
        return self.wait()

    def close(self) -> int:
        """End of input, as when the user closes the pipe; the exit code."""
        assert self.process.proc.stdin is not None
        self.process.proc.stdin.close()
        return self.wait()

    def wait(self) -> int:
        """Wait for the process and the reader thread to end; the exit code.

        Also closes stdin, which conftest leaves open when the process has already exited.
        """
        code = self.process.proc.wait(timeout=30)
        if self.process.proc.stdin is not None:
            self.process.proc.stdin.close()
        self._thread.join(timeout=10)
        return code

    def stderr(self) -> str:
        """Everything the process wrote to stderr; only once it has ended."""
        assert self.process.proc.stderr is not None
        self.wait()
        return self.process.proc.stderr.read()


def doorbraakbot(
    data_dir: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """The installed `doorbraakbot` command, run as an operator runs it, to its end."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("doorbraakbot")), *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env_for(data_dir, **env),
        cwd=ROOT,
        timeout=60,
    )


def kinds(turn: list[Item]) -> list[str]:
    return [item["type"] for item in turn]


def question_of(turn: list[Item]) -> Item:
    """The question a turn ends with; fails showing the whole turn when it has none."""
    assert turn, "no reply at all"
    assert turn[-1]["type"] == "question", f"the turn does not end with a question: {turn}"
    return turn[-1]


def assert_refused(turn: list[Item], message: str, field: str) -> None:
    """A clear error, then the same question again."""
    assert kinds(turn) == ["error", "question"], turn
    assert turn[0]["text"] == message
    assert turn[1]["field"] == field


def walk(
    driver: Driver,
    spec: Interview,
    turn: list[Item],
    given: dict[str, str],
    *,
    until: str | None = None,
) -> list[Item]:
    """Answer every question with `sample_answer` until the question `until` (or `done`).

    Records each answer in `given`; returns every item seen, the last turn's items last.
    """
    seen: list[Item] = []
    while turn[-1]["type"] != "done":
        question = question_of(turn)
        if question["field"] == until:
            break
        spec_field = spec.field(question["field"])
        text = sample_answer(spec_field)
        if spec_field.kind is Kind.GROUP and spec_field.key not in given:
            text = group_item(spec_field)  # one whole item, then `Nee` when asked again
        if question["part"] in ("", "regel") and spec_field.key not in given:
            given[question["field"]] = text
        turn = driver.send(text)
        assert "error" not in kinds(turn), (question["field"], text, turn)
        seen += turn
    return seen


# --- the database ------------------------------------------------------------------------


@contextmanager
def repository(data_dir: Path) -> Iterator[PlanRepository]:
    """The storage API on the test's SQLite file, with the processes' key (TEST_SECRET); read
    only (the session is rolled back)."""
    engine = create_engine_for(f"sqlite:///{data_dir}/plans.db")
    try:
        with make_sessions(engine)() as session:
            yield PlanRepository(session, keyring_for_tests())
    finally:
        engine.dispose()


def stored_plan(data_dir: Path, household: str = HOUSEHOLD) -> PlanRecord:
    with repository(data_dir) as repo:
        plan = repo.current_plan(household)
    assert plan is not None, f"no plan stored for {household}"
    return plan


def stored_history(
    data_dir: Path, field: str | None = None, household: str = HOUSEHOLD
) -> list[AnswerRecord]:
    with repository(data_dir) as repo:
        plan = repo.current_plan(household)
        assert plan is not None, f"no plan stored for {household}"
        history = repo.history(plan.id)
        return history if field is None else [a for a in history if a.field == field]


# --- the Markdown document ---------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def md(text: str) -> str:
    """User text as the document shows it: Markdown's special characters backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def plain(text: str) -> str:
    """Babel puts a no-break space between `€` and the amount."""
    return text.replace("\xa0", " ")


def step_sections(markdown: str) -> dict[int, tuple[str, str]]:
    """`## Stap N. <name>` headings: number -> (name, the text up to the next step)."""
    parts = re.split(r"(?m)^## Stap (\d+)\. (.+)$", markdown)
    return {int(parts[i]): (parts[i + 1].strip(), parts[i + 2]) for i in range(1, len(parts), 3)}


def field_block(spec: Interview, markdown: str, key: str) -> str:
    """The part of the document from the field's bold label up to the next field's label."""
    step = spec.step_of(key)
    sections = step_sections(markdown)
    assert step.number in sections, f"no heading for step {step.number}"
    name, body = sections[step.number]
    assert name == step.name
    starts = {f.key: body.find(f"**{md(f.title)}**  \n") for f in step.fields}
    start = starts[key]
    assert start >= 0, f"label of {key} not under '## Stap {step.number}. {step.name}'"
    end = min((s for s in starts.values() if s > start), default=len(body))
    return body[start:end]


def group_item(spec_field: Field) -> str:
    """A whole item of a group typed in one message, its parts named after its columns."""
    return " | ".join(f"{column} {spec_field.key}" for column in spec_field.columns)


def shown_in_document(spec_field: Field, answer: str) -> list[str]:
    """What the document must show for a valid answer as typed (the inputs the tests use)."""
    match spec_field.kind:
        case Kind.CHOICE:
            label = spec_field.choices[int(answer) - 1] if answer.isdigit() else answer
            return [f"\n{md(label)}\n"]
        case Kind.MULTICHOICE:
            return [f"- {md(label.strip())}\n" for label in answer.split(";")]
        case Kind.LIST if spec_field.columns:
            rows = [line.split(" - ") for line in answer.splitlines()]
            return ["| " + " | ".join(md(c.strip()) for c in row) + " |" for row in rows]
        case Kind.LIST:
            return [f"- {md(item.strip())}\n" for item in re.split(r"[;\n]", answer)]
        case Kind.MONEY:
            return [{"1.052,32": "\n€ 1.052,32\n"}[answer]]
        case Kind.DATE:
            return [{"15-03-2037": "\n15 maart 2037\n"}[answer]]
        case Kind.COSTS:
            return [{"Klaar": "Geen kosten: € 0"}[answer]]
        case Kind.GROUP:
            return ["| " + " | ".join(md(c) for c in answer.split(" | ")) + " |"]
        case _:
            return [f"\n{md(answer.strip())}\n"]


def assert_document_shows(spec: Interview, markdown: str, given: dict[str, str]) -> None:
    """Every given answer appears in its field's place, under its step's heading."""
    markdown = plain(markdown)
    for key, answer in given.items():
        block = field_block(spec, markdown, key)
        for expected in shown_in_document(spec.field(key), answer):
            assert expected in block, f"{key}: {expected!r} not in {block!r}"
