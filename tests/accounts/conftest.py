"""Fixtures for the accounts tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _accounts_tasks_inline(sent_tasks: list[tuple[str, tuple]]) -> list[tuple[str, tuple]]:
    """Every accounts test runs the tasks accounts sends at once (tests/conftest.py: sent_tasks)."""
    return sent_tasks
