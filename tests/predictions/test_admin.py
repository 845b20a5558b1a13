from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from predictions.models import Prediction
from tests.predictions.factories import DonePredictionFactory, PredictionFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:predictions_prediction_changelist")


@pytest.fixture
def admin_client_(client):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.admin = admin
    return client


def test_changelist_filters_and_search(admin_client_):
    DonePredictionFactory(title="Around the World", top_genre="dance", confidence=0.9)
    DonePredictionFactory(title="Clair de Lune", top_genre="classical", confidence=0.3)
    PredictionFactory(title="Still waiting")

    def titles(params):
        response = admin_client_.get(CHANGELIST, params)
        assert response.status_code == 200
        return sorted(p.title for p in response.context["cl"].result_list)

    assert titles({"status__exact": "pending"}) == ["Still waiting"]
    assert titles({"top_genre": "classical"}) == ["Clair de Lune"]
    assert titles({"confidence": "high"}) == ["Around the World"]
    assert titles({"q": "clair"}) == ["Clair de Lune"]
    assert titles({"reviewed": "no"}) == ["Around the World", "Clair de Lune", "Still waiting"]


def test_confirm_genre_fills_the_review_fields(admin_client_):
    done = DonePredictionFactory(top_genre="dance")
    pending = PredictionFactory()
    admin_client_.post(CHANGELIST, {"action": "confirm_genre", "_selected_action": [done.pk, pending.pk]})
    done.refresh_from_db()
    pending.refresh_from_db()
    assert done.reviewed_genre == "dance"
    assert done.reviewed_by == admin_client_.admin
    assert done.reviewed_at is not None
    assert pending.reviewed_genre == ""


def test_set_genre_to_corrects_the_genre(admin_client_):
    prediction = DonePredictionFactory(top_genre="dance")
    admin_client_.post(CHANGELIST, {"action": "set_genre_electronica", "_selected_action": [prediction.pk]})
    prediction.refresh_from_db()
    assert prediction.reviewed_genre == "electronica"
    assert prediction.top_genre == "dance"


def test_csv_export_lists_only_reviewed_predictions(admin_client_):
    reviewed = DonePredictionFactory(title="Reviewed", reviewed_genre="rock")
    DonePredictionFactory(title="Not reviewed")
    response = admin_client_.post(
        CHANGELIST,
        {
            "action": "export_reviewed_csv",
            "_selected_action": list(Prediction.objects.values_list("pk", flat=True)),
        },
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["id"], row["title"], row["reviewed_genre"]) for row in rows] == [
        (str(reviewed.pk), "Reviewed", "rock")
    ]


def test_detail_view_shows_probabilities_and_spectrogram(admin_client_):
    prediction = DonePredictionFactory(spectrogram="spectrograms/x.png")
    html = admin_client_.get(
        reverse("admin:predictions_prediction_change", args=[prediction.pk])
    ).content.decode()
    assert "Dance" in html
    assert "55.0%" in html
    assert reverse("predictions:spectrogram", args=[prediction.pk]) in html


def test_staff_can_listen_to_any_prediction_and_set_the_genre_from_a_list(admin_client_, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    prediction = DonePredictionFactory(upload=SimpleUploadedFile("song.wav", b"RIFF....WAVEfmt "))
    page = admin_client_.get(
        reverse("admin:predictions_prediction_change", args=[prediction.pk])
    ).content.decode()
    assert f'src="{reverse("predictions:audio", args=[prediction.pk])}"' in page
    assert '<option value="shoegaze">Shoegaze &amp; dream pop</option>' in page
    assert admin_client_.get(reverse("predictions:audio", args=[prediction.pk])).status_code == 200
