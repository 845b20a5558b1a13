from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """A row written by a trivial task: proof that a worker consumed a message and reached the database."""

    marker = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.marker
