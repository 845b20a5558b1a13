"""Reads for the samples app: what a user may see of recommendations and packs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet

from accounts.models import User
from predictions.models import Prediction
from predictions.taxonomy import genre_name

from .models import Pack, Recommendation, RecommendationRun, SamplePreference, Sound


def recommendation_list_for_prediction(*, prediction: Prediction) -> list[Recommendation]:
    return list(Recommendation.objects.filter(prediction=prediction).select_related("sound").order_by("rank"))


def pack_list_for_user(*, user: User) -> QuerySet[Pack]:
    return Pack.objects.filter(owner=user).annotate(item_count=Count("items")).order_by("-updated_at", "-id")


def pack_names_for_user(*, user: User) -> list[str]:
    return list(Pack.objects.filter(owner=user).order_by("name").values_list("name", flat=True)[:200])


def sound_list_for_pack(*, pack: Pack) -> list[Sound]:
    return [item.sound for item in pack.items.select_related("sound")]


def sound_suggestions_for_pack(*, pack: Pack, limit: int = 12) -> list[Sound]:
    """Sounds recently recommended to the pack's owner that are not in the pack yet."""
    recent = (
        Sound.objects.filter(recommendations__prediction__owner=pack.owner, removed=False)
        .exclude(pack_items__pack=pack)
        .order_by("-recommendations__created_at")
        .distinct()
    )
    seen: dict[int, Sound] = {}
    for sound in recent[: limit * 3]:
        seen.setdefault(sound.pk, sound)
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


def recommendations_panel(*, prediction: Prediction, user: User) -> dict[str, Any]:
    """Everything the recommendations include shows for one prediction: "Finding samples…" while
    the samples stage runs (the fragment polls itself), then the cards."""
    run = recommendation_run_for(prediction=prediction)
    recommendations = recommendation_list_for_prediction(prediction=prediction)
    genres = list(dict.fromkeys(r.genre for r in recommendations))
    mixed = [g for g in genres if g != prediction.top_genre]
    return {
        "prediction": prediction,
        "recommendations": recommendations,
        "pack_names": pack_names_for_user(user=user),
        "mixed_genre": genre_name(mixed[0]) if mixed else "",
        "top_genre_name": genre_name(prediction.top_genre) if prediction.top_genre else "",
        "mix_threshold": settings.SAMPLES_MIX_BELOW_CONFIDENCE,
        "allow_noncommercial": allows_noncommercial(user=user),
        "samples_message": run.message if run is not None else "",
        "finding_samples": run is not None and not run.is_finished,
    }


def conform_song_choices(*, user: User, limit: int = 20) -> list[Prediction]:
    """The user's recent finished songs with a tempo or a key: a pack ZIP can be conformed to one."""
    done = Prediction.objects.filter(owner=user, status=Prediction.Status.DONE)
    return list(done.exclude(tempo_bpm__isnull=True, key="").order_by("-created_at")[:limit])
