"""What the bot reads at run time ships with it: a file outside the packages, or not in their
package data, is missing from `pip install .` (not from the editable install the tests use)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from bot import report_compare

ROOT = Path(__file__).resolve().parents[2]


def test_the_report_schema_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = config["tool"]["setuptools"]["package-data"]
    schema = report_compare.SCHEMA_FILE.relative_to(ROOT)
    package, name = schema.parts[0], "/".join(schema.parts[1:])
    packages = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert any(fnmatch.fnmatch(package, pattern) for pattern in packages)
    assert any(fnmatch.fnmatch(name, pattern) for pattern in package_data.get(package, ()))
    assert report_compare.schema()["properties"]["format"]
