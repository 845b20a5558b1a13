from django.db import migrations, models


class Migration(migrations.Migration):
    """Heartbeat moves here from the former `worker` app. Its rows are throwaway proofs of a round
    trip, so the old table is dropped rather than copied."""

    initial = True

    dependencies = []

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS worker_heartbeat", reverse_sql=migrations.RunSQL.noop),
        migrations.CreateModel(
            name="Heartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("marker", models.CharField(db_index=True, max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
