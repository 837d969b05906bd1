"""`python -m bench.word` on a tiny load, so it cannot silently rot (no timing is asserted)."""

from __future__ import annotations

import pytest

from bench.word import main


def test_the_word_benchmark_runs_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs", "2"]) == 0
    out = capsys.readouterr().out
    assert "| ours: the typical Word file (data, chart, document) |" in out
    assert "| floor: the template opened and saved empty |" in out
    assert "Target: the typical Word file ≤ 40 ms" in out
