"""The report benchmark (`python -m bench.rapport`) on a tiny load, so it cannot silently
rot: it generates, measures and prints its table; how fast is not asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.rapport import main


def test_the_report_benchmark_runs_on_a_tiny_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOORBRAAK_TEST_POSTGRES_URL", raising=False)

    assert main(["--sizes", "300", "--runs", "1", "--cache", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert "| SQLite | 300 |" in out
    assert "generated in" in out
