"""Pack pages, save to pack, "More like these", and who may see what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from samples.models import Pack, PackItem, Recommendation
from samples.packs import pack_add_sound, pack_create
from samples.services import recommendations_create_for_prediction
from tests.predictions.factories import DonePredictionFactory
from tests.samples.conftest import add_loops
from tests.samples.factories import make_sound

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def pack(user):
    return pack_create(owner=user, name="Night drive")


def test_pages_need_login(client, db):
    response = client.get(reverse("samples:pack_list"))

    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_pack_list_shows_counts_and_an_empty_state(client_in, user):
    assert "No packs yet" in client_in.get(reverse("samples:pack_list")).content.decode()

    pack = pack_create(owner=user, name="Drums")
    pack_add_sound(pack=pack, sound=make_sound(1))
    pack_add_sound(pack=pack, sound=make_sound(2))
    html = client_in.get(reverse("samples:pack_list")).content.decode()

    assert "Drums" in html
    assert "2 sounds" in html


def test_pack_list_paginates(client_in, user):
    for i in range(14):
        pack_create(owner=user, name=f"Pack {i}")

    first = client_in.get(reverse("samples:pack_list"))
    second = client_in.get(reverse("samples:pack_list") + "?page=2")

    assert len(first.context["page"].object_list) == 12
    assert len(second.context["page"].object_list) == 2


def test_create_rename_and_delete_with_confirmation(client_in, user):
    response = client_in.post(reverse("samples:pack_create"), {"name": "  Dusty  ", "notes": "for the EP"})
    pack = Pack.objects.get(owner=user)
    assert response["Location"] == pack.get_absolute_url()
    assert pack.name == "Dusty"

    client_in.post(reverse("samples:pack_edit", args=[pack.pk]), {"name": "Dustier", "notes": ""})
    pack.refresh_from_db()
    assert pack.name == "Dustier"

    confirm = client_in.get(reverse("samples:pack_delete", args=[pack.pk]))
    assert "Delete this pack?" in confirm.content.decode()
    assert Pack.objects.filter(pk=pack.pk).exists()
    client_in.post(reverse("samples:pack_delete", args=[pack.pk]))
    assert not Pack.objects.filter(pk=pack.pk).exists()


def test_blank_name_is_refused(client_in, user):
    response = client_in.post(reverse("samples:pack_create"), {"name": "   "})

    assert response.status_code == 200
    assert not Pack.objects.exists()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("samples:pack_detail", "get"),
        ("samples:pack_edit", "get"),
        ("samples:pack_edit", "post"),
        ("samples:pack_delete", "get"),
        ("samples:pack_delete", "post"),
        ("samples:pack_download", "post"),
    ],
)
def test_other_users_packs_are_404(client, other_user, pack, name, method):
    client.force_login(other_user)

    response = getattr(client, method)(reverse(name, args=[pack.pk]), {"name": "mine now"})

    assert response.status_code == 404
    assert Pack.objects.get(pk=pack.pk).name == "Night drive"


def test_others_cannot_add_or_remove_sounds(client, other_user, pack):
    sound = make_sound(1)
    pack_add_sound(pack=pack, sound=sound)
    client.force_login(other_user)

    assert client.post(reverse("samples:pack_item_remove", args=[pack.pk, sound.pk])).status_code == 404
    assert client.post(reverse("samples:pack_item_add", args=[pack.pk, make_sound(2).pk])).status_code == 404
    assert pack.items.count() == 1


def test_save_to_pack_without_js_creates_the_pack_and_redirects_back(client_in, user):
    sound = make_sound(1)
    prediction = DonePredictionFactory(owner=user)
    back = prediction.get_absolute_url()

    response = client_in.post(
        reverse("samples:sound_save"), {"sound": sound.pk, "pack_name": "Keepers", "next": back}
    )

    assert response.status_code == 302
    assert response["Location"] == back
    assert list(Pack.objects.get(owner=user, name="Keepers").sounds.all()) == [sound]


def test_save_to_pack_reuses_a_pack_by_name_and_ignores_duplicates(client_in, user, pack):
    sound = make_sound(1)

    for _ in range(2):
        client_in.post(reverse("samples:sound_save"), {"sound": sound.pk, "pack_name": "night DRIVE"})

    assert Pack.objects.filter(owner=user).count() == 1
    assert PackItem.objects.filter(pack=pack).count() == 1


def test_save_to_pack_with_htmx_returns_the_form_and_updated_pack_names(client_in, user):
    sound = make_sound(1)

    response = client_in.post(
        reverse("samples:sound_save"), {"sound": sound.pk, "pack_name": "Fresh"}, **HTMX
    )

    html = response.content.decode()
    assert "Saved to" in html
    assert 'hx-swap-oob="true"' in html
    assert '<option value="Fresh">' in html


def test_save_to_pack_refuses_external_next(client_in, user):
    sound = make_sound(1)

    response = client_in.post(
        reverse("samples:sound_save"), {"sound": sound.pk, "pack_name": "P", "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("samples:pack_list")


def test_pack_page_removes_and_adds_sounds(client_in, user, pack):
    sound = make_sound(1)
    pack_add_sound(pack=pack, sound=sound)

    response = client_in.post(reverse("samples:pack_item_remove", args=[pack.pk, sound.pk]), **HTMX)
    # Only an out-of-band count: the row itself is swapped for nothing.
    assert response.text.strip() == '<p class="muted small" id="pack-count" hx-swap-oob="true">0 sounds</p>'
    assert pack.items.count() == 0

    client_in.post(reverse("samples:pack_item_add", args=[pack.pk, sound.pk]))
    assert pack.items.count() == 1


def test_pack_page_has_players_and_suggests_recent_recommendations(client_in, fs, user, prediction, pack):
    from samples.models import GenreSearch

    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=8)
    recs = recommendations_create_for_prediction(prediction=prediction)
    pack_add_sound(pack=pack, sound=recs[0].sound)

    html = client_in.get(pack.get_absolute_url()).content.decode()

    assert html.count("<audio") == 5  # one in the pack, four suggestions
    assert "Add from your recent recommendations" in html
    assert recs[0].sound.preview_url in html


def test_more_like_these_adds_five_and_returns_the_panel(client_in, fs, user, prediction):
    from samples.models import GenreSearch

    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=20)
    recommendations_create_for_prediction(prediction=prediction)

    response = client_in.post(reverse("samples:recommendations_more", args=[prediction.pk]), **HTMX)

    assert response.status_code == 200
    assert prediction.recommendations.count() == 10
    assert response.content.decode().count('class="sample-card') == 10


def test_more_like_these_for_someone_elses_prediction_is_404(client, other_user, prediction):
    client.force_login(other_user)

    assert client.post(reverse("samples:recommendations_more", args=[prediction.pk])).status_code == 404


def test_noncommercial_opt_in(client_in, user):
    from samples.selectors import allows_noncommercial

    client_in.post(reverse("samples:preference_update"), {"allow_noncommercial": "on"})
    assert allows_noncommercial(user=user)
    client_in.post(reverse("samples:preference_update"), {})
    assert not allows_noncommercial(user=user)


def test_pack_names_are_unique_per_user_in_any_case(user, other_user, pack):
    from samples.packs import PackNameTaken, pack_get_or_create_by_name, pack_update

    with pytest.raises(PackNameTaken):
        pack_create(owner=user, name="NIGHT DRIVE")
    with pytest.raises(PackNameTaken):
        pack_update(pack=pack_create(owner=user, name="Dawn"), name="night drive ", notes="")
    assert pack_create(owner=other_user, name="Night drive").owner == other_user
    assert pack_get_or_create_by_name(owner=user, name="night DRIVE") == pack


def test_creating_or_renaming_onto_a_taken_name_shows_the_form_again(client_in, user, pack):
    created = client_in.post(reverse("samples:pack_create"), {"name": "night drive"})
    dawn = pack_create(owner=user, name="Dawn")
    renamed = client_in.post(
        reverse("samples:pack_edit", args=[dawn.pk]), {"name": "Night Drive", "notes": ""}
    )

    for response in (created, renamed):
        assert response.status_code == 200
        assert "You already have a pack called" in response.content.decode()
    assert sorted(Pack.objects.filter(owner=user).values_list("name", flat=True)) == ["Dawn", "Night drive"]


def test_removing_a_sound_with_htmx_updates_the_count_in_the_header(client_in, user, pack):
    sounds = [make_sound(n) for n in (1, 2, 3)]
    for sound in sounds:
        pack_add_sound(pack=pack, sound=sound)
    assert (
        '<p class="muted small" id="pack-count">3 sounds</p>' in client_in.get(pack.get_absolute_url()).text
    )

    response = client_in.post(reverse("samples:pack_item_remove", args=[pack.pk, sounds[0].pk]), **HTMX)

    assert response.text.strip() == '<p class="muted small" id="pack-count" hx-swap-oob="true">2 sounds</p>'


def test_pack_list_names_the_songs_its_sounds_were_saved_from(client_in, user, other_user, pack):
    # Issue 26 point 4: not every song whose recommendations included one of the pack's sounds.
    saved_from = DonePredictionFactory(owner=user, title="Digital Love", artist="Daft Punk")
    only_recommended = DonePredictionFactory(owner=user, title="Aerodynamic", artist="Daft Punk")
    theirs = DonePredictionFactory(owner=other_user, title="Not Yours", artist="Someone")
    sound, older = make_sound(1), make_sound(2)
    pack_add_sound(pack=pack, sound=sound, song=saved_from)
    pack_add_sound(pack=pack, sound=older)  # saved before songs were recorded: names none
    for song in (saved_from, only_recommended, theirs):
        Recommendation.objects.create(prediction=song, sound=sound, rank=1, genre="dance")
    Recommendation.objects.create(prediction=only_recommended, sound=older, rank=2, genre="dance")

    html = client_in.get(reverse("samples:pack_list")).content.decode()

    assert '<span class="pack-songs small">For Daft Punk – Digital Love</span>' in html
    assert "Aerodynamic" not in html
    assert "Not Yours" not in html
