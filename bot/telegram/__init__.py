"""The Telegram front end: updates in, dialog events out, replies back as messages and files.

app.py wires it (and `run`); commands.py is the one command table; permissions.py says who
may act; bindings.py knows which plan a chat works on; sending.py, files.py and replies.py
send; plans.py, sessions.py, sharing.py and buttons.py handle what users do.
"""

from bot.telegram.app import TelegramFrontEnd, run

__all__ = ["TelegramFrontEnd", "run"]
