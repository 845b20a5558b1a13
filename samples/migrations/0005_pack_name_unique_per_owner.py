"""Pack names become unique per user, ignoring case. Existing duplicates are renamed first
("Drums", "drums" → "Drums", "drums (2)"), oldest keeping its name, so no pack is lost."""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

MAX_NAME = 100


def _free_name(name: str, taken: set[str]) -> str:
    n = 2
    while True:
        suffix = f" ({n})"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
        if candidate.lower() not in taken:
            return candidate
        n += 1


def rename_duplicates(apps, schema_editor):  # type: ignore[no-untyped-def]
    Pack = apps.get_model("samples", "Pack")
    taken_by_owner: dict[int, set[str]] = {}
    for owner_id, name in Pack.objects.values_list("owner_id", "name"):
        taken_by_owner.setdefault(owner_id, set()).add(name.lower())
    seen: set[tuple[int, str]] = set()
    for pack in Pack.objects.order_by("owner_id", "created_at", "id"):
        key = (pack.owner_id, pack.name.lower())
        if key not in seen:
            seen.add(key)
            continue
        taken = taken_by_owner[pack.owner_id]
        pack.name = _free_name(pack.name, taken)
        taken.add(pack.name.lower())
        seen.add((pack.owner_id, pack.name.lower()))
        # update(), not save(): keep updated_at as it was.
        Pack.objects.filter(pk=pack.pk).update(name=pack.name)


class Migration(migrations.Migration):
    dependencies = [
        ("samples", "0004_genre_search_plural"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="pack",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                models.F("owner"),
                name="pack_name_unique_per_owner",
            ),
        ),
    ]
