"""Fixtures for the accounts tests."""

from __future__ import annotations

import pytest

import accounts.tasks  # noqa: F401  # registers the tasks, as the worker's autodiscovery does
from sevenfour_site.celery import app as celery_app


@pytest.fixture(autouse=True)
def sent_tasks(monkeypatch) -> list[tuple[str, tuple]]:
    """Tasks accounts sends (the password reset mail) run at once, as the I/O worker would run
    them, and are listed here: the request itself only sends them."""
    sent: list[tuple[str, tuple]] = []

    def run(task_name: str, *args: object, waiting: str) -> bool:
        sent.append((task_name, args))
        celery_app.tasks[task_name].apply(args=args, throw=True)
        return True

    monkeypatch.setattr("accounts.services.task_send", run)
    return sent
