"""The typical Word file against its floor, measured side by side (issue 14: ≤ 40 ms).

Run: python -m bench.word [--runs N]. Ours is `Renderer.render("docx")` for the Eveline plan:
the plan's data, the chart drawn by Typst, and the document written on the template. The
floor is python-docx opening the same template and saving it empty: what any Word file made
this way costs. The two alternate run by run, so a busy machine slows both alike; the table
gives the medians, the p95 and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from docx import Document

from bench.common import settings
from bench.render import EVELINE_COSTS, TODAY, build_plan
from bot.bootstrap import bootstrap
from bot.documents import WORD_CHART_CM
from bot.docx_render import render_docx
from bot.pdf import render_chart

TARGET_MS = 40.0


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def run(runs: int) -> dict[str, tuple[float, float]]:
    """Median and p95 in ms of each of: ours, its parts, and the floor."""
    with tempfile.TemporaryDirectory() as directory:
        app = bootstrap(settings(Path(directory)))
        try:
            answers = build_plan(app, "3012", EVELINE_COSTS, long=False)
            renderer = app.renderer
            template = next(
                d / "plan.docx" for d in renderer.template_dirs if (d / "plan.docx").exists()
            )

            def floor() -> None:
                Document(str(template)).save(BytesIO())

            def ours() -> None:
                renderer.render("docx", "3012", answers, TODAY)

            data = renderer.data("3012", answers, TODAY)
            chart = render_chart(data, renderer.template_dirs, WORD_CHART_CM)
            parts: dict[str, Callable[[], object]] = {
                "ours: the typical Word file (data, chart, document)": ours,
                "of which the document alone (python-docx, the body as XML)": lambda: render_docx(
                    data, template, chart
                ),
                "of which the chart (Typst, PNG)": lambda: render_chart(
                    data, renderer.template_dirs, WORD_CHART_CM
                ),
                "floor: the template opened and saved empty": floor,
            }
            times: dict[str, list[float]] = {name: [] for name in parts}
            for work in parts.values():
                work()  # warm up: templates compiled, fonts loaded
            for _ in range(runs):
                for name, work in parts.items():
                    times[name].append(_timed(work))
            result = {}
            for name, measured in times.items():
                measured.sort()
                p95 = measured[min(len(measured) - 1, int(len(measured) * 0.95))]
                result[name] = (statistics.median(measured), p95)
            return result
        finally:
            app.engine.dispose()


def table(result: dict[str, tuple[float, float]]) -> str:
    floor = next(median for name, (median, _) in result.items() if name.startswith("floor"))
    lines = ["| what | median ms | p95 ms | / floor |", "|---|---:|---:|---:|"]
    for name, (median, p95) in result.items():
        lines.append(f"| {name} | {median:.1f} | {p95:.1f} | {median / floor:.2f} |")
    ours = next(median for name, (median, _) in result.items() if name.startswith("ours"))
    verdict = "met" if ours <= TARGET_MS else "missed"
    lines.append(f"\nTarget: the typical Word file ≤ {TARGET_MS:.0f} ms at the median: {verdict}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args(argv)
    print(table(run(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
