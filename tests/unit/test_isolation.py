"""The dialog core stays free of Telegram, SQLAlchemy and every other framework."""

import subprocess
import sys


def test_importing_dialogs_pulls_in_no_telegram_or_sqlalchemy() -> None:
    code = (
        "import sys, dialogs, dialogs.engine, dialogs.answers, dialogs.money, dialogs.display\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'telegram', 'sqlalchemy', 'babel', 'jinja2', 'yaml', 'alembic'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
    # The check itself works: importing storage does pull in SQLAlchemy.
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, storage; print('sqlalchemy' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "True"
