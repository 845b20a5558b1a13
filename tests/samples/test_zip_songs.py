"""Issue 26, points 1, 4 and 5: each sound of a pack remembers the song it was saved from; a
conformed ZIP follows those songs unless one song is chosen for all; conformed files are named
with their own tempo and key only, sharps kept."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest
import soundfile as sf
from django.urls import reverse

from accounts.models import User
from fakeapis.freesound_catalogue import FreesoundCatalogue
from predictions.models import Prediction
from samples import freesound
from samples.exports import NO_SONG, pack_export_build, pack_export_request, pack_signature
from samples.models import Pack, PackExport, PackItem, Sound
from samples.packs import SongNotOwned, pack_add_sound, pack_create
from samples.sounds import sound_upsert_many
from samples.templatetags.samples_tags import conform_song_label
from samples.zips import daw_filename, key_short
from tests.predictions.factories import DonePredictionFactory
from tests.samples.factories import make_sound

needs_rubberband = pytest.mark.skipif(shutil.which("rubberband") is None, reason="needs rubberband-cli")


# --- File names (point 5) ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "short"),
    [
        ("A minor", "Am"),
        ("C# minor", "Csm"),
        ("c♯ min", "Csm"),
        ("F# major", "Fs"),
        ("Eb minor", "Ebm"),
        ("Bb", "Bb"),
        ("nonsense", ""),
        ("", ""),
    ],
)
def test_file_names_spell_a_sharp_as_s_and_a_flat_as_b(key, short):
    assert key_short(key) == short


def test_a_conformed_file_carries_only_its_own_tempo_and_key():
    for name in ("tech_house_bassline_126_bpm_eb_minor_4.wav", "Tech House Bassline 126 BPM Eb Minor 4.wav"):
        assert (
            daw_filename(name=name, bpm=97, key="E minor", suffix="wav", conformed=True)
            == "tech_house_bassline_4_97bpm_Em.wav"
        )
    assert (
        daw_filename(name="Pad in C# min 90bpm", bpm=72.0, key="C# minor", suffix="wav", conformed=True)
        == "pad_72bpm_Csm.wav"
    )
    # The original keeps its name's words; a sharp in them survives too.
    assert (
        daw_filename(name="Pad C# minor", bpm=90, key="C# minor", suffix="mp3")
        == "pad_cs_minor_90bpm_Csm.mp3"
    )


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("deep_house_groove_loop_124bpm_Amin_take2", "deep_house_groove_loop_take2"),
        ("Bass Ebm 120 BPM", "bass"),
        ("F#m stab", "stab"),
        # Not tempo or key words: a chord, a drum machine, a bar count, a bare note, a lowercase "am".
        ("Cmaj7 chord 808 4 bars", "cmaj7_chord_808_4_bars"),
        ("Bass in C", "bass_in_c"),
        ("i am 1000bpm loop", "i_am_1000bpm_loop"),
        ("E-Piano Rhodes", "e_piano_rhodes"),
    ],
)
def test_only_recognised_tempo_and_key_words_are_taken_out_of_a_name(name, stem):
    assert (
        daw_filename(name=name, bpm=97, key="E minor", suffix="wav", conformed=True) == f"{stem}_97bpm_Em.wav"
    )


def test_a_name_of_tempo_and_key_alone_becomes_sample():
    assert daw_filename(name="126 BPM Eb minor.wav", bpm=97, key="E", suffix="wav", conformed=True) == (
        "sample_97bpm_E.wav"
    )


# --- Saving records the song (the data behind points 1 and 4) -----------------------------------------------


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def song(user: User) -> Prediction:
    return DonePredictionFactory(owner=user, tempo_bpm=97.0, key="E minor", title="Drive", artist="")


def test_saving_from_the_result_page_records_the_song(client_in, user, song):
    sound = make_sound(1)

    client_in.post(reverse("samples:sound_save"), {"sound": sound.pk, "pack_name": "Night", "song": song.pk})

    assert PackItem.objects.get(pack__name="Night", sound=sound).song == song


def test_a_foreign_or_malformed_song_is_not_recorded(client_in, user, other_user, song):
    theirs = DonePredictionFactory(owner=other_user)
    for n, posted in enumerate((theirs.pk, "x1", ""), start=1):
        client_in.post(
            reverse("samples:sound_save"), {"sound": make_sound(n).pk, "pack_name": "Night", "song": posted}
        )
    assert list(PackItem.objects.values_list("song", flat=True)) == [None, None, None]
    with pytest.raises(SongNotOwned):
        pack_add_sound(pack=Pack.objects.get(name="Night"), sound=make_sound(9), song=theirs)


def test_saving_again_from_a_song_fills_in_an_unknown_song_and_keeps_a_known_one(user, song):
    pack = pack_create(owner=user, name="Night")
    older, known = make_sound(1), make_sound(2)
    pack_add_sound(pack=pack, sound=older)
    pack_add_sound(pack=pack, sound=known, song=song)
    other = DonePredictionFactory(owner=user)

    assert pack_add_sound(pack=pack, sound=older, song=other) is False
    assert pack_add_sound(pack=pack, sound=known, song=other) is False

    assert pack.items.get(sound=older).song == other
    assert pack.items.get(sound=known).song == song


def test_the_pack_page_adds_a_suggestion_with_the_song_it_was_recommended_for(client_in, user, song):
    from samples.models import Recommendation

    pack = pack_create(owner=user, name="Night")
    sound = make_sound(1)
    Recommendation.objects.create(prediction=song, sound=sound, rank=1, genre="dance")
    page = client_in.get(pack.get_absolute_url()).content.decode()
    assert f'<input type="hidden" name="song" value="{song.pk}">' in page

    client_in.post(reverse("samples:pack_item_add", args=[pack.pk, sound.pk]), {"song": song.pk})

    assert pack.items.get().song == song


# --- The ZIP's choice (point 1) ---------------------------------------------------------------------------------


def test_conformed_by_default_follows_each_sounds_song_and_one_song_is_a_choice(
    client_in, user, song, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("samples.views.conforming_disabled_reason", lambda: "")
    pack = pack_create(owner=user, name="Night")
    pack_add_sound(pack=pack, sound=make_sound(1), song=song)
    url = reverse("samples:pack_download", args=[pack.pk])

    with django_capture_on_commit_callbacks():
        client_in.post(url, {"contents": "conformed", "song": ""})
        client_in.post(url, {"contents": "both", "song": song.pk})
    each, one = PackExport.objects.order_by("id")

    assert (each.contents, each.song) == ("conformed", None)
    assert (one.contents, one.song) == ("both", song)


def test_the_choice_is_part_of_the_zips_identity(user, song):
    pack = pack_create(owner=user, name="Night")
    item_sound = make_sound(1)
    pack_add_sound(pack=pack, sound=item_sound, song=song)
    signatures = {
        pack_signature(pack),
        pack_signature(pack, contents="conformed"),
        pack_signature(pack, contents="conformed", song=song),
        pack_signature(pack, contents="both"),
    }
    assert len(signatures) == 4
    assert pack_export_request(pack=pack, contents="conformed") == pack_export_request(
        pack=pack, contents="conformed"
    )

    before = pack_signature(pack, contents="conformed")
    Prediction.objects.filter(pk=song.pk).update(user_tempo_bpm=100.0)  # the user corrects the tempo
    song.refresh_from_db()
    pack.refresh_from_db()
    assert pack_signature(pack, contents="conformed") != before
    assert pack_signature(pack) == pack_signature(pack, contents="originals", song=song)


def test_song_labels_are_short_enough_to_read_whole(user):
    long = DonePredictionFactory(
        owner=user,
        artist="Blue Hollow Trio",
        title="Muddy Waters Rolling Down the Delta at Midnight",
        tempo_bpm=97.2,
        key="C major",
    )
    short = DonePredictionFactory(owner=user, artist="Daft Punk", title="Da Funk", tempo_bpm=None, key="")
    long_artist = DonePredictionFactory(
        owner=user, artist="Daft Punk", title="Digital Love", tempo_bpm=None, key=""
    )

    assert conform_song_label(long) == "Muddy Waters… · 97 BPM · C major"
    assert conform_song_label(short) == "Daft Punk – Da Funk"
    assert conform_song_label(long_artist) == "Digital Love"


# --- The ZIP itself ---------------------------------------------------------------------------------------------


def _sound(fs: FreesoundCatalogue, name: str, query: str, **options: object) -> Sound:
    fs.add_sound(name, licence="cc0", tags=(query,), **options)
    (sound,) = sound_upsert_many(results=freesound.search(query=query).results)
    return sound


def _beats(duration_s: float, bpm: float) -> float:
    return duration_s * bpm / 60.0


@needs_rubberband
def test_two_sounds_from_two_songs_are_conformed_each_to_its_own_song(user, fs, song):
    slow = DonePredictionFactory(owner=user, tempo_bpm=72.0, key="Ab minor", title="Slow", artist="")
    bass = _sound(
        fs,
        "Tech House Bassline 126 BPM Eb minor 4.wav",
        "bassline",
        bpm=126,
        tonality="Eb minor",
        duration=2.86,  # 6 beats at 126 BPM (a claimed tempo must fit the loop's length)
    )
    pad = _sound(fs, "Dark Pad C# minor.wav", "pad", bpm=80, tonality="C# minor", duration=3.0)
    snare = _sound(fs, "snare hit.wav", "snare", duration=0.5)
    pack = pack_create(owner=user, name="Two songs")
    pack_add_sound(pack=pack, sound=bass, song=song)  # Drive: 97 BPM, E minor
    pack_add_sound(pack=pack, sound=pad, song=slow)  # Slow: 72 BPM, Ab minor
    pack_add_sound(pack=pack, sound=snare)  # saved before songs were recorded

    export = pack_export_request(pack=pack, contents="conformed")
    pack_export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "done", export.error

    archive = zipfile.ZipFile(io.BytesIO(export.file.read()))
    assert set(archive.namelist()) == {
        "tech_house_bassline_4_97bpm_Em.wav",
        "dark_pad_72bpm_Csm.wav",  # a fifth below Ab minor: pitch kept, the sharp kept
        "snare_hit.mp3",
        "ATTRIBUTION.txt",
        "pack.json",
    }
    for name, bpm in (("tech_house_bassline_4_97bpm_Em.wav", 97), ("dark_pad_72bpm_Csm.wav", 72)):
        info = sf.info(io.BytesIO(archive.read(name)))
        assert (info.samplerate, info.subtype) == (44100, "PCM_16")
        assert _beats(info.duration, bpm) == pytest.approx(round(_beats(info.duration, bpm)), abs=0.05)

    text = archive.read("ATTRIBUTION.txt").decode()
    assert "each conformed to the tempo and key of\nthe song it was saved from" in text
    assert (
        "[modified for “Drive”: stretched 126 → 97 BPM, +1 semitone (to E minor, the song's key); "
        "tech_house_bassline_4_97bpm_Em.wav]" in text
    )
    assert "[modified for “Slow”: stretched 80 → 72 BPM, pitch kept (to C# minor, a fifth below" in text
    assert f"[not conformed: {NO_SONG}]" in text
    meta = json.loads(archive.read("pack.json"))
    assert meta["conformed_to"] == {"song": None, "each_to_its_song": True, "tool": "Rubber Band"}
    by_name = {s["name"]: s for s in meta["sounds"]}
    assert by_name["Tech House Bassline 126 BPM Eb minor 4.wav"]["conformed"]["song"] == "Drive"
    assert by_name["Dark Pad C# minor.wav"]["conformed"]["song"] == "Slow"
    assert by_name["Dark Pad C# minor.wav"]["conformed"]["key"] == "C# minor"
    assert by_name["snare hit.wav"]["file"] == "snare_hit.mp3"
    assert by_name["snare hit.wav"]["conformed"] == {"file": None, "error": NO_SONG}


@needs_rubberband
def test_all_to_one_song_conforms_every_sound_to_it_songless_ones_too(user, fs, song):
    slow = DonePredictionFactory(owner=user, tempo_bpm=72.0, key="Ab minor", title="Slow", artist="")
    pad = _sound(fs, "Dark Pad C# minor.wav", "pad", bpm=80, tonality="C# minor", duration=3.0)
    older = _sound(fs, "Old Pad 80 BPM C# minor.wav", "old", bpm=80, tonality="C# minor", duration=3.0)
    pack = pack_create(owner=user, name="One song")
    pack_add_sound(pack=pack, sound=pad, song=slow)
    pack_add_sound(pack=pack, sound=older)

    export = pack_export_request(pack=pack, contents="conformed", song=song)
    pack_export_build(export_id=export.pk)
    export.refresh_from_db()

    archive = zipfile.ZipFile(io.BytesIO(export.file.read()))
    assert set(archive.namelist()) == {
        "dark_pad_97bpm_Bm.wav",
        "old_pad_97bpm_Bm.wav",
        "ATTRIBUTION.txt",
        "pack.json",
    }
    assert "conformed to “Drive” (97 BPM, E minor)" in archive.read("ATTRIBUTION.txt").decode()
