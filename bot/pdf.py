"""The plan as a PDF and the cost chart as a PNG, typeset by Typst from the plan's data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typst

CHART_PPI = 144


def _template(dirs: list[Path], name: str) -> Path:
    for directory in dirs:
        if (directory / name).exists():
            return directory / name
    raise FileNotFoundError(f"template {name} not found in {', '.join(map(str, dirs))}")


def _compile(
    template: Path, data: dict[str, Any], inputs: dict[str, str] | None = None, **options: Any
) -> bytes:
    # The data travels as one JSON string in sys.inputs; the template decodes it and places
    # every answer as text. No user text is ever spliced into Typst source.
    result = typst.compile(
        str(template),
        root=str(template.parent),
        sys_inputs={"data": json.dumps(data, ensure_ascii=False), **(inputs or {})},
        ignore_system_fonts=True,  # the same output on every machine: Typst's own fonts
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


def render_chart(data: dict[str, Any], template_dirs: list[Path], width_cm: int = 16) -> bytes:
    """The chart as a PNG `width_cm` wide: 16 for the chat, narrower beside the totals."""
    return _compile(
        _template(template_dirs, "chart_page.typ"),
        data,
        {"width": str(width_cm)},
        format="png",
        ppi=CHART_PPI,
    )
