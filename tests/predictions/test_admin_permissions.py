"""Issue 28, point 2: a view-only staff account could run every admin action, including building
and promoting the genre model every user is served. Each action now needs its permission, and
promoting or stopping a version needs the custom permissions of the "Model maintainers" group."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from predictions import learning
from predictions.models import GenreModelVersion, Prediction, ReferenceTrack
from tests.accounts.factories import UserFactory
from tests.predictions.factories import DonePredictionFactory

pytestmark = pytest.mark.django_db

PREDICTIONS = reverse("admin:predictions_prediction_changelist")
VERSIONS = reverse("admin:predictions_genremodelversion_changelist")
MAINTAINERS = "Model maintainers"


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    settings.GENRE_MODEL_DIR = ""


def staff(username: str, *codenames: str) -> User:
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def view_only(client):
    """Staff with every view permission and nothing else: the attack's account."""
    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


@pytest.fixture
def versions() -> tuple[GenreModelVersion, GenreModelVersion]:
    """The shipped default and the shipped zero-shot version, the latter evaluated (so promotable)."""
    default, _, zeroshot = learning.model_versions_register_shipped()
    GenreModelVersion.objects.filter(pk=zeroshot.pk).update(evaluated_at=timezone.now(), heldout_files=1)
    zeroshot.refresh_from_db()
    return default, zeroshot


def offered_actions(user: User, model: type) -> set[str]:
    request = RequestFactory().get("/admin/")
    request.user = user
    return set(admin.site._registry[model].get_actions(request))


def test_every_action_of_every_admin_page_names_a_permission() -> None:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = superuser

    unguarded = [
        f"{model.__name__}.{name}"
        for model, model_admin in admin.site._registry.items()
        for name, (func, _, _) in model_admin.get_actions(request).items()
        if not getattr(func, "allowed_permissions", None)
    ]

    assert unguarded == []
    assert {"promote", "unpromote", "build_few_shot", "evaluate"} <= offered_actions(
        superuser, GenreModelVersion
    )


def test_a_view_only_staff_account_is_offered_only_the_exports_on_predictions(view_only) -> None:
    prediction = DonePredictionFactory(top_genre="dance", backbone_output={"msd": [], "mtt": []})

    page = view_only.get(PREDICTIONS).content.decode()
    for action in ("confirm_genre", "set_genre_rock", "keep_as_reference_dance"):
        view_only.post(PREDICTIONS, {"action": action, "_selected_action": [prediction.pk]})

    assert 'value="export_reviewed_csv"' in page
    assert 'value="confirm_genre"' not in page
    assert 'value="set_genre_rock"' not in page
    assert 'value="keep_as_reference_dance"' not in page
    prediction.refresh_from_db()
    assert (prediction.reviewed_genre, prediction.reviewed_by) == ("", None)
    assert not ReferenceTrack.objects.exists()


def test_a_view_only_staff_account_cannot_build_evaluate_promote_or_stop_serving(view_only, versions) -> None:
    default, zeroshot = versions
    learning.model_version_promote(zeroshot)

    page = view_only.get(VERSIONS)
    for action, pk in [("promote", default.pk), ("unpromote", zeroshot.pk), ("evaluate", default.pk),
                       ("build_few_shot", default.pk)]:  # fmt: skip
        view_only.post(VERSIONS, {"action": action, "_selected_action": [pk]})

    assert page.status_code == 200  # the list may be read
    assert 'name="action"' not in page.content.decode()  # but offers no action at all
    assert learning.served_model_dir() == zeroshot.artifact_dir
    assert GenreModelVersion.objects.count() == 3  # the three shipped, nothing built
    default.refresh_from_db()
    assert default.evaluated_at is None


def test_staff_without_the_view_permission_is_refused_the_registry(client) -> None:
    client.force_login(staff("reviewer", "view_prediction", "change_prediction"))

    response = client.get(VERSIONS)

    assert response.status_code == 403
    assert not GenreModelVersion.objects.exists()  # and its visit registered nothing


def test_changing_versions_does_not_give_promote_or_stop_serving(client, versions) -> None:
    default, zeroshot = versions
    evaluator = staff("evaluator", "view_genremodelversion", "change_genremodelversion")
    client.force_login(evaluator)

    client.post(VERSIONS, {"action": "promote", "_selected_action": [zeroshot.pk]})

    assert offered_actions(evaluator, GenreModelVersion) == {"evaluate"}
    assert learning.served_model_dir() is None


def test_the_model_maintainers_group_may_promote_and_stop_serving_and_nothing_on_reviews(
    client, versions
) -> None:
    default, zeroshot = versions
    maintainer = UserFactory(username="maintainer", is_staff=True)
    maintainer.groups.add(Group.objects.get(name=MAINTAINERS))
    client.force_login(maintainer)

    promoted = client.post(VERSIONS, {"action": "promote", "_selected_action": [zeroshot.pk]}, follow=True)
    served = learning.served_model_dir()
    stopped = client.post(VERSIONS, {"action": "unpromote", "_selected_action": [zeroshot.pk]}, follow=True)

    assert "now serves" in promoted.content.decode()
    assert served == zeroshot.artifact_dir
    assert "no longer serves" in stopped.content.decode()
    assert learning.served_model_dir() is None
    assert {"promote", "unpromote", "build_few_shot", "evaluate"} <= offered_actions(
        maintainer, GenreModelVersion
    )
    on_predictions = offered_actions(maintainer, Prediction)
    assert "keep_as_reference_rock" in on_predictions
    assert not {"confirm_genre", "set_genre_rock"} & on_predictions


def test_only_the_maintainers_group_holds_the_serving_permissions() -> None:
    holders = Group.objects.filter(
        permissions__codename__in=["promote_genremodelversion", "stop_serving_genremodelversion"]
    ).distinct()

    assert [g.name for g in holders] == [MAINTAINERS]


def test_staff_status_alone_does_not_open_other_users_audio(client, other_user) -> None:
    prediction = DonePredictionFactory(owner=other_user)
    client.force_login(staff("helper"))

    response = client.get(reverse("predictions:audio", args=[prediction.pk]))

    assert response.status_code == 404
