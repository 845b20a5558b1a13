from __future__ import annotations

import pytest
from django.urls import reverse

from predictions import services
from predictions.models import Prediction
from tests.predictions.factories import DonePredictionFactory, PredictionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name", ["detail", "status", "status_json", "audio", "spectrogram", "spectrogram_slot", "delete"]
)
def test_other_users_predictions_do_not_exist_for_you(signed_in, other_user, name):
    theirs = DonePredictionFactory(owner=other_user)
    assert signed_in.get(reverse(f"predictions:{name}", args=[theirs.pk])).status_code == 404


def test_other_users_predictions_cannot_be_rerun_or_deleted(signed_in, other_user):
    theirs = DonePredictionFactory(owner=other_user)
    assert signed_in.post(reverse("predictions:rerun", args=[theirs.pk])).status_code == 404
    assert signed_in.post(reverse("predictions:delete", args=[theirs.pk])).status_code == 404
    assert Prediction.objects.count() == 1


def test_a_pending_prediction_shows_progress_that_polls(signed_in, user):
    prediction = PredictionFactory(owner=user)
    html = signed_in.get(reverse("predictions:detail", args=[prediction.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert reverse("predictions:status", args=[prediction.pk]) in html
    assert "Queued" in html


def test_the_status_fragment_loads_the_result_once_done(signed_in, user):
    prediction = PredictionFactory(
        owner=user, status=Prediction.Status.RUNNING, stage=Prediction.Stage.ANALYSING
    )
    running = signed_in.get(reverse("predictions:status", args=[prediction.pk])).content.decode()
    assert "Analysing the audio" in running
    assert "every 1s" in running

    Prediction.objects.filter(pk=prediction.pk).update(
        status=Prediction.Status.DONE, genre_scores={"dance": 0.7, "pop": 0.3}, top_genre="dance", confidence=0.7,
        tempo_bpm=124, key="F minor",
    )  # fmt: skip
    done = signed_in.get(reverse("predictions:status", args=[prediction.pk])).content.decode()
    # A small answer that stops the poll and fetches the result once, in the progress card's place.
    assert "every 1s" not in done
    assert 'id="progress"' in done
    assert f'hx-get="{reverse("predictions:result", args=[prediction.pk])}" hx-trigger="load"' in done
    assert len(done) < 1000
    result = signed_in.get(reverse("predictions:result", args=[prediction.pk])).content.decode()
    assert "Dance 70%" in result
    assert "124 BPM" in result
    assert "F minor" in result


def test_status_json_reports_stage_and_progress(signed_in, user):
    prediction = PredictionFactory(
        owner=user, status=Prediction.Status.RUNNING, stage=Prediction.Stage.DOWNLOADING
    )
    body = signed_in.get(reverse("predictions:status_json", args=[prediction.pk])).json()
    assert body["status"] == "running"
    assert body["stage"] == "downloading"
    assert body["finished"] is False
    assert 0 < body["progress"] < 100


def test_a_failed_prediction_shows_its_reason_and_a_try_again_button(signed_in, user):
    prediction = PredictionFactory(
        owner=user, status=Prediction.Status.FAILED, error="This file is not audio."
    )
    html = signed_in.get(reverse("predictions:detail", args=[prediction.pk])).content.decode()
    assert "This file is not audio." in html
    assert "Try again" in html


@pytest.mark.parametrize(
    ("source", "primary", "secondary"),
    [
        ("upload", "Upload another file", "Pick a song from the catalog"),
        ("deezer", "Pick another track", "Upload the audio instead"),
    ],
)
def test_a_failure_retrying_cannot_fix_offers_another_song_not_try_again(
    signed_in, user, source, primary, secondary
):
    prediction = PredictionFactory(
        owner=user,
        source=source,
        status=Prediction.Status.FAILED,
        error="The audio lasts 1.0 s; at least 3 s are needed.",
        input_error=True,
    )
    html = signed_in.get(reverse("predictions:detail", args=[prediction.pk])).content.decode()
    assert "at least 3 s are needed" in html
    assert "Try again" not in html
    assert reverse("predictions:rerun", args=[prediction.pk]) not in html
    assert f'class="button" href="/new/{"?tab=upload" if source == "upload" else ""}">{primary}</a>' in html
    assert secondary in html


def test_a_song_outside_the_taxonomy_says_so(signed_in, user):
    prediction = DonePredictionFactory(owner=user, outside_taxonomy="jazz")
    html = signed_in.get(reverse("predictions:detail", args=[prediction.pk])).content.decode()
    assert "Closest of our genres: <strong>Dance</strong>; this sounds like <strong>jazz</strong>" in html


def test_a_song_no_tag_names_says_none_of_our_genres(signed_in, user):
    prediction = DonePredictionFactory(owner=user, outside_taxonomy="none")
    html = signed_in.get(reverse("predictions:detail", args=[prediction.pk])).content.decode()
    assert "none of our seven genres. Closest of them: <strong>Dance</strong>" in html
    assert "sounds like <strong>none</strong>" not in html


def test_history_is_newest_first_paginated_and_filterable_by_genre(signed_in, user, other_user):
    for _ in range(21):
        DonePredictionFactory(owner=user)
    rock = DonePredictionFactory(owner=user, top_genre="rock", title="Rock song")
    DonePredictionFactory(owner=other_user, title="Not mine")

    first = signed_in.get(reverse("predictions:history"))
    assert list(first.context["page"].object_list)[0] == rock
    assert first.context["page"].paginator.count == 22
    assert "Not mine" not in first.content.decode()
    assert "Page 1 of 2" in first.content.decode()

    filtered = signed_in.get(reverse("predictions:history"), {"genre": "rock"})
    assert list(filtered.context["page"].object_list) == [rock]


def test_history_has_an_empty_state(signed_in):
    assert "No predictions yet" in signed_in.get(reverse("predictions:history")).content.decode()


def test_delete_asks_for_confirmation_first(signed_in, user):
    prediction = DonePredictionFactory(owner=user)
    confirm = signed_in.get(reverse("predictions:delete", args=[prediction.pk]))
    assert "Delete this prediction?" in confirm.content.decode()
    assert Prediction.objects.filter(pk=prediction.pk).exists()
    response = signed_in.post(reverse("predictions:delete", args=[prediction.pk]))
    assert response.status_code == 302
    assert not Prediction.objects.filter(pk=prediction.pk).exists()


def test_rerun_redirects_to_the_new_prediction(signed_in, user, filesystem_broker):
    prediction = DonePredictionFactory(owner=user)
    response = signed_in.post(reverse("predictions:rerun", args=[prediction.pk]))
    new = Prediction.objects.exclude(pk=prediction.pk).get()
    assert response["Location"] == new.get_absolute_url()
    assert new.rerun_of == prediction


def test_an_upload_is_served_to_its_owner(signed_in, user, wav_upload, filesystem_broker):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    response = signed_in.get(reverse("predictions:audio", args=[prediction.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


def test_a_result_from_the_served_model_offers_no_rerun_and_a_post_adds_no_row(signed_in, user):
    from predictions.taxonomy import served_model

    name, version = served_model()
    prediction = DonePredictionFactory(owner=user, model_name=name, model_version=version)
    rerun_url = reverse("predictions:rerun", args=[prediction.pk])

    html = signed_in.get(prediction.get_absolute_url()).content.decode()
    response = signed_in.post(rerun_url, follow=True)

    assert rerun_url not in html
    assert "Run again" not in html
    assert Prediction.objects.count() == 1
    assert response.redirect_chain[-1][0] == prediction.get_absolute_url()
    assert "already comes from the current model" in response.content.decode()


def test_a_result_from_an_older_model_offers_a_secondary_rerun(signed_in, user, filesystem_broker):
    from predictions.taxonomy import served_model

    prediction = DonePredictionFactory(owner=user, model_name="musicnn-zeroshot-7", model_version="0.9.0")

    html = signed_in.get(prediction.get_absolute_url()).content.decode()
    form = html[html.index(f'action="{reverse("predictions:rerun", args=[prediction.pk])}"') :]
    button = form[form.index("<button") : form.index("</button>")]

    assert f"The site now uses {' '.join(served_model())}." in html
    assert 'class="linklike small"' in button  # a link-like secondary action, not a big button
    signed_in.post(reverse("predictions:rerun", args=[prediction.pk]))
    assert Prediction.objects.filter(rerun_of=prediction).count() == 1


def test_a_failure_that_is_the_songs_fault_cannot_be_rerun(signed_in, user):
    prediction = PredictionFactory(
        owner=user, status=Prediction.Status.FAILED, error="The file is empty.", input_error=True
    )

    signed_in.post(reverse("predictions:rerun", args=[prediction.pk]))

    assert Prediction.objects.count() == 1


def test_the_spectrogram_opens_full_size_and_its_caption_gives_the_real_length(signed_in, user):
    from django.core.files.base import ContentFile

    from fakeapis.audio import png_square

    prediction = DonePredictionFactory(owner=user, excerpt_s=10.2)
    prediction.spectrogram.save("s.png", ContentFile(png_square()))
    url = reverse("predictions:spectrogram", args=[prediction.pk])

    html = signed_in.get(prediction.get_absolute_url()).content.decode()

    assert "Mel-spectrogram of the 10-second excerpt the model heard." in html
    assert "30-second" not in html
    assert f'<a href="{url}" target="_blank"' in html
    assert "Open full size" in html


def test_history_searches_title_and_artist_next_to_the_genre_filter(signed_in, user, other_user):
    DonePredictionFactory(owner=user, title="One More Time", artist="Daft Punk", top_genre="dance")
    DonePredictionFactory(owner=user, title="Digital Love", artist="Daft Punk", top_genre="pop")
    DonePredictionFactory(owner=user, title="Teardrop", artist="Massive Attack", top_genre="electronica")
    DonePredictionFactory(owner=other_user, title="One More Time", artist="Daft Punk")

    def titles(params):
        response = signed_in.get(reverse("predictions:history"), params)
        return sorted(p.title for p in response.context["page"].object_list)

    assert titles({"q": "daft"}) == ["Digital Love", "One More Time"]
    assert titles({"q": "more time"}) == ["One More Time"]
    assert titles({"q": "TEARDROP"}) == ["Teardrop"]
    assert titles({"q": "daft", "genre": "pop"}) == ["Digital Love"]
    assert titles({"q": "nothing like it"}) == []
    html = signed_in.get(reverse("predictions:history"), {"q": "nothing like it"}).content.decode()
    assert "No predictions match “nothing like it”" in html
    assert 'type="search" id="history-search" name="q" value="nothing like it"' in html


def test_the_page_says_the_spectrogram_is_being_drawn_then_shows_it(signed_in, user):
    from django.core.files.base import ContentFile

    from fakeapis.audio import png_square

    prediction = DonePredictionFactory(owner=user, excerpt_s=10.0)
    prediction.spectrogram_mel.save("m.npz", ContentFile(b"saved by the ML job"))
    slot = reverse("predictions:spectrogram_slot", args=[prediction.pk])

    page = signed_in.get(prediction.get_absolute_url()).content.decode()
    assert "Drawing the spectrogram…" in page
    assert f'hx-get="{slot}" hx-trigger="every 1s" hx-swap="outerHTML"' in page
    assert "<img" not in signed_in.get(slot).content.decode()

    prediction.spectrogram.save("s.png", ContentFile(png_square()))  # the I/O worker drew it
    fragment = signed_in.get(slot).content.decode()

    assert f'<img src="{reverse("predictions:spectrogram", args=[prediction.pk])}"' in fragment
    assert "hx-get" not in fragment  # polling stops
    assert 'id="spectrogram-slot"' in fragment
    assert "Drawing the spectrogram" not in signed_in.get(prediction.get_absolute_url()).content.decode()


def test_the_page_says_when_the_spectrogram_could_not_be_drawn(signed_in, user):
    prediction = DonePredictionFactory(owner=user, spectrogram_failed=True)
    fragment = signed_in.get(reverse("predictions:spectrogram_slot", args=[prediction.pk])).content.decode()

    assert (
        "The spectrogram could not be drawn." in signed_in.get(prediction.get_absolute_url()).content.decode()
    )
    assert "The spectrogram could not be drawn." in fragment
    assert "hx-get" not in fragment  # nothing more to wait for


def test_a_prediction_from_before_the_spectrogram_moved_shows_no_placeholder(signed_in, user):
    old = DonePredictionFactory(owner=user)  # neither mel nor PNG: nothing to draw, nothing to wait for

    html = signed_in.get(old.get_absolute_url()).content.decode()

    assert "Drawing the spectrogram" not in html
    assert "could not be drawn" not in html
    assert 'figure class="spectrogram"' not in html
