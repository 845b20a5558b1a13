"""Celery tasks every deployment has, whatever its apps."""

from __future__ import annotations

from celery import shared_task

from .models import Heartbeat


@shared_task(name="core.ping_db")
def ping_db_task(marker: str) -> None:
    """A trivial task whose effect lands in the database: proves the queue works end to end."""
    Heartbeat.objects.create(marker=marker)
