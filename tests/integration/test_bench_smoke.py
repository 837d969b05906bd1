"""The benchmark harness (`python -m bench`) on a tiny load, so it cannot silently rot.

It asserts that every part runs and reports, not how fast anything is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import BEGIN, END, main


def test_the_whole_benchmark_runs_on_a_tiny_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "RESULTS.md"
    out.write_text(f"# Results\n\n{BEGIN}\nold figures\n{END}\n\n## Analysis\n\nkept\n")

    assert main(["--quick", "--out", str(out), "--cache", str(tmp_path / "cache")]) == 0

    text = out.read_text(encoding="utf-8")
    assert "old figures" not in text
    assert text.endswith("## Analysis\n\nkept\n")  # the text around the markers is kept
    for heading in ("Machine", "Turns", "Where an answer turn's time goes", "Resume",
                    "Rendering", "Memory", "Startup", "Targets"):  # fmt: skip
        assert f"## {heading}" in text
    for what in ("ours, SQLite", "floor, SQLite", "echo"):
        assert f"| {what} |" in text
    assert "cores" in text
    # Every simulated interview ran to its documents; a refused answer raises instead.
    assert "| every answer durable when the next question is sent | all turns |" in text
    durable = next(line for line in text.splitlines() if line.startswith("| every answer"))
    assert durable.endswith("| yes |")
    assert "| 1,000 |" in text  # resume among 1,000 generated plans
    assert "idle (wired, Application initialised)" in text
    assert "first start (database created and migrated)" in text
    assert "## Turns" in capsys.readouterr().out  # and it is printed
