"""Output serializers shared by several endpoints. They read models and the presenters the pages
use; none of them writes anything."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from predictions.models import Prediction
from predictions.presenters import (
    genre_bars,
    genre_view,
    key_view,
    prediction_status_dict,
    progress_percent,
    tempo_view,
)
from predictions.taxonomy import genre_name
from samples.licences import Licence
from samples.models import Pack, PackExport, RecommendationRun
from samples.selectors import (
    recommendation_list_for_prediction,
    sample_cards,
    samples_message_for,
    samples_stage_status,
    sound_list_for_pack,
)


def absolute_url(serializer: serializers.Serializer, name: str, *args: object) -> str:
    path = reverse(name, args=args)
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


# --- Sounds -------------------------------------------------------------------------------------------


class SoundSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Use this id to add the sound to a pack.")
    freesound_id = serializers.IntegerField()
    name = serializers.CharField()
    author = serializers.CharField()
    licence = serializers.ChoiceField(choices=Licence.choices)
    licence_url = serializers.URLField()
    attribution = serializers.CharField(help_text="The credit line the licence asks for.")
    duration = serializers.FloatField(help_text="Seconds.")
    bpm = serializers.IntegerField(allow_null=True)
    key = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    page_url = serializers.URLField()
    preview_url = serializers.URLField(help_text="Freesound's HQ MP3 preview.")
    image_url = serializers.CharField(help_text="Waveform image; may be empty.")


class RecommendationSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    batch = serializers.IntegerField(
        help_text="0 for the first five; later batches come from “More like these”."
    )
    genre = serializers.CharField(help_text="The genre this sound was chosen for.")
    matched_tempo = serializers.BooleanField(help_text="In tempo when it was chosen.")
    matched_key = serializers.BooleanField(help_text="In the same key when it was chosen.")
    why = serializers.CharField(
        help_text="Why it was chosen, e.g. “sounds close: synth, electronic, beat”; empty when the "
        "sample was ranked by tempo and key alone."
    )
    sound = SoundSerializer()


class FitSerializer(serializers.Serializer):
    tempo = serializers.CharField(
        help_text="How the sound's BPM sits with the song's tempo now: “in tempo”, “half-time”, "
        "“double-time”, “off tempo”, or empty when a tempo is unknown."
    )
    key = serializers.CharField(
        help_text="How its key sits with the song's: “same key”, “relative key”, “a fifth up”, "
        "“a fifth down”, “other key”, or empty when a key is unknown."
    )


class SampleCardSerializer(RecommendationSerializer):
    fit = FitSerializer()

    def to_representation(self, card: Any) -> dict[str, Any]:
        """A samples.selectors.SampleCard: its recommendation, and how it fits the song now."""
        return {**RecommendationSerializer(card.recommendation).data, "fit": FitSerializer(card.fit).data}


# --- Predictions --------------------------------------------------------------------------------------


class GenreProbabilitySerializer(serializers.Serializer):
    genre = serializers.CharField(source="slug")
    name = serializers.CharField()
    probability = serializers.FloatField()


class TagSerializer(serializers.Serializer):
    tag = serializers.CharField()
    score = serializers.FloatField()


class PredictionSerializer(serializers.Serializer):
    """A prediction in lists: the job's state and the headline result."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Prediction.Status.choices)
    stage = serializers.ChoiceField(
        choices=Prediction.Stage.choices, help_text="What a running job is doing; empty otherwise."
    )
    progress = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()
    finished = serializers.BooleanField(source="is_finished")
    source = serializers.ChoiceField(choices=Prediction.Source.choices)  # type: ignore[assignment]  # declared fields leave the class: no clash with Field.source
    source_track_id = serializers.CharField()
    title = serializers.CharField()
    artist = serializers.CharField()
    album = serializers.CharField()
    artwork_url = serializers.CharField()
    duration_s = serializers.IntegerField(allow_null=True)
    top_genre = serializers.SerializerMethodField()
    top_genre_name = serializers.SerializerMethodField()
    sounds_like = serializers.ChoiceField(
        choices=["", *Prediction.SoundsLike.values],
        allow_blank=True,
        help_text="What the audio sounds like: music, noise, speech or near_silence (empty until done, and "
        "for predictions made before this was asked). Anything but music names no top genre, gives the "
        "tempo and key no confidence label and gets no samples.",
    )
    confidence = serializers.FloatField(allow_null=True, help_text="The top genre's probability.")
    tempo_bpm = serializers.FloatField(allow_null=True)
    key = serializers.CharField(help_text="e.g. “A minor”; empty until done.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, prediction: Prediction) -> str:
        return absolute_url(self, "api:prediction-detail", prediction.pk)

    def get_progress(self, prediction: Prediction) -> int:
        return progress_percent(prediction)

    def get_message(self, prediction: Prediction) -> str:
        """While it runs: what it is doing; once failed: why."""
        return str(prediction_status_dict(prediction)["message"] or "")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_top_genre(self, prediction: Prediction) -> str | None:
        """Null for audio that does not sound like music: no genre is claimed for it."""
        return (prediction.top_genre or None) if not prediction.not_music else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_top_genre_name(self, prediction: Prediction) -> str | None:
        top = self.get_top_genre(prediction)
        return genre_name(top) if top else None


CONFIDENCE_WORDS = ["", "sure", "fairly sure", "unsure"]


class TempoSerializer(serializers.Serializer):
    bpm = serializers.FloatField(allow_null=True, help_text="The user's tempo where set, else the estimate.")
    estimate_bpm = serializers.FloatField(allow_null=True)
    set_by_user = serializers.BooleanField()
    confidence = serializers.FloatField(allow_null=True, help_text="Of the estimate, 0–1.")
    confidence_label = serializers.ChoiceField(choices=CONFIDENCE_WORDS, source="confidence_word")
    alternative_bpm = serializers.FloatField(
        allow_null=True, help_text="The estimate's other reading (usually ×2 or ÷2) while it is not sure."
    )
    metric_alternative_bpm = serializers.FloatField(
        allow_null=True,
        read_only=True,
        help_text="The estimate ×3/2 or ×2/3 while it is not sure, when the estimator found that "
        "reading plausible; null otherwise.",
    )
    beat_times = serializers.ListField(child=serializers.FloatField(), help_text="Seconds; may be empty.")
    downbeat_times = serializers.ListField(
        child=serializers.FloatField(),
        read_only=True,
        help_text="Seconds from the excerpt's start of each bar's first beat (the “1”), each also in "
        "beat_times; empty when the bar is unknown.",
    )
    beats_per_bar = serializers.IntegerField(
        allow_null=True, read_only=True, help_text="How many beats a bar holds; null when the bar is unknown."
    )


class KeyChoiceSerializer(serializers.Serializer):
    key = serializers.CharField(source="name")
    why = serializers.CharField(help_text="likely, relative key, parallel key, a fifth up/down, the estimate")


class KeySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The user's key where set, else the estimate; empty if unknown.")
    estimate = serializers.CharField()
    set_by_user = serializers.BooleanField()
    confidence = serializers.FloatField(allow_null=True)
    confidence_label = serializers.ChoiceField(choices=CONFIDENCE_WORDS, source="confidence_word")
    alternatives = KeyChoiceSerializer(many=True, source="choices", help_text="What the key picker offers.")


class GenreChoiceSerializer(serializers.Serializer):
    genre = serializers.CharField(source="slug", help_text="The genre samples are found for.")
    name = serializers.CharField()
    set_by_user = serializers.BooleanField()
    none_of_these = serializers.BooleanField(help_text="The user said it is none of the model's genres.")


class PredictionDetailSerializer(PredictionSerializer):
    """A prediction with its whole result and its recommended samples."""

    error = serializers.CharField(help_text="Why the job failed, or why a pending job waits to retry.")
    queued_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    probabilities = serializers.SerializerMethodField()
    tempo_confidence = serializers.FloatField(allow_null=True)
    key_confidence = serializers.FloatField(allow_null=True)
    tags = serializers.SerializerMethodField()
    outside_taxonomy = serializers.CharField(
        help_text='A style outside the model\'s genres when heard (e.g. "jazz"); "none" when the song is none of '
        "them and no tag names what it is; else empty."
    )
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    rerun_of = serializers.IntegerField(source="rerun_of_id", allow_null=True)
    web_url = serializers.SerializerMethodField()
    recommendations = serializers.SerializerMethodField()
    samples_status = serializers.SerializerMethodField(
        help_text="The samples stage, which starts once the prediction is done: pending, running, done "
        "or failed; empty before it starts. Recommendations appear when it is done."
    )
    samples_message = serializers.SerializerMethodField(
        help_text="Why there are no samples, when there are none."
    )
    tempo = serializers.SerializerMethodField()
    musical_key = serializers.SerializerMethodField()
    genre = serializers.SerializerMethodField()
    corrected_at = serializers.DateTimeField(allow_null=True, help_text="When the user last corrected it.")

    @extend_schema_field(TempoSerializer)
    def get_tempo(self, prediction: Prediction) -> dict[str, Any]:
        """`tempo_bpm` and `key` above stay the model's estimates; these say what the site uses."""
        return TempoSerializer(tempo_view(prediction)).data

    @extend_schema_field(KeySerializer)
    def get_musical_key(self, prediction: Prediction) -> dict[str, Any]:
        return KeySerializer(key_view(prediction)).data

    @extend_schema_field(GenreChoiceSerializer)
    def get_genre(self, prediction: Prediction) -> dict[str, Any]:
        return GenreChoiceSerializer(genre_view(prediction)).data

    @extend_schema_field(GenreProbabilitySerializer(many=True))
    def get_probabilities(self, prediction: Prediction) -> list[dict[str, Any]]:
        """Every genre of the model, most likely first."""
        return GenreProbabilitySerializer(genre_bars(prediction), many=True).data  # type: ignore[return-value]  # many=True gives a ListSerializer, whose data is a list

    @extend_schema_field(TagSerializer(many=True))
    def get_tags(self, prediction: Prediction) -> list[dict[str, Any]]:
        return [{"tag": str(tag), "score": float(score)} for tag, score in prediction.tags]

    @extend_schema_field(OpenApiTypes.URI)
    def get_web_url(self, prediction: Prediction) -> str:
        return absolute_url(self, "predictions:detail", prediction.pk)

    @extend_schema_field(
        serializers.ChoiceField(choices=["", *RecommendationRun.Status.values], allow_blank=True)
    )
    def get_samples_status(self, prediction: Prediction) -> str:
        return samples_stage_status(prediction=prediction)

    def get_samples_message(self, prediction: Prediction) -> str:
        return samples_message_for(prediction=prediction)

    @extend_schema_field(SampleCardSerializer(many=True))
    def get_recommendations(self, prediction: Prediction) -> list[dict[str, Any]]:
        recommendations = recommendation_list_for_prediction(prediction=prediction)
        cards = sample_cards(prediction=prediction, recommendations=recommendations)
        return SampleCardSerializer(cards, many=True).data  # type: ignore[return-value]  # many=True gives a ListSerializer, whose data is a list


# --- Packs --------------------------------------------------------------------------------------------


class PackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    name = serializers.CharField()
    notes = serializers.CharField()
    sound_count = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, pack: Pack) -> str:
        return absolute_url(self, "api:pack-detail", pack.pk)

    def get_sound_count(self, pack: Pack) -> int:
        count = getattr(pack, "item_count", None)  # annotated by the list selector
        return count if count is not None else pack.items.count()


