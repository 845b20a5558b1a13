"""The samples app's job rows inherit core.models.JobRow (issue 23).

Every existing column and row is kept: the new columns (worker, attempts, and for the stages and
renders a job id and heartbeat) start empty, the errors of exports and renders widen from 300
characters to text, and an audio index run's new created_at is its started_at.
"""

import django.utils.timezone
from django.db import migrations, models


def worker():
    return models.CharField(
        blank=True, help_text="The worker that holds or last held the job.", max_length=200
    )


def error():
    return models.TextField(blank=True, help_text="Shown to the user when the job failed.")


def audio_index_runs_created_when_started(apps, schema_editor):
    AudioIndexRun = apps.get_model("samples", "AudioIndexRun")
    AudioIndexRun.objects.filter(started_at__isnull=False).update(created_at=models.F("started_at"))


class Migration(migrations.Migration):
    dependencies = [("samples", "0009_recommendationrun_reason")]

    operations = [
        # The samples stage of a prediction.
        migrations.AddField("recommendationrun", "job_id", models.CharField(blank=True, max_length=64)),
        migrations.AddField("recommendationrun", "worker", worker()),
        migrations.AddField("recommendationrun", "attempts", models.PositiveSmallIntegerField(default=0)),
        migrations.AddField("recommendationrun", "heartbeat_at", models.DateTimeField(blank=True, null=True)),
        # Pack ZIPs.
        migrations.AddField("packexport", "worker", worker()),
        migrations.AlterField("packexport", "error", error()),
        # Conformed renders.
        migrations.AddField("conformedrender", "job_id", models.CharField(blank=True, max_length=64)),
        migrations.AddField("conformedrender", "worker", worker()),
        migrations.AddField("conformedrender", "attempts", models.PositiveSmallIntegerField(default=0)),
        migrations.AddField("conformedrender", "heartbeat_at", models.DateTimeField(blank=True, null=True)),
        migrations.AlterField("conformedrender", "error", error()),
        # Audio index runs.
        migrations.AddField("audioindexrun", "worker", worker()),
        migrations.AddField("audioindexrun", "attempts", models.PositiveSmallIntegerField(default=0)),
        migrations.AddField("audioindexrun", "queued_at", models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            "audioindexrun",
            "created_at",
            models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.RunPython(audio_index_runs_created_when_started, migrations.RunPython.noop),
        migrations.AlterField("audioindexrun", "started_at", models.DateTimeField(blank=True, null=True)),
    ]
