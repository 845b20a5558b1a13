"""Reads for the samples app: what a user may see of recommendations and packs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from core.fragments import version
from predictions.models import Prediction
from predictions.presenters import prediction_version
from predictions.taxonomy import genre_name

from .freesound import MissingApiKey
from .models import (
    GenreSearch,
    Pack,
    PackExport,
    PackItem,
    Recommendation,
    RecommendationRun,
    SamplePreference,
    Sound,
)
from .recommend import Fit, Promise, sample_fit, samples_promise

DEFAULT_BPM_TOLERANCE = 6  # GenreSearch.bpm_tolerance's default, for a genre since removed


@dataclass(frozen=True)
class SampleCard:
    recommendation: Recommendation
    fit: Fit

    @property
    def sound(self) -> Sound:
        return self.recommendation.sound


def sample_cards(*, prediction: Prediction, recommendations: list[Recommendation]) -> list[SampleCard]:
    """Each recommendation with how it fits the song's tempo and key as they are now (the user's
    correction included), within the tolerance of the genre it was chosen for."""
    tolerances = dict(GenreSearch.objects.values_list("slug", "bpm_tolerance"))
    return [
        SampleCard(
            r,
            sample_fit(
                song_bpm=prediction.song_tempo_bpm,
                song_key=prediction.song_key,
                loop_bpm=r.sound.bpm,
                loop_key=r.sound.key,
                tolerance=tolerances.get(r.genre, DEFAULT_BPM_TOLERANCE),
            ),
        )
        for r in recommendations
    ]


def recommendation_list_for_prediction(*, prediction: Prediction) -> list[Recommendation]:
    return list(Recommendation.objects.filter(prediction=prediction).select_related("sound").order_by("rank"))


def pack_get_for_user(*, user: User, pk: int) -> Pack:
    """The user's own pack, or Http404: other users' packs do not exist for them."""
    return get_object_or_404(Pack, pk=pk, owner=user)


def export_get_for_user(*, user: User, pk: int) -> PackExport:
    """A ZIP of one of the user's packs (its pack read with it), or Http404."""
    return get_object_or_404(PackExport.objects.select_related("pack"), pk=pk, pack__owner=user)


def pack_list_for_user(*, user: User) -> QuerySet[Pack]:
    return Pack.objects.filter(owner=user).annotate(item_count=Count("items")).order_by("-updated_at", "-id")


def pack_names_for_user(*, user: User) -> list[str]:
    return list(Pack.objects.filter(owner=user).order_by("name").values_list("name", flat=True)[:200])


def pack_songs(*, packs: list[Pack], limit: int = 3) -> dict[int, list[str]]:
    """pack id → the songs the pack's sounds were saved from (PackItem.song), most recent song
    first, at most `limit` each. Items whose song is unknown (saved before it was recorded) add none."""
    rows = (
        PackItem.objects.filter(pack__in=packs, song__isnull=False)
        .values_list("pack_id", "song_id", "song__title", "song__artist")
        .order_by("-song__created_at", "-song_id")
        .distinct()
    )
    songs: dict[int, dict[int, str]] = {}
    for pack_id, song_id, title, artist in rows:
        label = f"{artist} – {title}" if artist and title else title or artist or "Uploaded song"
        songs.setdefault(pack_id, {}).setdefault(song_id, label)
    return {pack_id: list(by_song.values())[:limit] for pack_id, by_song in songs.items()}


def song_for_user(*, user: User, pk: object) -> Prediction | None:
    """The user's finished song with this id (a posted or query-string value), or None: a sound
    saved with a missing, foreign or malformed song id is saved without one."""
    if isinstance(pk, str):
        pk = int(pk) if re.fullmatch(r"[0-9]{1,18}", pk) else None
    if not isinstance(pk, int) or pk <= 0:
        return None
    return Prediction.objects.filter(pk=pk, owner=user, status=Prediction.Status.DONE).first()


def sound_list_for_pack(*, pack: Pack) -> list[Sound]:
    return [item.sound for item in pack.items.select_related("sound")]


@dataclass(frozen=True)
class SoundSuggestion:
    """A sound to add to a pack, with the song it was recommended for (the song it is saved from)."""

    sound: Sound
    song_id: int


def sound_suggestions_for_pack(*, pack: Pack, limit: int = 12) -> list[SoundSuggestion]:
    """Sounds recently recommended to the pack's owner that are not in the pack yet, each with the
    song it was last recommended for."""
    recent = (
        Recommendation.objects.filter(prediction__owner=pack.owner, sound__removed=False)
        .exclude(sound__pack_items__pack=pack)
        .select_related("sound")
        .order_by("-created_at", "-id")
    )
    seen: dict[int, SoundSuggestion] = {}
    for recommendation in recent[: limit * 3]:
        seen.setdefault(
            recommendation.sound_id, SoundSuggestion(recommendation.sound, recommendation.prediction_id)
        )
    return list(seen.values())[:limit]


