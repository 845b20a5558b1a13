from __future__ import annotations

from django import template

from predictions.taxonomy import genre_name as _genre_name

register = template.Library()


@register.filter
def genre_name(slug: str) -> str:
    return _genre_name(slug) if slug else ""


@register.filter
def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"
