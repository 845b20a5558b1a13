"""Reads for predictions: a prediction is found only for its owner (and, when asked, for staff)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.http import Http404

from predictions.models import Prediction
from predictions.selectors import prediction_get_for_user
from tests.accounts.factories import UserFactory
from tests.predictions.factories import DonePredictionFactory, PredictionFactory

pytestmark = pytest.mark.django_db


def test_prediction_get_for_user_finds_the_users_own_prediction(user):
    prediction = PredictionFactory(owner=user)

    assert prediction_get_for_user(user=user, pk=prediction.pk) == prediction


def test_prediction_get_for_user_raises_404_for_another_users_prediction():
    prediction = PredictionFactory()

    with pytest.raises(Http404):
        prediction_get_for_user(user=UserFactory(), pk=prediction.pk)


def test_prediction_get_for_user_raises_404_when_the_status_differs(user):
    prediction = PredictionFactory(owner=user)  # pending

    with pytest.raises(Http404):
        prediction_get_for_user(user=user, pk=prediction.pk, status=Prediction.Status.DONE)


def test_prediction_get_for_user_with_a_status_finds_a_matching_prediction(user):
    prediction = DonePredictionFactory(owner=user)

    found = prediction_get_for_user(user=user, pk=prediction.pk, status=Prediction.Status.DONE)

    assert found == prediction


def test_staff_who_may_view_predictions_see_any_only_when_staff_sees_all():
    prediction = PredictionFactory()
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_prediction"))

    assert prediction_get_for_user(user=staff, pk=prediction.pk, staff_sees_all=True) == prediction
    with pytest.raises(Http404):
        prediction_get_for_user(user=staff, pk=prediction.pk)


def test_staff_status_alone_does_not_show_other_users_predictions():
    prediction = PredictionFactory()

    with pytest.raises(Http404):
        prediction_get_for_user(user=UserFactory(is_staff=True), pk=prediction.pk, staff_sees_all=True)


def test_staff_sees_all_does_not_widen_what_a_user_sees():
    prediction = PredictionFactory()

    with pytest.raises(Http404):
        prediction_get_for_user(user=UserFactory(), pk=prediction.pk, staff_sees_all=True)


def test_prediction_get_for_user_reads_only_the_columns_asked_for(user):
    prediction = PredictionFactory(owner=user)

    found = prediction_get_for_user(user=user, pk=prediction.pk, only=("pk", "title"))

    assert found.get_deferred_fields() >= {"genre_scores", "backbone_output"}
