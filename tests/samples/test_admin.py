"""Genre search settings are seeded and editable in the admin."""

from __future__ import annotations

from django.urls import reverse

from fakeapis.freesound import CC0
from samples.models import GenreSearch
from tests.accounts.factories import UserFactory
from tests.samples.factories import make_sound


def test_seven_genres_are_seeded_with_the_original_map(genres):
    seeded = {g.slug: g for g in GenreSearch.objects.all()}

    assert set(seeded) == {"classical", "dance", "electronica", "pop", "rnb", "rock", "shoegaze"}
    assert seeded["shoegaze"].name == "Shoegaze & dream pop"
    assert seeded["shoegaze"].query_list == ["guitar loop", "drone loop", "ambience loop"]
    assert seeded["rnb"].query_list == ["hip-hop loop", "r&b loop"]
    assert all(g.licences == ["cc0", "by"] for g in seeded.values())


def test_admin_edits_a_genre_search(client, genres):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    genre = GenreSearch.objects.get(slug="rock")
    url = reverse("admin:samples_genresearch_change", args=[genre.pk])
    assert client.get(reverse("admin:samples_genresearch_changelist")).status_code == 200

    response = client.post(
        url,
        {
            "slug": "rock",
            "name": "Rock",
            "queries": "rock loop\ndrum loop\nriff loop",
            "licences": ["cc0"],
            "kind": "loop",
            "min_duration": "2",
            "max_duration": "20",
            "bpm_tolerance": "4",
            "enabled": "on",
            "order": "5",
        },
    )

    assert response.status_code == 302
    genre.refresh_from_db()
    assert genre.query_list == ["rock loop", "drum loop", "riff loop"]
    assert genre.licences == ["cc0"]
    assert genre.max_duration == 20


def test_admin_refuses_min_above_max_duration(client, genres):
    client.force_login(UserFactory(username="root2", is_staff=True, is_superuser=True))
    genre = GenreSearch.objects.get(slug="pop")

    response = client.post(
        reverse("admin:samples_genresearch_change", args=[genre.pk]),
        {
            "slug": "pop",
            "name": "Pop",
            "queries": "pop loop",
            "licences": ["cc0"],
            "kind": "loop",
            "min_duration": "40",
            "max_duration": "20",
            "bpm_tolerance": "6",
            "order": "3",
        },
    )

    assert response.status_code == 200
    genre.refresh_from_db()
    assert genre.max_duration == 30


def test_admin_index_spells_the_plural_of_genre_search(client, genres):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:index")).content.decode()

    assert "Genre searches" in page
    assert "Genre searchs" not in page


def test_recommendation_list_shows_genre_names(client, genres):
    from samples.models import Recommendation
    from tests.predictions.factories import DonePredictionFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    sound = make_sound(1, licence_url=CC0)
    Recommendation.objects.create(prediction=DonePredictionFactory(), sound=sound, rank=1, genre="rnb")

    page = client.get(reverse("admin:samples_recommendation_changelist")).content.decode()

    assert ">R&amp;B<" in page