class PackDetailSerializer(PackSerializer):
    sounds = serializers.SerializerMethodField()

    @extend_schema_field(SoundSerializer(many=True))
    def get_sounds(self, pack: Pack) -> list[dict[str, Any]]:
        return SoundSerializer(sound_list_for_pack(pack=pack), many=True).data  # type: ignore[return-value]  # many=True gives a ListSerializer, whose data is a list


class ExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    pack = serializers.IntegerField(source="pack_id")
    status = serializers.ChoiceField(choices=PackExport.Status.choices)
    progress = serializers.IntegerField(help_text="Percent of the sounds fetched.")
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    file_url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, export: PackExport) -> str:
        return absolute_url(self, "api:export-detail", export.pk)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_file_url(self, export: PackExport) -> str | None:
        """Where to download the ZIP once it is ready."""
        if export.status != PackExport.Status.DONE:
            return None
        return absolute_url(self, "api:export-file", export.pk)


# --- Catalog ------------------------------------------------------------------------------------------


class ArtistSerializer(serializers.Serializer):
    provider = serializers.CharField()
    id = serializers.CharField()
    name = serializers.CharField()
    image_url = serializers.CharField()


class AlbumSerializer(serializers.Serializer):
    provider = serializers.CharField()
    id = serializers.CharField()
    title = serializers.CharField()
    artist = serializers.CharField()
    image_url = serializers.CharField()
    release_date = serializers.CharField()
    record_type = serializers.CharField(help_text="album, single, compilation or ep.")
    track_count = serializers.IntegerField(allow_null=True)


class TrackSerializer(serializers.Serializer):
    provider = serializers.CharField()
    id = serializers.CharField(help_text="Send with the provider to create a prediction.")
    title = serializers.CharField()
    artist = serializers.CharField()
    album = serializers.CharField()
    album_id = serializers.CharField()
    duration_s = serializers.IntegerField(allow_null=True)
    isrc = serializers.CharField()
    artwork_url = serializers.CharField()
    track_number = serializers.IntegerField(allow_null=True)


def _catalog_page(name: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """One page of a catalog list; pass `next_offset` as `offset` for the next page."""
    fields = {
        "items": item(many=True),
        "offset": serializers.IntegerField(),
        "limit": serializers.IntegerField(),
        "total": serializers.IntegerField(allow_null=True),
        "next_offset": serializers.IntegerField(allow_null=True, help_text="null on the last page."),
    }
    return type(name, (serializers.Serializer,), fields)


ArtistPageSerializer = _catalog_page("ArtistPageSerializer", ArtistSerializer)
AlbumPageSerializer = _catalog_page("AlbumPageSerializer", AlbumSerializer)
TrackPageSerializer = _catalog_page("TrackPageSerializer", TrackSerializer)