def allows_noncommercial(*, user: User) -> bool:
    return SamplePreference.objects.filter(user=user, allow_noncommercial=True).exists()


def recommendation_run_for(*, prediction: Prediction) -> RecommendationRun | None:
    """The prediction's samples stage; None before it started (or for a prediction still running)."""
    return RecommendationRun.objects.filter(prediction=prediction).first()


def samples_message_for(*, prediction: Prediction) -> str:
    run = recommendation_run_for(prediction=prediction)
    return run.message if run is not None else ""


def samples_stage_status(*, prediction: Prediction) -> str:
    """pending, running, done or failed; "" while the prediction has not reached that stage."""
    run = recommendation_run_for(prediction=prediction)
    return run.status if run is not None else ""


def samples_off_reason() -> str:
    """Why no sample can come from Freesound at all, "" when a key is configured: the sentence the
    samples stage stores when it meets the missing key (it says where to get one)."""
    return "" if settings.FREESOUND_API_KEY else str(MissingApiKey())


def recommendations_panel(*, prediction: Prediction, user: User) -> dict[str, Any]:
    """Everything the recommendations include shows for one prediction: "Finding samples…" while
    the samples stage runs (the fragment polls itself), then the cards."""
    run = recommendation_run_for(prediction=prediction)
    if run is not None and not run.is_finished:
        # Polled every second: "Finding samples…" shows none of the cards, packs or preferences.
        return {"prediction": prediction, "finding_samples": True}
    recommendations = recommendation_list_for_prediction(prediction=prediction)
    genres = list(dict.fromkeys(r.genre for r in recommendations))
    mixed = [g for g in genres if g != prediction.song_genre]
    cards = sample_cards(prediction=prediction, recommendations=recommendations)
    promise: Promise = samples_promise([card.fit for card in cards])
    return {
        "prediction": prediction,
        "recommendations": recommendations,
        "cards": cards,
        "promise": promise,
        "song_genre": prediction.song_genre,
        "song_genre_name": genre_name(prediction.song_genre) if prediction.song_genre else "",
        "pack_names": pack_names_for_user(user=user),
        "mixed_genre": genre_name(mixed[0]) if mixed else "",
        "top_genre_name": genre_name(prediction.top_genre) if prediction.top_genre else "",
        "mix_threshold": settings.SAMPLES_MIX_BELOW_CONFIDENCE,
        "allow_noncommercial": allows_noncommercial(user=user),
        "samples_message": run.message if run is not None else "",
        "samples_off": samples_off_reason(),
        "finding_samples": False,
    }


def recommendations_panel_version(
    *, prediction: Prediction, user: User, run: RecommendationRun | None
) -> str:
    """A version of everything the finished panel shows (core.fragments): the song's values, the
    stage, the recommendations and their sounds, the user's packs and preference, the genres'
    tempo tolerances, whether conforming is on and whether the user's Freesound account gives
    original files. Any change to one gives a new version."""
    from .conform.conforming import conforming_disabled_reason
    from .freesound_oauth import account_connected, oauth_enabled

    shown_sound = ("name", "author", "licence_url", "duration", "bpm", "key", "page_url", "preview_url",
                   "image_url", "removed")  # fmt: skip
    recommendations = Recommendation.objects.filter(prediction=prediction).order_by("rank")
    return version(
        prediction_version(prediction),
        (run.pk, run.status, run.reason, run.message, run.finished_at) if run else None,
        list(
            recommendations.values_list(
                "pk", "rank", "batch", "genre", "why", "sound_id", *(f"sound__{name}" for name in shown_sound)
            )
        ),  # fmt: skip
        user.pk,
        list(Pack.objects.filter(owner=user).values_list("pk", "name", "updated_at")),
        allows_noncommercial(user=user),
        list(GenreSearch.objects.values_list("slug", "bpm_tolerance")),
        conforming_disabled_reason(),
        (oauth_enabled(), account_connected(user=user)),
    )


def conform_song_choices(*, user: User, limit: int = 20) -> list[Prediction]:
    """The user's recent finished songs with a tempo or a key: a pack ZIP can be conformed to one."""
    done = Prediction.objects.filter(owner=user, status=Prediction.Status.DONE)
    return list(done.exclude(tempo_bpm__isnull=True, key="").order_by("-created_at")[:limit])
