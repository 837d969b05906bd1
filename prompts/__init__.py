"""The interview as data: loading the YAML wording and the document templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dialogs.opvolging import FILE, Opvolging
from dialogs.spec import Interview, SpecError

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES = "templates"


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise SpecError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc


def load_interview(directory: Path | None = None) -> Interview:
    """The interview from `interview.yaml`, `messages.yaml`, `kosten.yaml`, `prijslijst.yaml`
    and `wetten.yaml`.

    A file missing from `directory` is taken from the shipped prompts, so a municipality
    can override just the questions or just the wording.
    """

    def pick(name: str) -> Path:
        if directory is not None and (directory / name).exists():
            return directory / name
        return PACKAGE_DIR / name

    return Interview.from_data(
        _load_yaml(pick("interview.yaml")),
        _load_yaml(pick("messages.yaml")),
        costs=_load_yaml(pick("kosten.yaml")),
        prices=_load_yaml(pick("prijslijst.yaml")),
        wetten=_load_yaml(pick("wetten.yaml")),
    )


def load_evaluation(directory: Path | None = None) -> Interview:
    """The evaluation of a finished plan from `evaluatie.yaml`, with the same wording, cost
    units and price list as the interview (each overridable the same way)."""

    def pick(name: str) -> Path:
        if directory is not None and (directory / name).exists():
            return directory / name
        return PACKAGE_DIR / name

    evaluation = _load_yaml(pick("evaluatie.yaml"))
    wording = _load_yaml(pick("messages.yaml"))
    if isinstance(wording, dict) and isinstance(evaluation, dict):
        # The evaluation's own words where the interview's speak of the plan.
        own = evaluation.get("messages") or {}
        wording = {**wording, "messages": {**(wording.get("messages") or {}), **own}}
    return Interview.from_data(
        evaluation,
        wording,
        costs=_load_yaml(pick("kosten.yaml")),
        prices=_load_yaml(pick("prijslijst.yaml")),
    )


def template_dirs(directory: Path | None = None) -> list[Path]:
    """Where templates are looked up: the override directory first, then the shipped ones."""
    dirs = [PACKAGE_DIR / TEMPLATES]
    if directory is not None:
        dirs.insert(0, directory / TEMPLATES)
    return dirs


def load_opvolging(directory: Path | None = None) -> Opvolging:
    """The Doorbraakteam, contacts and budget from `opvolging.yaml` (the override directory's
    if it has one); checked here, so that a mistake stops the start with its place named."""
    path = directory / FILE if directory is not None else None
    if path is None or not path.exists():
        path = PACKAGE_DIR / FILE
    return Opvolging.from_data(_load_yaml(path))
