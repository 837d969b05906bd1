"""The terminal front end: questions as text, choices as numbered options."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TextIO

from bot.local import Item, LocalChat, PlanDocument, PlanFile
from dialogs import Done, Error, Interview, Message, Question
from dialogs.display import progress as step_progress


def format_item(item: Item, spec: Interview) -> str:
    if isinstance(item, Question):
        return format_question(item, spec)
    if isinstance(item, Error):
        return f"! {item.text}"
    if isinstance(item, Message):
        return item.text
    if isinstance(item, PlanDocument):
        # Shown, not written: a file only where the user asked for one (--document).
        shown = item.text if item.path is None else spec.message("bestand_gemaakt", pad=item.path)
        if "docx" in item.also:
            return f"{shown}\n{spec.message('word_aanbod')}"
        return shown
    if isinstance(item, PlanFile):
        return spec.message("word_gemaakt", pad=item.path)
    if isinstance(item, Done):
        return ""
    raise TypeError(f"cannot show {item!r}")


def format_question(q: Question, spec: Interview) -> str:
    if not q.step:  # step 0: a question about the plan itself, asked in no step
        lines = ["", q.text]
    else:
        progress = step_progress(spec, q)
        lines = ["", f"[{progress}]"]
        if q.intro:
            lines += [q.intro, ""]
        mark = spec.message(q.mark)
        lines.append(f"{q.text} {mark}")
    lines += [f"  {h}" for h in q.help]
    if q.choices:
        width = len(str(len(q.choices)))
        lines += [f"  {i:>{width}}. {c}" for i, c in enumerate(q.choices, 1)]
        if q.kind == "multichoice":
            key = "meerdere_keuzes" if q.limited else "meerdere_keuzes_vrij"
            lines.append(spec.message(key, max=q.max))
        else:
            lines.append(spec.message("keuze_nummer"))
    if q.current is not None:
        lines.append(spec.message("huidig_antwoord", antwoord=q.current))
    return "\n".join(lines)


def run_terminal(
    chat: LocalChat,
    spec: Interview,
    *,
    read: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
) -> int:
    def show(items: Iterable[Item]) -> None:
        for item in items:
            text = format_item(item, spec)
            if text:
                print(text, file=out, flush=True)

    show(chat.begin())
    while True:
        try:
            line = read("> ")
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            print(spec.message("gepauzeerd"), file=out, flush=True)
            return 0
        items, stopped = chat.send(line)
        show(items)
        if stopped:
            return 0
