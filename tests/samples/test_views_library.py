"""The library pages (a song's, a pack's) and the pack page's rows: the URL round trip, the live
top-up and who may see what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from samples.models import Sound
from samples.packs import pack_add_sound, pack_create
from tests.accounts.factories import UserFactory
from tests.predictions.factories import DonePredictionFactory
from tests.samples.conftest import add_loops
from tests.samples.factories import make_sound

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client, user, settings):
    settings.FREESOUND_API_KEY = ""  # no live search unless a test points at the fake Freesound
    client.force_login(user)
    return client


@pytest.fixture
def song(user):
    return DonePredictionFactory(owner=user, tempo_bpm=124.0, key="A minor")


def _library(song) -> str:
    return reverse("samples:song_library", args=[song.pk])


def test_the_filter_state_round_trips_through_the_url(client_in, song):
    for n in range(1, 31):
        make_sound(n, name=f"kick loop {n}", tags=["kick", "loop"], bpm=124, key="A minor")
    make_sound(99, name="pad", tags=["pad"], bpm=124, key="A minor")
    query = "q=kick&tag=kick&kind=loop&fits=1&key=mixes&licence=by&duration=medium&sort=tempo"

    page = client_in.get(f"{_library(song)}?{query}").content.decode()

    assert 'value="kick"' in page
    assert '<option value="loop" selected>' in page
    assert '<option value="mixes" selected>' in page
    assert '<option value="medium" selected>' in page
    assert '<option value="tempo" selected>' in page
    assert 'name="fits" value="1" id="id_fits" checked' in page
    assert 'name="licence" value="by" checked' in page
    assert 'name="tag" value="kick" checked' in page
    assert "30 sounds." in page
    assert "kick loop 30" in page
    assert ">pad<" not in page
    # Page 2 keeps every filter in its link.
    assert f'href="?{query.replace("&", "&amp;")}&amp;page=2"' in page


def test_bad_values_in_the_url_are_dropped_not_an_error(client_in, song):
    make_sound(1, name="kick")

    response = client_in.get(f"{_library(song)}?sort=loudest&bpm_min=x&tag=banjo&page=zz&duration=9")

    assert response.status_code == 200
    assert "1 sound." in response.content.decode()


def test_other_users_songs_and_packs_answer_404(client_in, song):
    stranger = UserFactory(username="stranger")
    theirs = DonePredictionFactory(owner=stranger)
    their_pack = pack_create(owner=stranger, name="Theirs")

    assert client_in.get(_library(theirs)).status_code == 404
    assert client_in.get(reverse("samples:pack_library", args=[their_pack.pk])).status_code == 404
    assert client_in.get(reverse("samples:pack_detail", args=[their_pack.pk])).status_code == 404


def test_says_when_results_are_from_the_local_index_only(client_in, song):
    make_sound(1, name="kick")

    page = client_in.get(_library(song)).content.decode()

    assert "From the local index only: No FREESOUND_API_KEY is configured" in page


def test_a_thin_view_asks_freesound_once_and_stores_what_it_finds(client_in, song, fs):
    add_loops(fs, "house", n=4, bpm=124)

    page = client_in.get(f"{_library(song)}?q=house").content.decode()

    assert "with 4 found on Freesound just now" in page
    assert Sound.objects.filter(name__startswith="house loop").count() == 4
    assert page.count('<li class="sound-row') == 4
    assert len(fs.api_calls()) == 1


def test_a_full_page_from_the_index_asks_freesound_nothing(client_in, song, fs):
    for n in range(1, 26):
        make_sound(n, name=f"house {n}")

    page = client_in.get(f"{_library(song)}?q=house").content.decode()

    assert "From the local index only." in page
    assert fs.api_calls() == []


def test_the_result_and_pack_pages_link_to_the_library(client_in, user, song):
    pack = pack_create(owner=user, name="Night drive")

    assert _library(song) in client_in.get(song.get_absolute_url()).content.decode()
    pack_page = client_in.get(pack.get_absolute_url()).content.decode()
    assert reverse("samples:pack_library", args=[pack.pk]) in pack_page


def test_pack_rows_play_with_the_song_each_was_saved_from_or_the_one_picked(client_in, user, song):
    other = DonePredictionFactory(owner=user, tempo_bpm=90.0, key="C major")
    pack = pack_create(owner=user, name="Night drive")
    a, b, c = make_sound(1, name="a"), make_sound(2, name="b"), make_sound(3, name="c")
    pack_add_sound(pack=pack, sound=a, song=song)
    pack_add_sound(pack=pack, sound=b, song=other)
    pack_add_sound(pack=pack, sound=c)

    page = client_in.get(pack.get_absolute_url()).content.decode()

    assert reverse("samples:conform", args=[song.pk, a.pk]) in page
    assert reverse("samples:conform", args=[other.pk, b.pk]) in page
    assert f"/sounds/{c.pk}/conform/" not in page  # saved without a song
    picked = client_in.get(f"{pack.get_absolute_url()}?song={other.pk}").content.decode()
    assert reverse("samples:conform", args=[other.pk, a.pk]) in picked
    assert reverse("samples:conform", args=[other.pk, c.pk]) in picked


def test_a_packs_library_ranks_against_the_song_its_latest_sound_was_saved_from(client_in, user, song):
    pack = pack_create(owner=user, name="Night drive")
    pack_add_sound(pack=pack, sound=make_sound(1, name="in pack"), song=song)
    make_sound(2, name="candidate", bpm=124, key="A minor")

    page = client_in.get(reverse("samples:pack_library", args=[pack.pk])).content.decode()

    assert f'ranked against <a href="{song.get_absolute_url()}">' in page
    assert "in tempo" in page
