"""RecommendationRun.reason: why the samples stage shows fewer than five samples, as a code the retry
reads instead of the message's text. Existing runs get the code their message was written for."""

from django.db import migrations, models

# The opening words of each message the samples stage wrote, and the reason it stood for.
REASON_BY_MESSAGE = [
    ("Samples could not be fetched this time", "error"),
    ("Freesound is busy", "throttled"),
    ("Freesound is not answering", "unavailable"),
    ("No FREESOUND_API_KEY is configured", "missing_key"),
    ("Freesound rejected the key", "bad_key"),
    ("Only ", "few"),
    ("No Freesound samples fit", "none_fit"),
]


def reasons_from_messages(apps, schema_editor):
    RecommendationRun = apps.get_model("samples", "RecommendationRun")
    for start, reason in REASON_BY_MESSAGE:
        RecommendationRun.objects.filter(message__startswith=start).update(reason=reason)


class Migration(migrations.Migration):
    dependencies = [
        ("samples", "0008_audio_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="recommendationrun",
            name="reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "None"),
                    ("few", "Freesound has no more fitting sounds"),
                    ("none_fit", "No sound fits the genre's search"),
                    ("throttled", "Freesound's rate limit is reached"),
                    ("unavailable", "Freesound is not answering"),
                    ("missing_key", "No Freesound API key"),
                    ("bad_key", "Freesound rejected the API key"),
                    ("error", "The stage failed"),
                ],
                default="",
                max_length=16,
            ),
        ),
        migrations.RunPython(reasons_from_messages, migrations.RunPython.noop),
    ]
