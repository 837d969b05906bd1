"""A Doorbraakteam that is a Telegram group (prompts/opvolging.yaml `groep`): a submitted
plan goes to the group, where a member records the decision; a broken opvolging.yaml stops
the start with its place named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dialogs.status import Stage
from tests.e2e.test_opvolging_run import cli
from tests.integration.test_telegram_verloop import TEAM_MEMBER, join_team, labels, to
from tests.support.harness import Harness, finish_plan

GROUP = -1001234567890
OPVOLGING = f"""\
doorbraakteam:
  naam: Doorbraakteam
  groep: {GROUP}
budget:
  - team: Doorbraakteam
    jaar: 2027
    bedrag: "€ 10.000"
"""


@pytest.fixture
def harness_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("gemeente")
    (folder / "opvolging.yaml").write_text(OPVOLGING, encoding="utf-8")
    return {"prompts_dir": folder}


async def test_a_plan_submitted_to_the_teams_group_is_decided_there(bot: Harness) -> None:
    join_team(bot)
    plan_id = finish_plan(bot)
    calls = await bot.say("/indienen 3012", user_id=1001)
    assert to(calls, GROUP, "sendDocument")
    assert not to(calls, TEAM_MEMBER, "sendDocument")
    [summary] = to(calls, GROUP)
    data = labels(summary)["Deels toegekend"]
    await bot.press(data, user_id=TEAM_MEMBER, chat_id=GROUP, chat_type="supergroup")
    assert bot.app.course.stage(plan_id) is Stage.PARTLY
    # Indienen itself is for a private chat only.
    calls = await bot.say("/indienen 3012", user_id=1001, chat_id=GROUP, chat_type="supergroup")
    assert not to(calls, GROUP, "sendDocument")


def test_a_broken_opvolging_yaml_stops_the_start_with_its_place(tmp_path: Path) -> None:
    folder = tmp_path / "gemeente"
    folder.mkdir()
    (folder / "opvolging.yaml").write_text("budget:\n  - team: X\n    bedrag: veel\n")
    done = cli(tmp_path, "budget", DOORBRAAK_PROMPTS_DIR=str(folder))
    assert done.returncode == 2
    assert "opvolging.yaml: budget[0].bedrag: not an amount (geen bedrag): 'veel'" in done.stderr
