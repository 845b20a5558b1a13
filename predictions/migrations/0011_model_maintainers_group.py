"""The "Model maintainers" group: the only group that may build, evaluate, promote and stop serving
genre model versions, and keep reference tracks (docs/security.md, docs/model.md).

Permissions are normally created after all migrations run (post_migrate), so on a new database
they do not exist yet here: the ones the group needs are created now, with the names Django gives
them, and post_migrate then finds them in place.
"""

from django.db import migrations

GROUP = "Model maintainers"

# (model, action, permission name): the codename is "<action>_<model>", as Django names them.
PERMISSIONS = [
    ("genremodelversion", "view", "Can view genre model version"),
    ("genremodelversion", "add", "Can add genre model version"),
    ("genremodelversion", "change", "Can change genre model version"),
    ("genremodelversion", "promote", "Can promote a genre model version to serve"),
    ("genremodelversion", "stop_serving", "Can stop serving a genre model version"),
    ("referencetrack", "view", "Can view reference track"),
    ("referencetrack", "add", "Can add reference track"),
    ("referencetrack", "change", "Can change reference track"),
    ("referencetrack", "delete", "Can delete reference track"),
    ("prediction", "view", "Can view prediction"),
]


def create_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for model, action, name in PERMISSIONS:
        content_type, _ = ContentType.objects.get_or_create(app_label="predictions", model=model)
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=f"{action}_{model}", defaults={"name": name}
        )
        group.permissions.add(permission)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("predictions", "0010_model_version_serving_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
