from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from core.fragments import cached_fragment
from predictions.models import Prediction
from predictions.presenters import analysis_version, prediction_context
from predictions.taxonomy import genre_name as _genre_name
from predictions.taxonomy import served_model

register = template.Library()


@register.filter
def genre_name(slug: str) -> str:
    return _genre_name(slug) if slug else ""


@register.filter
def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


@register.simple_tag(takes_context=True)
def analysis_panel(context: template.Context, prediction: Prediction) -> SafeString:
    """The genre, tempo and key cards of a finished song, rendered once per version of the row."""
    key = f"analysis:{prediction.pk}:{analysis_version(prediction, served_model())}"
    return cached_fragment(
        key,
        "predictions/includes/analysis.html",
        lambda: prediction_context(prediction),
        csrf_token=context.get("csrf_token"),
    )
