from __future__ import annotations

from typing import Any

from django import template

from predictions.models import Prediction

from ..selectors import recommendations_panel as panel_context

register = template.Library()


@register.inclusion_tag("samples/includes/recommendations_panel.html", takes_context=True)
def recommendations_panel(context: template.Context, prediction: Prediction) -> dict[str, Any]:
    request = context["request"]
    return {
        **panel_context(prediction=prediction, user=request.user),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def seconds(value: float | None) -> str:
    """8.25 → "0:08"; 75 → "1:15"."""
    if value is None:
        return ""
    total = round(value)
    return f"{total // 60}:{total % 60:02d}"
