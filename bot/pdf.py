"""The plan as a PDF and the cost chart as a PNG, typeset by Typst from the plan's data."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import typst

CHART_PPI = 144


def _template(dirs: list[Path], name: str) -> Path:
    for directory in dirs:
        if (directory / name).exists():
            return directory / name
    raise FileNotFoundError(f"template {name} not found in {', '.join(map(str, dirs))}")


# Compilers by template, one set per thread: a compiler is not to be shared between threads.
_compilers = threading.local()


def _compiler(template: Path) -> typst.Compiler:
    """The compiler of a template in this thread. It loads the fonts and parses the template
    once and keeps Typst's cache between documents: the plan's PDF takes half the time of a
    fresh `typst.compile`, and the output is the same."""
    made: dict[Path, typst.Compiler] = _compilers.__dict__.setdefault("made", {})
    if template not in made:
        made[template] = typst.Compiler(
            str(template),
            root=str(template.parent),
            ignore_system_fonts=True,  # the same output on every machine: Typst's own fonts
        )
    return made[template]


def _compile(
    template: Path, data: dict[str, Any], inputs: dict[str, str] | None = None, **options: Any
) -> bytes:
    # The data travels as one JSON string in sys.inputs; the template decodes it and places
    # every answer as text. No user text is ever spliced into Typst source.
    result = _compiler(template).compile(
        sys_inputs={"data": json.dumps(data, ensure_ascii=False), **(inputs or {})},
        **options,
    )
    if not isinstance(result, bytes):  # pragma: no cover - one page or one PDF
        raise TypeError("Typst returned several images; the chart must fit one page")
    return result


def render_pdf(data: dict[str, Any], template_dirs: list[Path]) -> bytes:
    return _compile(_template(template_dirs, "plan.typ"), data, format="pdf")


def render_poster(data: dict[str, Any], template_dirs: list[Path]) -> bytes:
    """The canvas on one A3 landscape page, for the wall of the kraak-en-maaksessie."""
    return _compile(_template(template_dirs, "poster.typ"), data, format="pdf")


def render_report_pdf(data: dict[str, Any], template_dirs: list[Path]) -> bytes:
    """The report over all plans (bot.report_render.view), with its bars and law matrix."""
    return _compile(_template(template_dirs, "rapport.typ"), data, format="pdf")


def render_compare_pdf(data: dict[str, Any], template_dirs: list[Path]) -> bytes:
    """Two reports over all plans side by side (bot.report_compare.view)."""
    return _compile(_template(template_dirs, "rapport_vergelijk.typ"), data, format="pdf")


def render_chart(data: dict[str, Any], template_dirs: list[Path], width_cm: int = 16) -> bytes:
    """The chart as a PNG `width_cm` wide: 16 for the chat, narrower beside the totals."""
    return _compile(
        _template(template_dirs, "chart_page.typ"),
        data,
        {"width": str(width_cm)},
        format="png",
        ppi=CHART_PPI,
    )
