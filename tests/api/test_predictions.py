"""/api/v1/predictions/: create (catalog track or upload), list, retrieve, delete, re-run."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fakeapis.audio import sine_wav
from predictions.models import Prediction
from samples.models import GenreSearch
from samples.services import recommendations_create_for_prediction
from samples.stage import recommendation_run, recommendation_run_start
from tests.api.conftest import assert_error
from tests.predictions.factories import DonePredictionFactory, PredictionFactory
from tests.samples.conftest import add_loops

pytestmark = pytest.mark.django_db

URL = "/api/v1/predictions/"


def wav(name: str = "my song.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, sine_wav(), content_type="audio/wav")


# --- Create ---------------------------------------------------------------------------------------


def test_an_upload_is_accepted_with_a_location_to_poll_and_enqueued(
    api, user, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        "predictions.services.prediction_enqueue", lambda prediction_id: sent.append(prediction_id)
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, {"file": wav()}, format="multipart")

    assert response.status_code == 202
    body = response.json()
    prediction = Prediction.objects.get(owner=user)
    assert response["Location"] == f"http://testserver/api/v1/predictions/{prediction.pk}/"
    assert body["status"] == "pending"
    assert body["finished"] is False
    assert body["source"] == "upload"
    assert body["title"] == "my song"
    assert sent == [prediction.pk]


@pytest.mark.usefixtures("catalog_settings")
def test_a_catalog_track_is_fetched_again_by_id(api, user):
    response = api.post(URL, {"provider": "deezer", "track_id": "3135553"}, format="json")

    assert response.status_code == 202
    prediction = Prediction.objects.get(owner=user)
    assert (prediction.source, prediction.source_track_id) == ("deezer", "3135553")
    assert response.json()["title"] == "One More Time"
    assert response.json()["artist"] == "Daft Punk"


@pytest.mark.usefixtures("catalog_settings")
def test_an_unknown_catalog_track_is_404_with_the_providers_message(api):
    error = assert_error(
        api.post(URL, {"provider": "deezer", "track_id": "999"}, format="json"), 404, "not_found"
    )

    assert "Deezer could not find this" in error["message"]


@pytest.mark.usefixtures("catalog_settings")
def test_a_busy_provider_is_429_with_retry_after(api, fake_deezer):
    fake_deezer.answer_error(code=4, message="Quota limit exceeded")

    response = api.post(URL, {"provider": "deezer", "track_id": "3135553"}, format="json")

    assert_error(response, 429, "provider_rate_limited")
    assert int(response["Retry-After"]) > 0


@pytest.mark.usefixtures("catalog_settings")
def test_an_unavailable_provider_is_503(api, fake_deezer):
    from fakeapis.server import Fault

    fake_deezer.add_fault(Fault(500, b"oops", times=5))

    assert_error(
        api.post(URL, {"provider": "deezer", "track_id": "3135553"}, format="json"),
        503,
        "provider_unavailable",
    )


@pytest.mark.usefixtures("catalog_settings")
def test_an_unknown_provider_is_a_field_error(api):
    error = assert_error(
        api.post(URL, {"provider": "napster", "track_id": "1"}, format="json"), 400, "invalid"
    )

    assert error["field_errors"]["provider"] == ['"napster" is not a valid choice.']
    assert error["message"].startswith("provider: ")


def test_missing_fields_are_each_named(api):
    error = assert_error(api.post(URL, {}, format="json"), 400, "invalid")

    assert set(error["field_errors"]) == {"provider", "track_id"}


def test_a_file_that_is_not_audio_is_refused_like_on_the_page(api):
    text = SimpleUploadedFile("notes.mp3", b"these are words, not audio " * 100, content_type="audio/mpeg")

    error = assert_error(api.post(URL, {"file": text}, format="multipart"), 400, "invalid")

    assert "is not an audio file Seven/Four can read" in error["field_errors"]["file"][0]
    assert not Prediction.objects.exists()


def test_a_multipart_form_without_a_file_names_the_field(api):
    error = assert_error(api.post(URL, {"name": "x"}, format="multipart"), 400, "invalid")

    assert "file" in error["field_errors"]


def test_an_upload_over_the_limit_is_refused_with_the_pages_message(api, settings):
    settings.UPLOAD_MAX_BYTES = 100_000  # the 3 s WAV is 130 kB: within the envelope, over the limit

    error = assert_error(api.post(URL, {"file": wav()}, format="multipart"), 400, "invalid")

    assert "the limit is 97.7\xa0KB" in error["field_errors"]["file"][0]


def test_a_body_declared_far_over_the_limit_is_413_before_it_is_read(api, settings):
    settings.UPLOAD_MAX_BYTES = 1000

    response = api.generic(
        "POST", URL, b"x", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH="999999"
    )

    error = assert_error(response, 413, "too_large")
    assert error["field_errors"] == {"file": [error["message"]]}


def test_a_body_over_the_sites_cap_is_refused_in_the_api_error_shape(api, settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000  # the site-wide cap, in front of the view's own limit

    response = api.generic(
        "POST", URL, b"x", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH="999999"
    )

    error = assert_error(response, 413, "request_too_large")
    assert error["field_errors"] is None  # null, as docs/api.md says, not {}


def test_other_body_types_are_415(api):
    response = api.post(URL, "provider=deezer", content_type="text/plain")

    assert_error(response, 415, "unsupported_media_type")


def test_creating_is_throttled_per_user_with_retry_after(api, rates, monkeypatch):
    monkeypatch.setattr("predictions.services.prediction_enqueue", lambda prediction_id: True)
    rates(predictions="2/hour")

    statuses = [api.post(URL, {"file": wav()}, format="multipart").status_code for _ in range(3)]
    response = api.post(URL, {"file": wav()}, format="multipart")

    assert statuses == [202, 202, 429]
    error = assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "Try again in" in error["message"]
    assert Prediction.objects.count() == 2


def test_throttling_does_not_limit_reading(api, rates):
    rates(predictions="1/hour")

    assert [api.get(URL).status_code for _ in range(3)] == [200, 200, 200]


def test_creating_needs_authentication(anonymous):
    assert_error(anonymous.post(URL, {"file": wav()}, format="multipart"), 401, "not_authenticated")


# --- List -------------------------------------------------------------------------------------------


def test_the_list_is_paginated_and_holds_only_the_users_predictions(api, user, other_user):
    PredictionFactory.create_batch(25, owner=user)
    PredictionFactory(owner=other_user)

    first = api.get(URL).json()
    second = api.get(first["next"]).json()

    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert len(second["results"]) == 5
    assert second["next"] is None


def test_the_list_filters_by_genre_and_status(api, user):
    DonePredictionFactory(owner=user, top_genre="rock")
    DonePredictionFactory(owner=user, top_genre="dance")
    PredictionFactory(owner=user)

    rock = api.get(URL, {"genre": "rock"}).json()
    pending = api.get(URL, {"status": "pending"}).json()

    assert [p["top_genre"] for p in rock["results"]] == ["rock"]
    assert [p["status"] for p in pending["results"]] == ["pending"]


def test_an_unknown_filter_value_is_a_field_error(api):
    error = assert_error(api.get(URL, {"genre": "polka", "status": "sleeping"}), 400, "invalid")

    assert set(error["field_errors"]) == {"genre", "status"}


def test_a_page_past_the_end_is_404(api):
    assert_error(api.get(URL, {"page": 9}), 404, "not_found")


def test_listing_needs_authentication(anonymous):
    assert_error(anonymous.get(URL), 401, "not_authenticated")


# --- Retrieve, delete, re-run --------------------------------------------------------------------------


def test_a_finished_prediction_has_its_probabilities_tempo_key_and_model(api, user):
    prediction = DonePredictionFactory(owner=user, tags=[["electronic", 0.8]])

    body = api.get(f"{URL}{prediction.pk}/").json()

    assert body["status"] == "done"
    assert body["finished"] is True
    assert body["progress"] == 100
    assert body["probabilities"][0] == {"genre": "dance", "name": "Dance", "probability": 0.55}
    assert len(body["probabilities"]) == 7
    assert (body["tempo_bpm"], body["key"]) == (123.0, "F# minor")
    assert (body["model_name"], body["model_version"]) == ("sevenfour-zeroshot", "1.0.0")
    assert body["tags"] == [{"tag": "electronic", "score": 0.8}]
    assert body["web_url"].endswith(prediction.get_absolute_url())


def test_a_running_prediction_shows_its_stage_and_progress(api, user):
    prediction = PredictionFactory(owner=user, status="running", stage="analysing")

    body = api.get(f"{URL}{prediction.pk}/").json()

    assert (body["status"], body["stage"], body["progress"]) == ("running", "analysing", 45)
    assert body["message"] == "Analysing the audio…"
    assert body["probabilities"] == []


def test_a_prediction_lists_its_recommended_sounds(api, user, fs):
    # Which of a genre's phrases is searched depends on the prediction's id: keep one phrase.
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=8, bpm=123, licence="by4")
    prediction = DonePredictionFactory(owner=user)
    recommendations_create_for_prediction(prediction=prediction)

    body = api.get(f"{URL}{prediction.pk}/").json()

    assert len(body["recommendations"]) == 5, body["samples_message"]
    first = body["recommendations"][0]
    assert first["rank"] == 1
    assert first["sound"]["name"].startswith("house loop")
    assert "CC BY 4.0" in first["sound"]["attribution"]
    assert first["why"] == ""  # no sound is analysed yet: ranked by tempo and key alone


def test_other_users_predictions_are_404(api, other_user):
    theirs = DonePredictionFactory(owner=other_user)

    assert_error(api.get(f"{URL}{theirs.pk}/"), 404, "not_found")
    assert_error(api.delete(f"{URL}{theirs.pk}/"), 404, "not_found")
    assert_error(api.post(f"{URL}{theirs.pk}/rerun/"), 404, "not_found")
    assert Prediction.objects.filter(pk=theirs.pk).exists()


def test_deleting_removes_the_prediction(api, user):
    prediction = DonePredictionFactory(owner=user)

    response = api.delete(f"{URL}{prediction.pk}/")

    assert response.status_code == 204
    assert not Prediction.objects.filter(pk=prediction.pk).exists()


def test_rerunning_creates_a_new_pending_prediction(api, user):
    old = DonePredictionFactory(owner=user)

    response = api.post(f"{URL}{old.pk}/rerun/")

    assert response.status_code == 202
    new = Prediction.objects.get(rerun_of=old)
    assert response["Location"].endswith(f"/api/v1/predictions/{new.pk}/")
    assert response.json()["rerun_of"] == old.pk


def test_rerunning_is_throttled_like_creating(api, user, rates):
    old = DonePredictionFactory(owner=user)
    rates(predictions="1/hour")

    first = api.post(f"{URL}{old.pk}/rerun/")
    second = api.post(f"{URL}{old.pk}/rerun/")

    assert first.status_code == 202
    assert_error(second, 429, "throttled")


def test_reading_one_needs_authentication(anonymous, user):
    prediction = DonePredictionFactory(owner=user)

    assert_error(anonymous.get(f"{URL}{prediction.pk}/"), 401, "not_authenticated")


def test_the_samples_stage_has_its_own_status_next_to_the_done_prediction(api, user, fs):
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=8, bpm=123, licence="by4")
    prediction = DonePredictionFactory(owner=user)
    before = api.get(f"{URL}{prediction.pk}/").json()
    recommendation_run_start(prediction_id=prediction.pk)
    finding = api.get(f"{URL}{prediction.pk}/").json()
    recommendation_run(prediction_id=prediction.pk)
    found = api.get(f"{URL}{prediction.pk}/").json()

    assert (before["status"], before["samples_status"]) == ("done", "")
    assert (finding["status"], finding["samples_status"], finding["recommendations"]) == (
        "done",
        "pending",
        [],
    )
    assert finding["top_genre"] == "dance"
    assert (found["status"], found["samples_status"], len(found["recommendations"])) == ("done", "done", 5)


# --- The 202's message matches the queue's state ---------------------------------------------------


# Transactional: the job is sent when the create's transaction commits, before the reply is built.
@pytest.mark.django_db(transaction=True)
def test_a_202_from_a_working_queue_says_it_waits_for_a_worker(api, filesystem_broker):
    response = api.post(URL, {"file": wav()}, format="multipart")

    assert response.status_code == 202
    assert response.json()["message"] == "Queued; waiting for a free worker…"


@pytest.mark.django_db(transaction=True)
def test_a_202_while_the_queue_is_down_says_so(api, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("predictions.tasks.predict_genre_task.apply_async", broker_down)
    response = api.post(URL, {"file": wav()}, format="multipart")

    assert response.status_code == 202
    assert response.json()["message"] == "Queued; it will start when the job queue is back."


@pytest.mark.django_db(transaction=True)
def test_a_rerun_202_from_a_working_queue_says_it_waits_for_a_worker(api, user, filesystem_broker):
    done = DonePredictionFactory(owner=user)

    response = api.post(f"{URL}{done.pk}/rerun/", format="json")

    assert response.status_code == 202
    assert response.json()["message"] == "Queued; waiting for a free worker…"


@pytest.mark.usefixtures("catalog_settings")
def test_a_catalog_track_without_a_preview_is_422_up_front(api):
    response = api.post(URL, {"provider": "deezer", "track_id": "3135560"}, format="json")

    error = assert_error(response, 422, "no_preview")
    assert error["message"] == "This track has no preview; upload the audio instead."
    assert not Prediction.objects.exists()
