from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from django.db import models


class Heartbeat(models.Model):
    """A row written by a trivial task: proof that a worker consumed a message and reached the database."""

    marker = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.marker


class JobStatus(models.TextChoices):
    """A job row's states. A model may relabel them (its own TextChoices with these values)."""

    PENDING = "pending", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class JobRow(models.Model):
    """A unit of work that is a database row: the pages, the API and the admin read its state here,
    and workers move it with the conditional UPDATEs of core.jobs (claim, release, fail, sweep).

        pending ──claim──▶ running ──▶ done
           ▲                  │  └────▶ failed
           └── release/sweep ─┘

    A worker holds a running row by its Celery task id (`job_id`) and, when the model `beats`, writes
    `heartbeat_at` every few seconds (core.jobs.heartbeat); the sweep takes a row whose heartbeat
    stopped (its worker died) back to pending.
    """

    # The model's worker writes a heartbeat while it holds a row. Rows that never beat are never
    # taken for orphans by the sweep, and a redelivery of their message cannot take them over.
    beats: ClassVar[bool] = True
    # The column that tells the user why the job failed (some models say more there, e.g. why a
    # finished job found nothing).
    error_field: ClassVar[str] = "error"
    # The model's own columns a row gets back whenever it stops running (released, recovered,
    # failed or done), e.g. a stage or a progress; a transition's own values win.
    idle_fields: ClassVar[Mapping[str, object]] = {}
    # The model's own columns a failed row gets besides its error (e.g. a reason code).
    failed_fields: ClassVar[Mapping[str, object]] = {}

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    error = models.TextField(blank=True, help_text="Shown to the user when the job failed.")
    attempts = models.PositiveSmallIntegerField(default=0)
    # The Celery task id that holds the job while it runs. A redelivery of that same message (its
    # worker died before acknowledging it) may take the job over; any other message may not.
    job_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written every few seconds by the worker that holds the job (core.jobs.heartbeat): when it
    # stops, the worker is gone and the sweep gives the job to another one.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(
        max_length=200, blank=True, help_text="The worker that holds or last held the job."
    )

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
