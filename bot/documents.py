"""Rendering a plan into documents from the Jinja2 templates in prompts/."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from dialogs import Formatter, Interview
from dialogs.display import plan_view, present, rendement_view

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_BLANK_RUNS = re.compile(r"\n{3,}")


def md_escape(text: str) -> str:
    """Escape Markdown so user text shows literally and cannot add headings, links or HTML."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    # A line starting with `1.`, `-` or `+` would become a list item.
    return re.sub(r"(?m)^(\s*)(\d+)\.(\s)|^(\s*)([-+])(\s)", _escape_list_marker, escaped)


def _escape_list_marker(match: re.Match[str]) -> str:
    if match.group(2) is not None:
        return f"{match.group(1)}{match.group(2)}\\.{match.group(3)}"
    return f"{match.group(4)}\\{match.group(5)}{match.group(6)}"


def md_block(text: str) -> str:
    """A multi-line answer as Markdown lines with hard line breaks, escaped."""
    lines = md_escape(text).splitlines()
    return "  \n".join(line.rstrip() for line in lines)


class Renderer:
    """Turns a plan's stored answers into document text."""

    def __init__(self, spec: Interview, fmt: Formatter, template_dirs: list[Path]) -> None:
        self.spec = spec
        self.fmt = fmt
        self.env = Environment(
            loader=FileSystemLoader([str(d) for d in template_dirs]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,  # Markdown, escaped field by field with the md filters
        )
        self.env.filters["md"] = md_escape
        self.env.filters["md_block"] = md_block

    def markdown(self, household: str, answers: Mapping[str, Any], today: date) -> str:
        title = answers.get("plan.titel") or self.spec.title
        text = self.env.get_template("plan.md.j2").render(
            title=title,
            household=household,
            date=self.fmt.date(today),
            steps=plan_view(self.spec, answers, self.fmt),
            rendement=rendement_view(self.spec, answers, self.fmt),
            missing=self.spec.message("niet_ingevuld"),
        )
        return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"

    def message(self, part: str, answers: Mapping[str, Any]) -> str:
        """A summary sent as a chat message, from the template `<part>.txt.j2`."""
        missing = self.spec.message("niet_ingevuld")

        def answer(key: str) -> str:
            if key not in answers or not self.spec.has_field(key):
                return missing
            return present(self.spec.field(key), answers[key], self.fmt)

        text = self.env.get_template(f"{part}.txt.j2").render(
            answer=answer,
            filled=lambda key: key in answers,
            rendement=rendement_view(self.spec, answers, self.fmt),
        )
        return _BLANK_RUNS.sub("\n\n", text).strip()
