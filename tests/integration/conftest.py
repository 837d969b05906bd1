"""Fixtures shared by the integration tests."""

from tests.support.harness import bot  # noqa: F401 - the Telegram harness fixture
