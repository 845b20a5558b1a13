"""Creating a prediction from the New prediction page: a picked catalog track or an uploaded file."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.providers import get_provider
from fakeapis.audio import sine_wav
from fakeapis.spotify import DAFT, DISCOVERY, ONE_MORE_TIME, SOMETHING_ABOUT_US
from predictions.models import Prediction

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog_settings")]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ada", password="a-long-pass-123")


def test_picking_a_track_creates_a_prediction_from_the_provider_data(signed_in, user):
    # The page's title is not trusted: only the provider and id are posted.
    response = signed_in.post(
        reverse("predictions:create_from_pick"), {"provider": "deezer", "track_id": "3135556"}
    )

    prediction = Prediction.objects.get(owner=user)
    assert response.status_code == 302
    assert response["Location"] == reverse("predictions:detail", args=[prediction.pk])
    assert (prediction.source, prediction.source_track_id, prediction.isrc) == (
        "deezer",
        "3135556",
        "GBDUW0000059",
    )
    assert (prediction.title, prediction.artist, prediction.album) == (
        "Harder Better Faster Stronger",
        "Daft Punk",
        "Discovery",
    )
    assert prediction.duration_s == 224
    assert "preview" not in prediction.artwork_url


def test_picking_an_unknown_track_says_so(signed_in, user):
    response = signed_in.post(
        reverse("predictions:create_from_pick"), {"provider": "deezer", "track_id": "1"}
    )

    assert response.status_code == 404
    assert "Deezer could not find this track" in response.text
    assert not Prediction.objects.exists()


def test_upload_creates_a_prediction(signed_in, user, tmp_path):
    song = tmp_path / "My_Song.wav"
    song.write_bytes(sine_wav(3.5))

    with song.open("rb") as fh:
        response = signed_in.post(reverse("predictions:create_from_upload"), {"file": fh})

    prediction = Prediction.objects.get(owner=user)
    assert response["Location"] == reverse("predictions:detail", args=[prediction.pk])
    assert (prediction.source, prediction.title) == ("upload", "My Song")
    assert prediction.upload.read()[:4] == b"RIFF"


def test_upload_of_a_file_that_is_not_audio_is_refused_clearly(signed_in, tmp_path):
    fake = tmp_path / "song.mp3"
    fake.write_bytes(b"<html>not a song</html>" * 20)

    with fake.open("rb") as fh:
        response = signed_in.post(reverse("predictions:create_from_upload"), {"file": fh})

    assert response.status_code == 400
    assert "is not an audio file Seven/Four can read" in response.text
    assert not Prediction.objects.exists()


def test_upload_over_the_limit_is_refused_clearly(signed_in, settings, tmp_path):
    settings.UPLOAD_MAX_BYTES = 1000
    big = tmp_path / "big.wav"
    big.write_bytes(sine_wav(1.0))

    with big.open("rb") as fh:
        response = signed_in.post(reverse("predictions:create_from_upload"), {"file": fh})

    assert response.status_code == 400
    assert "the limit is 1000\xa0bytes" in response.text


@pytest.mark.usefixtures("spotify_settings")
def test_with_spotify_keys_the_page_browses_spotify_and_picks_with_isrc(signed_in, user):
    search = signed_in.get(reverse("catalog:new"), {"q": "daft punk"})
    tracks = signed_in.get(reverse("catalog:album", args=["spotify", DISCOVERY]))
    signed_in.post(
        reverse("predictions:create_from_pick"), {"provider": "spotify", "track_id": ONE_MORE_TIME}
    )

    assert reverse("catalog:artist", args=["spotify", DAFT]) in search.text
    assert "Harder, Better, Faster, Stronger" in tracks.text
    prediction = Prediction.objects.get(owner=user)
    assert (prediction.source, prediction.isrc) == ("spotify", "GBDUW0000053")


def test_picking_a_song_straight_from_the_search_results(signed_in, user):
    response = signed_in.post(
        reverse("predictions:create_from_pick"), {"provider": "deezer", "track_id": "3135554"}
    )

    assert response.status_code == 302
    assert Prediction.objects.get(owner=user).title == "Aerodynamic"


def _post_upload_declaring_forty_megabytes(client):
    """An empty multipart body whose Content-Length says 40 MB."""
    return client.generic(
        "POST",
        reverse("predictions:create_from_upload"),
        b"--x--",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(40 * 1024 * 1024),
    )


def test_a_body_over_the_sites_cap_is_refused_unread_with_what_to_do(signed_in, settings):
    # The default cap is the upload limit plus the form around it.
    response = _post_upload_declaring_forty_megabytes(signed_in)

    assert response.status_code == 413
    assert "larger than the site accepts" in response.text
    assert "Export a shorter excerpt (30 seconds are enough) or an MP3" in response.text
    assert f'href="{reverse("catalog:new")}?tab=upload"' in response.text
    assert not Prediction.objects.exists()


def test_a_body_declared_far_over_the_limit_gets_the_form_back_with_what_to_do(signed_in, settings):
    # Behind a site cap set higher than the upload limit (REQUEST_BODY_MAX_BYTES), the view refuses
    # the body itself, with the upload form ready for another file.
    settings.REQUEST_BODY_MAX_BYTES = 100 * 1024 * 1024
    settings.UPLOAD_MAX_BYTES = 25 * 1024 * 1024

    response = _post_upload_declaring_forty_megabytes(signed_in)

    assert response.status_code == 413
    assert 'id="id_file"' in response.text  # the upload form, ready for another file
    assert "This upload is 40.0\xa0MB; the limit is 25.0\xa0MB." in response.text
    assert "Export a shorter excerpt (30 seconds are enough) or an MP3" in response.text
    assert not Prediction.objects.exists()


def test_a_clip_under_three_seconds_is_refused_at_upload(signed_in, tmp_path):
    clip = tmp_path / "snare.wav"
    clip.write_bytes(sine_wav(1.0))

    with clip.open("rb") as fh:
        response = signed_in.post(reverse("predictions:create_from_upload"), {"file": fh})

    assert response.status_code == 400
    assert "“snare.wav” lasts 1.0 s; Seven/Four needs at least 3 s of audio." in response.text
    assert not Prediction.objects.exists()


def test_a_track_without_a_preview_is_refused_at_pick(signed_in):
    response = signed_in.post(
        reverse("predictions:create_from_pick"), {"provider": "deezer", "track_id": "3135560"}
    )

    assert response.status_code == 422
    assert "This track has no preview; upload the audio instead." in response.text
    assert not Prediction.objects.exists()


@pytest.mark.usefixtures("spotify_settings")
def test_a_spotify_track_no_preview_can_be_found_for_is_refused_at_pick(signed_in):
    response = signed_in.post(
        reverse("predictions:create_from_pick"), {"provider": "spotify", "track_id": SOMETHING_ABOUT_US}
    )

    assert response.status_code == 422
    assert not Prediction.objects.exists()


def test_a_busy_deezer_while_checking_the_preview_does_not_refuse_the_pick(signed_in, fake_deezer):
    get_provider("deezer").get_track("3135553")  # the pick's own lookup is then answered from the cache
    fake_deezer.answer_error(code=4, path="/track/3135553", times=1)  # so only the check meets the quota

    response = signed_in.post(
        reverse("predictions:create_from_pick"), {"provider": "deezer", "track_id": "3135553"}
    )

    assert response.status_code == 302
    assert Prediction.objects.count() == 1
